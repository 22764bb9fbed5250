// RUN: fathom-opt %s | fathom-opt | FileCheck %s

// DeepSeek-V3 shaped (hidden 64, 4 heads, q_lora 32, kv_lora 32, nope 16, rope 8, v 16).
fathom.param @q_a : tensor<32x64xbf16>
fathom.param @q_a_norm : tensor<32xbf16>
fathom.param @q_b : tensor<96x32xbf16>
fathom.param @kv_a : tensor<40x64xbf16>
fathom.param @kv_a_norm : tensor<32xbf16>
fathom.param @kv_b : tensor<128x32xbf16>
fathom.param @o : tensor<64x64xbf16>
// V2-Lite shaped: a plain q_proj.
fathom.param @q : tensor<96x64xbf16>
// Biases (Kimi-style attention biases).
fathom.param @q_a_bias : tensor<32xbf16>
fathom.param @kv_a_bias : tensor<40xbf16>
fathom.param @o_bias : tensor<64xbf16>

// CHECK-LABEL: func.func @v3_layer
func.func @v3_layer(%x: tensor<?x?x64xbf16>, %pos: tensor<?x?xi64>, %mask: tensor<?x?xi1>, %start: tensor<?xi64>) -> tensor<?x?x64xbf16> {
  // CHECK: fathom.mla_attention %{{.*}}, %{{.*}}, %{{.*}} cache_start %{{.*}} {kv_a_layernorm = @kv_a_norm, kv_a_proj_with_mqa = @kv_a, kv_b_proj = @kv_b, kv_lora_rank = 32 : i64, layer = 0 : i64
  // CHECK-SAME: q_a_layernorm = @q_a_norm, q_a_proj = @q_a, q_b_proj = @q_b
  // CHECK-SAME: rope = #fathom.rope<theta = 1.000000e+04, dim = 8, scaling = yarn, factor = 4.000000e+01, original_max_positions = 4096, beta_fast = 3.200000e+01, beta_slow = 1.000000e+00, attention_factor = 1.000000e+00, truncate = true>, rope_mode = #fathom.rope_mode<interleaved>
  // CHECK-SAME: : tensor<?x?x64xbf16>, tensor<?x?xi64>, tensor<?x?xi1>, tensor<?xi64>
  %0 = fathom.mla_attention %x, %pos, %mask cache_start %start {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = yarn, factor = 40.0, original_max_positions = 4096, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = true>, rope_mode = #fathom.rope_mode<interleaved>, q_a_proj = @q_a, q_a_layernorm = @q_a_norm, q_b_proj = @q_b, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<?x?x64xbf16>, tensor<?x?xi64>, tensor<?x?xi1>, tensor<?xi64>
  return %0 : tensor<?x?x64xbf16>
}

// Without cache_start the layer attends only to this call's tokens (classification).
// CHECK-LABEL: func.func @v2_lite_layer
func.func @v2_lite_layer(%x: tensor<?x?x64xbf16>, %pos: tensor<?x?xi64>, %mask: tensor<?x?xi1>) -> tensor<?x?x64xbf16> {
  // CHECK: fathom.mla_attention %{{.*}}, %{{.*}}, %{{.*}} {
  // CHECK-SAME: q_proj = @q
  // CHECK-SAME: rope_mode = #fathom.rope_mode<complex>
  // CHECK-SAME: : tensor<?x?x64xbf16>, tensor<?x?xi64>, tensor<?x?xi1>{{$}}
  %0 = fathom.mla_attention %x, %pos, %mask {layer = 1 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<complex>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<?x?x64xbf16>, tensor<?x?xi64>, tensor<?x?xi1>
  return %0 : tensor<?x?x64xbf16>
}

// CHECK-LABEL: func.func @biased_layer
func.func @biased_layer(%x: tensor<2x3x64xbf16>, %pos: tensor<2x3xi32>, %mask: tensor<2x7xi1>, %start: tensor<2xi32>) -> tensor<2x3x64xbf16> {
  // CHECK: fathom.mla_attention
  // CHECK-SAME: kv_a_proj_with_mqa_bias = @kv_a_bias
  // CHECK-SAME: o_proj_bias = @o_bias
  // CHECK-SAME: q_a_proj_bias = @q_a_bias
  // CHECK-SAME: rope_mode = #fathom.rope_mode<rotate_half>
  %0 = fathom.mla_attention %x, %pos, %mask cache_start %start {layer = 2 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 50000.0, dim = 8, scaling = linear, factor = 2.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<rotate_half>, q_a_proj = @q_a, q_a_layernorm = @q_a_norm, q_b_proj = @q_b, q_a_proj_bias = @q_a_bias, kv_a_proj_with_mqa = @kv_a, kv_a_proj_with_mqa_bias = @kv_a_bias, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o, o_proj_bias = @o_bias} : tensor<2x3x64xbf16>, tensor<2x3xi32>, tensor<2x7xi1>, tensor<2xi32>
  return %0 : tensor<2x3x64xbf16>
}
