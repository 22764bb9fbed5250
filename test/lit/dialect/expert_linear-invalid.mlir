// RUN: fathom-opt %s -split-input-file -verify-diagnostics

fathom.param @e0 : tensor<32x64xf32>
func.func @input_rank(%x: tensor<2x3x64xf32>, %offsets: tensor<2xi32>) -> tensor<2x3x32xf32> {
  // expected-error @below {{maps grouped rows [rows, in] to [rows, out] of the same element type}}
  %0 = fathom.expert_linear %x, %offsets {weights = [@e0]} : tensor<2x3x64xf32>, tensor<2xi32> -> tensor<2x3x32xf32>
  return %0 : tensor<2x3x32xf32>
}

// -----

fathom.param @e0 : tensor<32x64xbf16>
func.func @dtype(%x: tensor<?x64xbf16>, %offsets: tensor<2xi32>) -> tensor<?x32xf32> {
  // expected-error @below {{maps grouped rows [rows, in] to [rows, out] of the same element type}}
  %0 = fathom.expert_linear %x, %offsets {weights = [@e0]} : tensor<?x64xbf16>, tensor<2xi32> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

fathom.param @e0 : tensor<32x64xf32>
fathom.param @e1 : tensor<32x64xf32>
func.func @offsets(%x: tensor<?x64xf32>, %offsets: tensor<2xi32>) -> tensor<?x32xf32> {
  // expected-error @below {{offsets must be [3], one past each expert's weight}}
  %0 = fathom.expert_linear %x, %offsets {weights = [@e0, @e1]} : tensor<?x64xf32>, tensor<2xi32> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

fathom.param @e0 : tensor<32x64xf32>
fathom.param @e1 : tensor<32x64xf32>
func.func @offsets_rank(%x: tensor<?x64xf32>, %offsets: tensor<3x1xi32>) -> tensor<?x32xf32> {
  // expected-error @below {{offsets must be [3], one past each expert's weight}}
  %0 = fathom.expert_linear %x, %offsets {weights = [@e0, @e1]} : tensor<?x64xf32>, tensor<3x1xi32> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

fathom.param @e0 : tensor<32x64xf32>
fathom.param @e1 : tensor<64x32xf32>
func.func @weight_shape(%x: tensor<?x64xf32>, %offsets: tensor<3xi32>) -> tensor<?x32xf32> {
  // expected-error @below {{expert weight @e1 must be [32, 64], got [64, 32]}}
  %0 = fathom.expert_linear %x, %offsets {weights = [@e0, @e1]} : tensor<?x64xf32>, tensor<3xi32> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

fathom.param @e0 : tensor<32x64xf32>
func.func @weight_missing(%x: tensor<?x64xf32>, %offsets: tensor<3xi32>) -> tensor<?x32xf32> {
  // expected-error @below {{expert weight @e1 does not name a fathom.param}}
  %0 = fathom.expert_linear %x, %offsets {weights = [@e0, @e1]} : tensor<?x64xf32>, tensor<3xi32> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}
