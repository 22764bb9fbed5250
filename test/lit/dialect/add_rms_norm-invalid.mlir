// RUN: fathom-opt %s -split-input-file -verify-diagnostics

fathom.param @norm : tensor<32xf32>
func.func @hidden_mismatch(%x: tensor<2x64xf32>, %y: tensor<2x64xf32>) -> tensor<2x64xf32> {
  // expected-error @below {{input hidden size 64 does not match weight @norm size 32}}
  %0:2 = fathom.add_rms_norm %x, %y, @norm eps 1.0e-6 : tensor<2x64xf32>
  return %0#1 : tensor<2x64xf32>
}

// -----

fathom.param @norm : tensor<64xf32>
func.func @epsilon(%x: tensor<2x64xf32>, %y: tensor<2x64xf32>) -> tensor<2x64xf32> {
  // expected-error @below {{epsilon must be positive}}
  %0:2 = fathom.add_rms_norm %x, %y, @norm eps 0.0 : tensor<2x64xf32>
  return %0#1 : tensor<2x64xf32>
}

// -----

fathom.param @norm : tensor<64xf32>
func.func @types(%x: tensor<2x64xf32>, %y: tensor<2x64xbf16>) -> tensor<2x64xf32> {
  // expected-error @below {{all of {lhs, rhs, sum, result} have same type}}
  %0:2 = "fathom.add_rms_norm"(%x, %y) {weight = @norm, epsilon = 1.0e-6 : f32} : (tensor<2x64xf32>, tensor<2x64xbf16>) -> (tensor<2x64xf32>, tensor<2x64xf32>)
  return %0#1 : tensor<2x64xf32>
}
