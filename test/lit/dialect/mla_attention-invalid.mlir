// RUN: fathom-opt %s -split-input-file -verify-diagnostics

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
fathom.param @kv_b_wrong : tensor<120x32xf32>
func.func @kv_b_shape(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{kv_b_proj @kv_b_wrong must be [128, 32], got [120, 32]}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, interleaved = true, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b_wrong, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
func.func @both_q_paths(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{takes either q_proj or the q LoRA (q_a_proj, q_a_layernorm, q_b_proj)}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, interleaved = true, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0>, q_proj = @q, q_a_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
func.func @no_q_path(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{needs q_proj, or all of q_a_proj, q_a_layernorm and q_b_proj}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, interleaved = true, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0>, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
func.func @rope_dim(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{rope dim 16 must equal qk_rope_head_dim 8}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 16, interleaved = true, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
fathom.param @kv_a_wide : tensor<48x64xf32>
func.func @kv_a_shape(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{kv_a_proj_with_mqa @kv_a_wide must be [40, 64], got [48, 64]}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, interleaved = true, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0>, q_proj = @q, kv_a_proj_with_mqa = @kv_a_wide, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
func.func @positions(%x: tensor<2x3x64xf32>, %p: tensor<2x4xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{positions must be [batch, seq] like the input}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, interleaved = true, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x4xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}
