// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @dim_mismatch(%q: tensor<2x3x4x8xf32>, %pos: tensor<2x3xi64>) -> tensor<2x3x4x8xf32> {
  // expected-error @below {{input last dimension 8 does not match the rope dim 16}}
  %0 = fathom.rope %q, %pos <theta = 10000.0, dim = 16, interleaved = true, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0> : tensor<2x3x4x8xf32>, tensor<2x3xi64>
  return %0 : tensor<2x3x4x8xf32>
}

// -----

func.func @positions_shape(%q: tensor<2x3x4x8xf32>, %pos: tensor<2x5xi64>) -> tensor<2x3x4x8xf32> {
  // expected-error @below {{positions dimension 1 is 5 but the input's is 3}}
  %0 = fathom.rope %q, %pos <theta = 10000.0, dim = 8, interleaved = true, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0> : tensor<2x3x4x8xf32>, tensor<2x5xi64>
  return %0 : tensor<2x3x4x8xf32>
}

// -----

func.func @input_rank(%q: tensor<8xf32>, %pos: tensor<2x5xi64>) -> tensor<8xf32> {
  // expected-error @below {{input must be [batch, seq, dim] or [batch, seq, heads, dim], got rank 1}}
  %0 = fathom.rope %q, %pos <theta = 10000.0, dim = 8, interleaved = true, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0> : tensor<8xf32>, tensor<2x5xi64>
  return %0 : tensor<8xf32>
}

// -----

func.func @odd_dim(%q: tensor<2x3x7xf32>, %pos: tensor<2x3xi64>) -> tensor<2x3x7xf32> {
  // expected-error @below {{rope dim must be a positive even number, got 7}}
  %0 = fathom.rope %q, %pos <theta = 10000.0, dim = 7, interleaved = true, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0> : tensor<2x3x7xf32>, tensor<2x3xi64>
  return %0 : tensor<2x3x7xf32>
}

// -----

func.func @yarn_context(%q: tensor<2x3x8xf32>, %pos: tensor<2x3xi64>) -> tensor<2x3x8xf32> {
  // expected-error @below {{yarn needs original_max_positions > 0, got 0}}
  %0 = fathom.rope %q, %pos <theta = 10000.0, dim = 8, interleaved = true, scaling = yarn, factor = 40.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0> : tensor<2x3x8xf32>, tensor<2x3xi64>
  return %0 : tensor<2x3x8xf32>
}
