// RUN: fathom-opt %s -split-input-file -verify-diagnostics

fathom.param @w : tensor<2x2x32x64xf32>
func.func @rank(%x: tensor<2x3x64xf32>, %offsets: tensor<3xi32>) -> tensor<2x3x32xf32> {
  // expected-error @below {{maps grouped rows [rows, in] to [rows, out] of the same element type}}
  %0 = fathom.grouped_gate_up %x, %offsets, @w : tensor<2x3x64xf32>, tensor<3xi32> -> tensor<2x3x32xf32>
  return %0 : tensor<2x3x32xf32>
}

// -----

fathom.param @w : tensor<2x2x32x64xf32>
func.func @dtype(%x: tensor<?x64xf32>, %offsets: tensor<3xi32>) -> tensor<?x32xbf16> {
  // expected-error @below {{maps grouped rows [rows, in] to [rows, out] of the same element type}}
  %0 = fathom.grouped_gate_up %x, %offsets, @w : tensor<?x64xf32>, tensor<3xi32> -> tensor<?x32xbf16>
  return %0 : tensor<?x32xbf16>
}

// -----

fathom.param @w : tensor<2x32x64xf32>
func.func @not_stacked_in_pairs(%x: tensor<?x64xf32>, %offsets: tensor<3xi32>) -> tensor<?x32xf32> {
  // expected-error @below {{stacked expert weight @w must be [2, 2, 32, 64], got [2, 32, 64]}}
  %0 = fathom.grouped_gate_up %x, %offsets, @w : tensor<?x64xf32>, tensor<3xi32> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

fathom.param @w : tensor<2x2x32x64xf32>
func.func @offsets(%x: tensor<?x64xf32>, %offsets: tensor<4xi32>) -> tensor<?x32xf32> {
  // expected-error @below {{offsets must be [3], one past each expert}}
  %0 = fathom.grouped_gate_up %x, %offsets, @w : tensor<?x64xf32>, tensor<4xi32> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

func.func @missing(%x: tensor<?x64xf32>, %offsets: tensor<3xi32>) -> tensor<?x32xf32> {
  // expected-error @below {{weight @w does not name a fathom.param}}
  %0 = fathom.grouped_gate_up %x, %offsets, @w : tensor<?x64xf32>, tensor<3xi32> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}
