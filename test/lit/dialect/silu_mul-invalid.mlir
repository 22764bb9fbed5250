// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @shapes(%g: tensor<2x128xf32>, %u: tensor<2x64xf32>) -> tensor<2x128xf32> {
  // expected-error @below {{requires the same type for all operands and results}}
  %0 = "fathom.silu_mul"(%g, %u) : (tensor<2x128xf32>, tensor<2x64xf32>) -> tensor<2x128xf32>
  return %0 : tensor<2x128xf32>
}
