// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @data_dtype(%q: tensor<200x160xi8>, %s: tensor<2x2xf32>) -> tensor<200x160xbf16> {
  // expected-error @below {{dequantizes f8E4M3FN, f8E5M2 or ui4 data, got 'i8'}}
  %0 = fathom.weight_dequantize %q, %s block(128, 128) : tensor<200x160xi8>, tensor<2x2xf32> -> tensor<200x160xbf16>
  return %0 : tensor<200x160xbf16>
}

// -----

func.func @result_shape(%q: tensor<200x160xf8E4M3FN>, %s: tensor<2x2xf32>) -> tensor<160x200xbf16> {
  // expected-error @below {{maps 2-D data to the same shape in f32 or bf16}}
  %0 = fathom.weight_dequantize %q, %s block(128, 128) : tensor<200x160xf8E4M3FN>, tensor<2x2xf32> -> tensor<160x200xbf16>
  return %0 : tensor<160x200xbf16>
}

// -----

func.func @result_dtype(%q: tensor<200x160xf8E4M3FN>, %s: tensor<2x2xf32>) -> tensor<200x160xf16> {
  // expected-error @below {{maps 2-D data to the same shape in f32 or bf16}}
  %0 = fathom.weight_dequantize %q, %s block(128, 128) : tensor<200x160xf8E4M3FN>, tensor<2x2xf32> -> tensor<200x160xf16>
  return %0 : tensor<200x160xf16>
}

// -----

func.func @rank(%q: tensor<4x50x160xf8E4M3FN>, %s: tensor<2x2xf32>) -> tensor<4x50x160xbf16> {
  // expected-error @below {{maps 2-D data to the same shape in f32 or bf16}}
  %0 = fathom.weight_dequantize %q, %s block(128, 128) : tensor<4x50x160xf8E4M3FN>, tensor<2x2xf32> -> tensor<4x50x160xbf16>
  return %0 : tensor<4x50x160xbf16>
}

// -----

func.func @block_size(%q: tensor<200x160xf8E4M3FN>, %s: tensor<2x2xf32>) -> tensor<200x160xbf16> {
  // expected-error @below {{block sizes must be positive}}
  %0 = fathom.weight_dequantize %q, %s block(0, 128) : tensor<200x160xf8E4M3FN>, tensor<2x2xf32> -> tensor<200x160xbf16>
  return %0 : tensor<200x160xbf16>
}

// -----

func.func @negative_block_size(%q: tensor<200x160xf8E4M3FN>, %s: tensor<2x2xf32>) -> tensor<200x160xbf16> {
  // expected-error @below {{block sizes must be positive}}
  %0 = fathom.weight_dequantize %q, %s block(-128, 128) : tensor<200x160xf8E4M3FN>, tensor<2x2xf32> -> tensor<200x160xbf16>
  return %0 : tensor<200x160xbf16>
}

// -----

// Edge blocks are partial: 200 x 160 in 128 x 128 blocks needs 2 x 2 scales.
func.func @scale_shape(%q: tensor<200x160xf8E4M3FN>, %s: tensor<1x1xf32>) -> tensor<200x160xbf16> {
  // expected-error @below {{scale must be 'tensor<2x2xf32>'}}
  %0 = fathom.weight_dequantize %q, %s block(128, 128) : tensor<200x160xf8E4M3FN>, tensor<1x1xf32> -> tensor<200x160xbf16>
  return %0 : tensor<200x160xbf16>
}

// -----

func.func @scale_dtype(%q: tensor<200x160xf8E4M3FN>, %s: tensor<2x2xbf16>) -> tensor<200x160xbf16> {
  // expected-error @below {{scale must be 'tensor<2x2xf32>'}}
  %0 = fathom.weight_dequantize %q, %s block(128, 128) : tensor<200x160xf8E4M3FN>, tensor<2x2xbf16> -> tensor<200x160xbf16>
  return %0 : tensor<200x160xbf16>
}
