// RUN: fathom-opt %s -split-input-file -verify-diagnostics

fathom.param @w : tensor<2x64x32xf32>
func.func @rows(%x: tensor<4x32xf32>, %offsets: tensor<3xi32>) -> tensor<5x64xf32> {
  // expected-error @below {{maps grouped rows [rows, in] to [rows, out] of the same element type}}
  %0 = fathom.grouped_linear %x, %offsets, @w : tensor<4x32xf32>, tensor<3xi32> -> tensor<5x64xf32>
  return %0 : tensor<5x64xf32>
}

// -----

fathom.param @w : tensor<2x32x64xf32>
func.func @transposed(%x: tensor<?x32xf32>, %offsets: tensor<3xi32>) -> tensor<?x64xf32> {
  // expected-error @below {{stacked expert weight @w must be [2, 64, 32], got [2, 32, 64]}}
  %0 = fathom.grouped_linear %x, %offsets, @w : tensor<?x32xf32>, tensor<3xi32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

fathom.param @w : tensor<2x64x32xf32>
func.func @offsets_rank(%x: tensor<?x32xf32>, %offsets: tensor<3x1xi32>) -> tensor<?x64xf32> {
  // expected-error @below {{offsets must be a vector [experts + 1]}}
  %0 = fathom.grouped_linear %x, %offsets, @w : tensor<?x32xf32>, tensor<3x1xi32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}
