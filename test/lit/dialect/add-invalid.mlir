// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @dtypes(%a: tensor<2x64xf32>, %b: tensor<2x64xbf16>) -> tensor<2x64xf32> {
  // expected-error @below {{requires the same type for all operands and results}}
  %0 = "fathom.add"(%a, %b) : (tensor<2x64xf32>, tensor<2x64xbf16>) -> tensor<2x64xf32>
  return %0 : tensor<2x64xf32>
}
