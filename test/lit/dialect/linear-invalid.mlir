// RUN: fathom-opt %s -split-input-file -verify-diagnostics

fathom.param @w : tensor<96x64xf32>
func.func @in_mismatch(%x: tensor<2x32xf32>) -> tensor<2x96xf32> {
  // expected-error @below {{input hidden size 32 does not match weight @w input size 64}}
  %0 = fathom.linear %x, @w : tensor<2x32xf32> -> tensor<2x96xf32>
  return %0 : tensor<2x96xf32>
}

// -----

fathom.param @w : tensor<96x64xf32>
func.func @out_mismatch(%x: tensor<2x64xf32>) -> tensor<2x48xf32> {
  // expected-error @below {{result size 48 does not match weight @w output size 96}}
  %0 = fathom.linear %x, @w : tensor<2x64xf32> -> tensor<2x48xf32>
  return %0 : tensor<2x48xf32>
}

// -----

fathom.param @w : tensor<96x64x2xf32>
func.func @weight_rank(%x: tensor<2x64xf32>) -> tensor<2x96xf32> {
  // expected-error @below {{weight @w must have rank 2 [out, in], got rank 3}}
  %0 = fathom.linear %x, @w : tensor<2x64xf32> -> tensor<2x96xf32>
  return %0 : tensor<2x96xf32>
}

// -----

fathom.param @w : tensor<96x64xf32>
fathom.param @b : tensor<64xf32>
func.func @bias_shape(%x: tensor<2x64xf32>) -> tensor<2x96xf32> {
  // expected-error @below {{bias @b must be [96], got 'tensor<64xf32>'}}
  %0 = fathom.linear %x, @w bias @b : tensor<2x64xf32> -> tensor<2x96xf32>
  return %0 : tensor<2x96xf32>
}

// -----

fathom.param @w : tensor<96x64xf32>
func.func @leading_dims(%x: tensor<2x3x64xf32>) -> tensor<2x4x96xf32> {
  // expected-error @below {{result dimension 1 is 4 but the input's is 3}}
  %0 = fathom.linear %x, @w : tensor<2x3x64xf32> -> tensor<2x4x96xf32>
  return %0 : tensor<2x4x96xf32>
}

// -----

fathom.param @w : tensor<96x64xf32>
func.func @dtype_mismatch(%x: tensor<2x64xf32>) -> tensor<2x96xbf16> {
  // expected-error @below {{result element type 'bf16' must be the input's 'f32' (or f32 for a bf16 input)}}
  %0 = fathom.linear %x, @w : tensor<2x64xf32> -> tensor<2x96xbf16>
  return %0 : tensor<2x96xbf16>
}

// -----

// Only bf16 widens to an f32 result.
fathom.param @w : tensor<96x64xf16>
func.func @f16_widening(%x: tensor<2x64xf16>) -> tensor<2x96xf32> {
  // expected-error @below {{result element type 'f32' must be the input's 'f16' (or f32 for a bf16 input)}}
  %0 = fathom.linear %x, @w : tensor<2x64xf16> -> tensor<2x96xf32>
  return %0 : tensor<2x96xf32>
}

// -----

fathom.param @w : tensor<96x64xbf16>
func.func @bf16_to_f16(%x: tensor<2x64xbf16>) -> tensor<2x96xf16> {
  // expected-error @below {{result element type 'f16' must be the input's 'bf16' (or f32 for a bf16 input)}}
  %0 = fathom.linear %x, @w : tensor<2x64xbf16> -> tensor<2x96xf16>
  return %0 : tensor<2x96xf16>
}

// -----

fathom.param @w : tensor<96x64xf32>
func.func @weight_missing(%x: tensor<2x64xf32>) -> tensor<2x96xf32> {
  // expected-error @below {{weight @nowhere does not name a fathom.param}}
  %0 = fathom.linear %x, @nowhere : tensor<2x64xf32> -> tensor<2x96xf32>
  return %0 : tensor<2x96xf32>
}
