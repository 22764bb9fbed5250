// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @float_ids(%ids: tensor<2x7xf32>) -> tensor<2xi64> {
  // expected-error @below {{'fathom.last_token_rows' op operand #0 must be ranked tensor of signless integer values, but got 'tensor<2x7xf32>'}}
  %0 = fathom.last_token_rows %ids pad 1 : tensor<2x7xf32> -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

func.func @float_rows(%ids: tensor<2x7xi64>) -> tensor<2xf32> {
  // expected-error @below {{'fathom.last_token_rows' op result #0 must be ranked tensor of signless integer values, but got 'tensor<2xf32>'}}
  %0 = fathom.last_token_rows %ids pad 1 : tensor<2x7xi64> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @i32_rows(%ids: tensor<2x7xi64>) -> tensor<2xi32> {
  // expected-error @below {{maps ids [batch, seq] to one i64 row per sequence, got 'tensor<2x7xi64>' -> 'tensor<2xi32>'}}
  %0 = fathom.last_token_rows %ids pad 1 : tensor<2x7xi64> -> tensor<2xi32>
  return %0 : tensor<2xi32>
}

// -----

func.func @ids_rank1(%ids: tensor<7xi64>) -> tensor<1xi64> {
  // expected-error @below {{maps ids [batch, seq] to one i64 row per sequence, got 'tensor<7xi64>' -> 'tensor<1xi64>'}}
  %0 = fathom.last_token_rows %ids pad 1 : tensor<7xi64> -> tensor<1xi64>
  return %0 : tensor<1xi64>
}

// -----

func.func @ids_rank3(%ids: tensor<2x7x1xi64>) -> tensor<2xi64> {
  // expected-error @below {{maps ids [batch, seq] to one i64 row per sequence, got 'tensor<2x7x1xi64>' -> 'tensor<2xi64>'}}
  %0 = fathom.last_token_rows %ids pad 1 : tensor<2x7x1xi64> -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

func.func @rows_rank2(%ids: tensor<2x7xi64>) -> tensor<2x1xi64> {
  // expected-error @below {{maps ids [batch, seq] to one i64 row per sequence, got 'tensor<2x7xi64>' -> 'tensor<2x1xi64>'}}
  %0 = fathom.last_token_rows %ids pad 1 : tensor<2x7xi64> -> tensor<2x1xi64>
  return %0 : tensor<2x1xi64>
}

// -----

func.func @batch(%ids: tensor<2x7xi64>) -> tensor<3xi64> {
  // expected-error @below {{maps ids [batch, seq] to one i64 row per sequence, got 'tensor<2x7xi64>' -> 'tensor<3xi64>'}}
  %0 = fathom.last_token_rows %ids pad 1 : tensor<2x7xi64> -> tensor<3xi64>
  return %0 : tensor<3xi64>
}

// -----

func.func @rows_per_token(%ids: tensor<2x7xi64>) -> tensor<14xi64> {
  // expected-error @below {{maps ids [batch, seq] to one i64 row per sequence, got 'tensor<2x7xi64>' -> 'tensor<14xi64>'}}
  %0 = fathom.last_token_rows %ids pad 1 : tensor<2x7xi64> -> tensor<14xi64>
  return %0 : tensor<14xi64>
}

// -----

func.func @unranked_ids(%ids: tensor<*xi64>) -> tensor<2xi64> {
  // expected-error @below {{custom op 'fathom.last_token_rows' invalid kind of type specified: expected builtin.tensor, but found 'tensor<*xi64>'}}
  %0 = fathom.last_token_rows %ids pad 1 : tensor<*xi64> -> tensor<2xi64>
  return %0 : tensor<2xi64>
}
