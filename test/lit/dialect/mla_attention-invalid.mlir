// RUN: fathom-opt %s -split-input-file -verify-diagnostics

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
fathom.param @kv_b_wrong : tensor<120x32xf32>
func.func @kv_b_shape(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{kv_b_proj @kv_b_wrong must be [128, 32], got [120, 32]}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b_wrong, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
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
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, q_a_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
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
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
fathom.param @q_a : tensor<32x64xf32>
fathom.param @q_a_norm : tensor<32xf32>
fathom.param @q_b : tensor<96x32xf32>
func.func @partial_lora(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{needs q_proj, or all of q_a_proj, q_a_layernorm and q_b_proj}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_a_proj = @q_a, q_b_proj = @q_b, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
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
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 16, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
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
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kv_a_wide, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
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
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x4xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
func.func @input_rank(%x: tensor<6x64xf32>, %p: tensor<6x1xi64>, %m: tensor<2x5xi1>) -> tensor<6x64xf32> {
  // expected-error @below {{input must be [batch, seq, hidden]}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<6x64xf32>, tensor<6x1xi64>, tensor<2x5xi1>
  return %0 : tensor<6x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
func.func @key_mask_batch(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<3x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{key_mask must be [batch, keys]}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<3x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
func.func @cache_start_shape(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>, %s: tensor<3xi64>) -> tensor<2x3x64xf32> {
  // expected-error @below {{cache_start must be [batch]}}
  %0 = fathom.mla_attention %x, %p, %m cache_start %s {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>, tensor<3xi64>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
func.func @cache_start_rank(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>, %s: tensor<2x1xi64>) -> tensor<2x3x64xf32> {
  // expected-error @below {{cache_start must be [batch]}}
  %0 = fathom.mla_attention %x, %p, %m cache_start %s {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>, tensor<2x1xi64>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
func.func @zero_heads(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{head counts and dimensions must be positive}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 0 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
func.func @scale(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{scale and lora_norm_epsilon must be positive}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.0 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
func.func @epsilon(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{scale and lora_norm_epsilon must be positive}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = -1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
fathom.param @q_a_bias : tensor<32xf32>
func.func @bias_without_lora(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{q_a_proj_bias needs q_a_proj}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, q_a_proj_bias = @q_a_bias, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
func.func @dynamic_hidden(%x: tensor<2x3x?xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x?xf32> {
  // expected-error @below {{the hidden dimension must be static}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x?xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x?xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
fathom.param @q_small : tensor<64x64xf32>
func.func @q_proj_shape(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{q_proj @q_small must be [96, 64], got [64, 64]}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q_small, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
fathom.param @q_a : tensor<32x64xf32>
fathom.param @q_a_norm : tensor<32xf32>
fathom.param @q_b : tensor<96x32xf32>
fathom.param @q_b_wrong : tensor<96x16xf32>
func.func @q_b_shape(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{q_b_proj @q_b_wrong must be [96, 32], got [96, 16]}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_a_proj = @q_a, q_a_layernorm = @q_a_norm, q_b_proj = @q_b_wrong, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
fathom.param @q_a : tensor<32x64xf32>
fathom.param @q_a_norm : tensor<32xf32>
fathom.param @q_b : tensor<96x32xf32>
func.func @q_a_norm_shape(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{q_a_layernorm @kv_b must be [32], got [128, 32]}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_a_proj = @q_a, q_a_layernorm = @kv_b, q_b_proj = @q_b, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
fathom.param @q_a : tensor<32x64xf32>
fathom.param @q_a_norm : tensor<32xf32>
fathom.param @q_b : tensor<96x32xf32>
func.func @q_a_missing(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{q_a_proj @nowhere does not name a fathom.param}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_a_proj = @nowhere, q_a_layernorm = @q_a_norm, q_b_proj = @q_b, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
fathom.param @q_a : tensor<32x64xf32>
fathom.param @q_a_norm : tensor<32xf32>
fathom.param @q_b : tensor<96x32xf32>
fathom.param @kv_a_norm_long : tensor<40xf32>
func.func @q_a_bias_shape(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{q_a_proj_bias @kv_a_norm_long must be [32], got [40]}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_a_proj = @q_a, q_a_layernorm = @q_a_norm, q_b_proj = @q_b, q_a_proj_bias = @kv_a_norm_long, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
func.func @kv_a_norm_shape(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{kv_a_layernorm @q must be [32], got [96, 64]}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @q, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
func.func @o_shape(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{o_proj @kv_b must be [64, 64], got [128, 32]}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @kv_b} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
func.func @kv_a_bias_shape(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{kv_a_proj_with_mqa_bias @kv_a_norm must be [40], got [32]}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_proj_with_mqa_bias = @kv_a_norm, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
func.func @o_bias_shape(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{o_proj_bias @kv_a_norm must be [64], got [32]}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o, o_proj_bias = @kv_a_norm} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
func.func @missing_rope_mode(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{'fathom.mla_attention' op requires attribute 'rope_mode'}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
func.func @rope_zero_factor(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{rope factor and attention_factor must be positive}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 0.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
func.func @negative_layer(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{layer index must be non-negative}}
  %0 = fathom.mla_attention %x, %p, %m {layer = -1 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
func.func @negative_heads(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{head counts and dimensions must be positive}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = -4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}

// -----

fathom.param @q : tensor<96x64xf32>
fathom.param @kv_a : tensor<40x64xf32>
fathom.param @kv_a_norm : tensor<32xf32>
fathom.param @kv_b : tensor<128x32xf32>
fathom.param @o : tensor<64x64xf32>
func.func @negative_kv_lora_rank(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %m: tensor<2x5xi1>) -> tensor<2x3x64xf32> {
  // expected-error @below {{head counts and dimensions must be positive}}
  %0 = fathom.mla_attention %x, %p, %m {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = -32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<2x5xi1>
  return %0 : tensor<2x3x64xf32>
}
