// RUN: fathom-opt %s -split-input-file -verify-diagnostics

fathom.param @w : tensor<512x64xf32>
func.func @vocab(%h: tensor<2x64xf32>) -> tensor<2x500xf32> {
  // expected-error @below {{result size 500 does not match weight @w output size 512}}
  %0 = fathom.lm_head %h, @w : tensor<2x64xf32> -> tensor<2x500xf32>
  return %0 : tensor<2x500xf32>
}

// -----

fathom.param @w : tensor<512x64xf32>
func.func @hidden(%h: tensor<2x32xf32>) -> tensor<2x512xf32> {
  // expected-error @below {{input hidden size 32 does not match weight @w input size 64}}
  %0 = fathom.lm_head %h, @w : tensor<2x32xf32> -> tensor<2x512xf32>
  return %0 : tensor<2x512xf32>
}

// -----

fathom.param @w : tensor<512xf32>
func.func @rank(%h: tensor<2x64xf32>) -> tensor<2x512xf32> {
  // expected-error @below {{weight @w must have rank 2 [out, in], got rank 1}}
  %0 = fathom.lm_head %h, @w : tensor<2x64xf32> -> tensor<2x512xf32>
  return %0 : tensor<2x512xf32>
}

// -----

fathom.param @w : tensor<512x64xf32>
func.func @positions(%h: tensor<2x5x64xf32>) -> tensor<2x1x512xf32> {
  // expected-error @below {{result dimension 1 is 1 but the input's is 5}}
  %0 = fathom.lm_head %h, @w : tensor<2x5x64xf32> -> tensor<2x1x512xf32>
  return %0 : tensor<2x1x512xf32>
}
