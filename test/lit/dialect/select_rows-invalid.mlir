// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @input_rank(%x: tensor<10x64xf32>, %rows: tensor<2xi64>) -> tensor<2x64xf32> {
  // expected-error @below {{gathers [batch, seq, width] into [rows, width], got 'tensor<10x64xf32>' -> 'tensor<2x64xf32>'}}
  %0 = fathom.select_rows %x, %rows : tensor<10x64xf32>, tensor<2xi64> -> tensor<2x64xf32>
  return %0 : tensor<2x64xf32>
}

// -----

func.func @width(%x: tensor<2x5x64xf32>, %rows: tensor<2xi64>) -> tensor<2x32xf32> {
  // expected-error @below {{gathers [batch, seq, width] into [rows, width], got 'tensor<2x5x64xf32>' -> 'tensor<2x32xf32>'}}
  %0 = fathom.select_rows %x, %rows : tensor<2x5x64xf32>, tensor<2xi64> -> tensor<2x32xf32>
  return %0 : tensor<2x32xf32>
}

// -----

func.func @dtype(%x: tensor<2x5x64xf32>, %rows: tensor<2xi64>) -> tensor<2x64xbf16> {
  // expected-error @below {{gathers [batch, seq, width] into [rows, width], got 'tensor<2x5x64xf32>' -> 'tensor<2x64xbf16>'}}
  %0 = fathom.select_rows %x, %rows : tensor<2x5x64xf32>, tensor<2xi64> -> tensor<2x64xbf16>
  return %0 : tensor<2x64xbf16>
}

// -----

func.func @rows_rank(%x: tensor<2x5x64xf32>, %rows: tensor<2x1xi64>) -> tensor<2x64xf32> {
  // expected-error @below {{rows must be one-dimensional, got 'tensor<2x1xi64>'}}
  %0 = fathom.select_rows %x, %rows : tensor<2x5x64xf32>, tensor<2x1xi64> -> tensor<2x64xf32>
  return %0 : tensor<2x64xf32>
}

// -----

func.func @rows_type(%x: tensor<2x5x64xf32>, %rows: tensor<2xf32>) -> tensor<2x64xf32> {
  // expected-error @below {{'fathom.select_rows' op operand #1 must be ranked tensor of signless integer values, but got 'tensor<2xf32>'}}
  %0 = fathom.select_rows %x, %rows : tensor<2x5x64xf32>, tensor<2xf32> -> tensor<2x64xf32>
  return %0 : tensor<2x64xf32>
}

// -----

func.func @unranked_rows(%x: tensor<2x5x64xf32>, %rows: tensor<*xi64>) -> tensor<2x64xf32> {
  // expected-error @below {{custom op 'fathom.select_rows' invalid kind of type specified: expected builtin.tensor, but found 'tensor<*xi64>'}}
  %0 = fathom.select_rows %x, %rows : tensor<2x5x64xf32>, tensor<*xi64> -> tensor<2x64xf32>
  return %0 : tensor<2x64xf32>
}

// -----

func.func @unranked_rows_generic(%x: tensor<2x5x64xf32>, %rows: tensor<*xi64>) -> tensor<2x64xf32> {
  // expected-error @below {{'fathom.select_rows' op operand #1 must be ranked tensor of signless integer values, but got 'tensor<*xi64>'}}
  %0 = "fathom.select_rows"(%x, %rows) : (tensor<2x5x64xf32>, tensor<*xi64>) -> tensor<2x64xf32>
  return %0 : tensor<2x64xf32>
}
