// RUN: fathom-opt %s -split-input-file -verify-diagnostics

fathom.param @norm : tensor<32xf32>
func.func @hidden_mismatch(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  // expected-error @below {{input hidden size 64 does not match weight @norm size 32}}
  %0 = fathom.rms_norm %x, @norm eps 1.0e-6 : tensor<2x64xf32>
  return %0 : tensor<2x64xf32>
}

// -----

fathom.param @norm : tensor<64x64xf32>
func.func @weight_rank(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  // expected-error @below {{weight @norm must have rank 1 [hidden], got rank 2}}
  %0 = fathom.rms_norm %x, @norm eps 1.0e-6 : tensor<2x64xf32>
  return %0 : tensor<2x64xf32>
}

// -----

fathom.param @norm : tensor<64xf32>
func.func @epsilon(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  // expected-error @below {{epsilon must be positive}}
  %0 = fathom.rms_norm %x, @norm eps 0.0 : tensor<2x64xf32>
  return %0 : tensor<2x64xf32>
}
