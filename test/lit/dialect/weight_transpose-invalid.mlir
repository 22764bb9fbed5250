// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @rank1(%w: tensor<16xbf16>) -> tensor<16xbf16> {
  // expected-error @below {{transposes the last two dimensions of a tensor of rank >= 2}}
  %0 = fathom.weight_transpose %w : tensor<16xbf16> -> tensor<16xbf16>
  return %0 : tensor<16xbf16>
}

// -----

func.func @rank_change(%w: tensor<4x16x32xbf16>) -> tensor<64x32xbf16> {
  // expected-error @below {{transposes the last two dimensions of a tensor of rank >= 2}}
  %0 = fathom.weight_transpose %w : tensor<4x16x32xbf16> -> tensor<64x32xbf16>
  return %0 : tensor<64x32xbf16>
}

// -----

func.func @not_swapped(%w: tensor<4x16x32xbf16>) -> tensor<16x4x32xbf16> {
  // expected-error @below {{result must be 'tensor<4x16x32xbf16>' with the last two dimensions swapped}}
  %0 = fathom.weight_transpose %w : tensor<4x16x32xbf16> -> tensor<16x4x32xbf16>
  return %0 : tensor<16x4x32xbf16>
}

// -----

func.func @dtype(%w: tensor<16x32xbf16>) -> tensor<32x16xf32> {
  // expected-error @below {{element types differ: 'bf16' vs 'f32'}}
  %0 = fathom.weight_transpose %w : tensor<16x32xbf16> -> tensor<32x16xf32>
  return %0 : tensor<32x16xf32>
}
