// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @dim(%w: tensor<4x32x32xbf16>) -> tensor<4x32x32xbf16> {
  // expected-error @below {{dim 3 is not a dimension of 'tensor<4x32x32xbf16>'}}
  %0 = fathom.weight_slice %w dim 3[0, 16] : tensor<4x32x32xbf16> -> tensor<4x32x32xbf16>
  return %0 : tensor<4x32x32xbf16>
}

// -----

func.func @negative_dim(%w: tensor<4x32x32xbf16>) -> tensor<4x32x32xbf16> {
  // expected-error @below {{dim -1 is not a dimension of 'tensor<4x32x32xbf16>'}}
  %0 = fathom.weight_slice %w dim -1[0, 16] : tensor<4x32x32xbf16> -> tensor<4x32x32xbf16>
  return %0 : tensor<4x32x32xbf16>
}

// -----

func.func @past_end(%w: tensor<4x32x32xbf16>) -> tensor<4x16x32xbf16> {
  // expected-error @below {{a range of 16 at 24 lies outside dimension 1 of 'tensor<4x32x32xbf16>'}}
  %0 = fathom.weight_slice %w dim 1[24, 16] : tensor<4x32x32xbf16> -> tensor<4x16x32xbf16>
  return %0 : tensor<4x16x32xbf16>
}

// -----

func.func @empty(%w: tensor<4x32x32xbf16>) -> tensor<4x0x32xbf16> {
  // expected-error @below {{a range of 0 at 8 lies outside dimension 1 of 'tensor<4x32x32xbf16>'}}
  %0 = fathom.weight_slice %w dim 1[8, 0] : tensor<4x32x32xbf16> -> tensor<4x0x32xbf16>
  return %0 : tensor<4x0x32xbf16>
}

// -----

func.func @result_shape(%w: tensor<4x32x32xbf16>) -> tensor<4x16x16xbf16> {
  // expected-error @below {{result must have shape of the slice, got 'tensor<4x16x16xbf16>'}}
  %0 = fathom.weight_slice %w dim 1[0, 16] : tensor<4x32x32xbf16> -> tensor<4x16x16xbf16>
  return %0 : tensor<4x16x16xbf16>
}

// -----

func.func @dtype(%w: tensor<4x32x32xbf16>) -> tensor<4x16x32xf32> {
  // expected-error @below {{element types differ: 'bf16' vs 'f32'}}
  %0 = fathom.weight_slice %w dim 1[0, 16] : tensor<4x32x32xbf16> -> tensor<4x16x32xf32>
  return %0 : tensor<4x16x32xf32>
}

// -----

// offset is read as a signed value: -1 is before the start, not 2^64 - 1.
func.func @negative_offset(%w: tensor<4x32x32xbf16>) -> tensor<4x16x32xbf16> {
  // expected-error @below {{a range of 16 at -1 lies outside dimension 1 of 'tensor<4x32x32xbf16>'}}
  %0 = fathom.weight_slice %w dim 1[-1, 16] : tensor<4x32x32xbf16> -> tensor<4x16x32xbf16>
  return %0 : tensor<4x16x32xbf16>
}

// -----

func.func @negative_size(%w: tensor<4x32x32xbf16>) -> tensor<4x16x32xbf16> {
  // expected-error @below {{a range of -4 at 8 lies outside dimension 1 of 'tensor<4x32x32xbf16>'}}
  %0 = fathom.weight_slice %w dim 1[8, -4] : tensor<4x32x32xbf16> -> tensor<4x16x32xbf16>
  return %0 : tensor<4x16x32xbf16>
}

// -----

func.func @rank0(%w: tensor<bf16>) -> tensor<bf16> {
  // expected-error @below {{dim 0 is not a dimension of 'tensor<bf16>'}}
  %0 = fathom.weight_slice %w dim 0[0, 1] : tensor<bf16> -> tensor<bf16>
  return %0 : tensor<bf16>
}
