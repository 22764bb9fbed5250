// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @no_experts(%indices: tensor<?x?x4xi32>) -> (tensor<1xi32>, tensor<?xi32>, tensor<?xi32>) {
  // expected-error @below {{needs between 1 and 2^31 - 1 experts (offsets are i32)}}
  %offsets, %row_token, %slot_row = fathom.moe_dispatch %indices {num_experts = 0 : i64} : tensor<?x?x4xi32> -> tensor<1xi32>, tensor<?xi32>, tensor<?xi32>
  return %offsets, %row_token, %slot_row : tensor<1xi32>, tensor<?xi32>, tensor<?xi32>
}

// -----

func.func @offsets_size(%indices: tensor<?x?x4xi32>) -> (tensor<16xi32>, tensor<?xi32>, tensor<?xi32>) {
  // expected-error @below {{offsets must be [17]}}
  %offsets, %row_token, %slot_row = fathom.moe_dispatch %indices {num_experts = 16 : i64} : tensor<?x?x4xi32> -> tensor<16xi32>, tensor<?xi32>, tensor<?xi32>
  return %offsets, %row_token, %slot_row : tensor<16xi32>, tensor<?xi32>, tensor<?xi32>
}

// -----

func.func @offsets_rank(%indices: tensor<?x?x4xi32>) -> (tensor<1x17xi32>, tensor<?xi32>, tensor<?xi32>) {
  // expected-error @below {{offsets must be [17]}}
  %offsets, %row_token, %slot_row = fathom.moe_dispatch %indices {num_experts = 16 : i64} : tensor<?x?x4xi32> -> tensor<1x17xi32>, tensor<?xi32>, tensor<?xi32>
  return %offsets, %row_token, %slot_row : tensor<1x17xi32>, tensor<?xi32>, tensor<?xi32>
}

// -----

func.func @row_token_rank(%indices: tensor<?x?x4xi32>) -> (tensor<17xi32>, tensor<?x4xi32>, tensor<?xi32>) {
  // expected-error @below {{row_token must be one-dimensional, got 'tensor<?x4xi32>'}}
  %offsets, %row_token, %slot_row = fathom.moe_dispatch %indices {num_experts = 16 : i64} : tensor<?x?x4xi32> -> tensor<17xi32>, tensor<?x4xi32>, tensor<?xi32>
  return %offsets, %row_token, %slot_row : tensor<17xi32>, tensor<?x4xi32>, tensor<?xi32>
}

// -----

func.func @slot_row_rank(%indices: tensor<?x?x4xi32>) -> (tensor<17xi32>, tensor<?xi32>, tensor<?x?x4xi32>) {
  // expected-error @below {{slot_row must be one-dimensional, got 'tensor<?x?x4xi32>'}}
  %offsets, %row_token, %slot_row = fathom.moe_dispatch %indices {num_experts = 16 : i64} : tensor<?x?x4xi32> -> tensor<17xi32>, tensor<?xi32>, tensor<?x?x4xi32>
  return %offsets, %row_token, %slot_row : tensor<17xi32>, tensor<?xi32>, tensor<?x?x4xi32>
}

// -----

func.func @indices_dtype(%indices: tensor<?x?x4xi64>) -> (tensor<17xi32>, tensor<?xi32>, tensor<?xi32>) {
  // expected-error @below {{'fathom.moe_dispatch' op operand #0 must be ranked tensor of 32-bit signless integer values, but got 'tensor<?x?x4xi64>'}}
  %offsets, %row_token, %slot_row = fathom.moe_dispatch %indices {num_experts = 16 : i64} : tensor<?x?x4xi64> -> tensor<17xi32>, tensor<?xi32>, tensor<?xi32>
  return %offsets, %row_token, %slot_row : tensor<17xi32>, tensor<?xi32>, tensor<?xi32>
}

// -----

// num_experts is read as a signed value: -1 is no expert count (not 2^64 - 1).
func.func @negative_experts(%indices: tensor<?x?x4xi32>) -> (tensor<0xi32>, tensor<?xi32>, tensor<?xi32>) {
  // expected-error @below {{needs between 1 and 2^31 - 1 experts (offsets are i32)}}
  %offsets, %row_token, %slot_row = fathom.moe_dispatch %indices {num_experts = -1 : i64} : tensor<?x?x4xi32> -> tensor<0xi32>, tensor<?xi32>, tensor<?xi32>
  return %offsets, %row_token, %slot_row : tensor<0xi32>, tensor<?xi32>, tensor<?xi32>
}
