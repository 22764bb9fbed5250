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

// CHECK-LABEL: func.func @v3_layer
func.func @v3_layer(%x: tensor<?x?x64xbf16>, %pos: tensor<?x?xi64>, %mask: tensor<?x?xi1>) -> tensor<?x?x64xbf16> {
  // CHECK: fathom.mla_attention %{{.*}}, %{{.*}}, %{{.*}} {kv_a_layernorm = @kv_a_norm, kv_a_proj_with_mqa = @kv_a, kv_b_proj = @kv_b, kv_lora_rank = 32 : i64, layer = 0 : i64
  // CHECK-SAME: q_a_layernorm = @q_a_norm, q_a_proj = @q_a, q_b_proj = @q_b
  %0 = fathom.mla_attention %x, %pos, %mask {layer = 0 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, interleaved = true, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0>, q_a_proj = @q_a, q_a_layernorm = @q_a_norm, q_b_proj = @q_b, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<?x?x64xbf16>, tensor<?x?xi64>, tensor<?x?xi1>
  return %0 : tensor<?x?x64xbf16>
}

// CHECK-LABEL: func.func @v2_lite_layer
func.func @v2_lite_layer(%x: tensor<?x?x64xbf16>, %pos: tensor<?x?xi64>, %mask: tensor<?x?xi1>) -> tensor<?x?x64xbf16> {
  // CHECK: fathom.mla_attention {{.*}}q_proj = @q
  %0 = fathom.mla_attention %x, %pos, %mask {layer = 1 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, kv_lora_rank = 32 : i64, scale = 0.2 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 10000.0, dim = 8, interleaved = true, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0>, q_proj = @q, kv_a_proj_with_mqa = @kv_a, kv_a_layernorm = @kv_a_norm, kv_b_proj = @kv_b, o_proj = @o} : tensor<?x?x64xbf16>, tensor<?x?xi64>, tensor<?x?xi1>
  return %0 : tensor<?x?x64xbf16>
}
