// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @width() -> tensor<16x8xf32> {
  // expected-error @below {{result must be [positions, 4] of f32 or bf16, got 'tensor<16x8xf32>'}}
  %0 = fathom.rope_table <cos> <theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false> : tensor<16x8xf32>
  return %0 : tensor<16x8xf32>
}

// -----

func.func @rank() -> tensor<64xf32> {
  // expected-error @below {{result must be [positions, 4] of f32 or bf16, got 'tensor<64xf32>'}}
  %0 = fathom.rope_table <sin> <theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false> : tensor<64xf32>
  return %0 : tensor<64xf32>
}

// -----

func.func @dtype() -> tensor<16x4xf16> {
  // expected-error @below {{result must be [positions, 4] of f32 or bf16, got 'tensor<16x4xf16>'}}
  %0 = fathom.rope_table <cos> <theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false> : tensor<16x4xf16>
  return %0 : tensor<16x4xf16>
}

// -----

func.func @bad_part() -> tensor<16x4xf32> {
  // expected-error @below {{expected ::mlir::fathom::TablePart to be one of: cos, sin}}
  // expected-error @below {{failed to parse Fathom_TablePartAttr parameter 'value' which is to be a `::mlir::fathom::TablePart`}}
  %0 = fathom.rope_table <tan> <theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false> : tensor<16x4xf32>
  return %0 : tensor<16x4xf32>
}

// -----

// The RopeAttr parameter checks.
func.func @odd_dim() -> tensor<16x3xf32> {
  // expected-error @below {{rope dim must be a positive even number, got 7}}
  %0 = fathom.rope_table <cos> <theta = 10000.0, dim = 7, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false> : tensor<16x3xf32>
  return %0 : tensor<16x3xf32>
}

// -----

func.func @theta() -> tensor<16x4xf32> {
  // expected-error @below {{rope theta must be positive, got 0.000000e+00}}
  %0 = fathom.rope_table <cos> <theta = 0.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false> : tensor<16x4xf32>
  return %0 : tensor<16x4xf32>
}

// -----

func.func @factor() -> tensor<16x4xf32> {
  // expected-error @below {{rope factor and attention_factor must be positive}}
  %0 = fathom.rope_table <cos> <theta = 10000.0, dim = 8, scaling = linear, factor = -2.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false> : tensor<16x4xf32>
  return %0 : tensor<16x4xf32>
}

// -----

func.func @attention_factor() -> tensor<16x4xf32> {
  // expected-error @below {{rope factor and attention_factor must be positive}}
  %0 = fathom.rope_table <sin> <theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 0.0, truncate = false> : tensor<16x4xf32>
  return %0 : tensor<16x4xf32>
}

// -----

func.func @yarn_context() -> tensor<16x4xf32> {
  // expected-error @below {{yarn needs original_max_positions > 0, got 0}}
  %0 = fathom.rope_table <cos> <theta = 10000.0, dim = 8, scaling = yarn, factor = 40.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = true> : tensor<16x4xf32>
  return %0 : tensor<16x4xf32>
}

// -----

func.func @yarn_betas() -> tensor<16x4xf32> {
  // expected-error @below {{yarn needs beta_fast > beta_slow, got 1.000000e+00 and 3.200000e+01}}
  %0 = fathom.rope_table <cos> <theta = 10000.0, dim = 8, scaling = yarn, factor = 40.0, original_max_positions = 4096, beta_fast = 1.0, beta_slow = 32.0, attention_factor = 1.0, truncate = true> : tensor<16x4xf32>
  return %0 : tensor<16x4xf32>
}

// -----

// `interleaved` moved from the RopeAttr to the ops' rope_mode.
func.func @old_syntax() -> tensor<16x4xf32> {
  // expected-error @below {{duplicate or unknown struct parameter name: interleaved}}
  %0 = fathom.rope_table <cos> <theta = 10000.0, dim = 8, interleaved = true, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false> : tensor<16x4xf32>
  return %0 : tensor<16x4xf32>
}

// -----

func.func @llama3_context() -> tensor<16x4xf32> {
  // expected-error @below {{llama3 needs original_max_positions > 0, got 0}}
  %0 = fathom.rope_table <cos> <theta = 10000.0, dim = 8, scaling = llama3, factor = 8.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false, low_freq_factor = 1.0, high_freq_factor = 4.0> : tensor<16x4xf32>
  return %0 : tensor<16x4xf32>
}

// -----

func.func @llama3_bands() -> tensor<16x4xf32> {
  // expected-error @below {{llama3 needs high_freq_factor > low_freq_factor > 0, got 1.000000e+00 and 4.000000e+00}}
  %0 = fathom.rope_table <cos> <theta = 10000.0, dim = 8, scaling = llama3, factor = 8.0, original_max_positions = 8192, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false, low_freq_factor = 4.0, high_freq_factor = 1.0> : tensor<16x4xf32>
  return %0 : tensor<16x4xf32>
}

// -----

func.func @longrope_divisors() -> tensor<16x4xf32> {
  // expected-error @below {{longrope needs 4 divisors (dim / 2), got 3}}
  %0 = fathom.rope_table <cos> <theta = 10000.0, dim = 8, scaling = longrope, factor = 4.0, original_max_positions = 64, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false, divisors = [1.0, 1.5, 3.0]> : tensor<16x4xf32>
  return %0 : tensor<16x4xf32>
}

// -----

func.func @divisors_without_longrope() -> tensor<16x4xf32> {
  // expected-error @below {{rope divisors come with longrope scaling and only with it}}
  %0 = fathom.rope_table <cos> <theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false, divisors = [1.0, 1.5, 3.0, 7.0]> : tensor<16x4xf32>
  return %0 : tensor<16x4xf32>
}
