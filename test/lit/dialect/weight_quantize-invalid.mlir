// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @rank(%w: tensor<200xbf16>) -> (tensor<200xf8E4M3FN>, tensor<2x1xf32>) {
  // expected-error @below {{quantizes a 2-D tensor into f8E4M3FN data of the same shape}}
  %d, %s = fathom.weight_quantize %w block(128, 128) : tensor<200xbf16> -> tensor<200xf8E4M3FN>, tensor<2x1xf32>
  return %d, %s : tensor<200xf8E4M3FN>, tensor<2x1xf32>
}

// -----

func.func @data_shape(%w: tensor<200x160xbf16>) -> (tensor<160x200xf8E4M3FN>, tensor<2x2xf32>) {
  // expected-error @below {{quantizes a 2-D tensor into f8E4M3FN data of the same shape}}
  %d, %s = fathom.weight_quantize %w block(128, 128) : tensor<200x160xbf16> -> tensor<160x200xf8E4M3FN>, tensor<2x2xf32>
  return %d, %s : tensor<160x200xf8E4M3FN>, tensor<2x2xf32>
}

// -----

func.func @data_dtype(%w: tensor<200x160xbf16>) -> (tensor<200x160xf8E5M2>, tensor<2x2xf32>) {
  // expected-error @below {{quantizes a 2-D tensor into f8E4M3FN data of the same shape}}
  %d, %s = fathom.weight_quantize %w block(128, 128) : tensor<200x160xbf16> -> tensor<200x160xf8E5M2>, tensor<2x2xf32>
  return %d, %s : tensor<200x160xf8E5M2>, tensor<2x2xf32>
}

// -----

func.func @block_size(%w: tensor<200x160xbf16>) -> (tensor<200x160xf8E4M3FN>, tensor<2x2xf32>) {
  // expected-error @below {{block sizes must be positive}}
  %d, %s = fathom.weight_quantize %w block(128, 0) : tensor<200x160xbf16> -> tensor<200x160xf8E4M3FN>, tensor<2x2xf32>
  return %d, %s : tensor<200x160xf8E4M3FN>, tensor<2x2xf32>
}

// -----

func.func @scale_shape(%w: tensor<200x160xbf16>) -> (tensor<200x160xf8E4M3FN>, tensor<1x2xf32>) {
  // expected-error @below {{scale must be 'tensor<2x2xf32>'}}
  %d, %s = fathom.weight_quantize %w block(128, 128) : tensor<200x160xbf16> -> tensor<200x160xf8E4M3FN>, tensor<1x2xf32>
  return %d, %s : tensor<200x160xf8E4M3FN>, tensor<1x2xf32>
}

// -----

func.func @scale_dtype(%w: tensor<200x160xbf16>) -> (tensor<200x160xf8E4M3FN>, tensor<2x2xbf16>) {
  // expected-error @below {{scale must be 'tensor<2x2xf32>'}}
  %d, %s = fathom.weight_quantize %w block(128, 128) : tensor<200x160xbf16> -> tensor<200x160xf8E4M3FN>, tensor<2x2xbf16>
  return %d, %s : tensor<200x160xf8E4M3FN>, tensor<2x2xbf16>
}

// -----

func.func @negative_block_size(%w: tensor<200x160xbf16>) -> (tensor<200x160xf8E4M3FN>, tensor<2x2xf32>) {
  // expected-error @below {{block sizes must be positive}}
  %d, %s = fathom.weight_quantize %w block(128, -128) : tensor<200x160xbf16> -> tensor<200x160xf8E4M3FN>, tensor<2x2xf32>
  return %d, %s : tensor<200x160xf8E4M3FN>, tensor<2x2xf32>
}
