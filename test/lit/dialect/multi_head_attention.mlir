// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @q : tensor<16x8xf32>
fathom.param @kv : tensor<8x8xf32>
fathom.param @o : tensor<8x16xf32>
fathom.param @b16 : tensor<16xf32>
fathom.param @b8 : tensor<8xf32>

// LLaMA: grouped heads (4 query heads over 2 key/value heads), RoPE, a cache.
// CHECK-LABEL: func.func @llama
func.func @llama(%x: tensor<?x?x8xf32>, %pos: tensor<?x?xi64>, %mask: tensor<?x?xi1>, %start: tensor<?xi64>) -> tensor<?x?x8xf32> {
  // CHECK: fathom.multi_head_attention %{{.*}} positions(%{{.*}}) mask(%{{.*}}) cache_start(%{{.*}}) {causal, head_dim = 4 : i64, k_proj = @kv, layer = 3 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, o_proj = @o, q_proj = @q, rope = #fathom.rope<{{.*}}dim = 4{{.*}}>, rope_mode = #fathom.rope_mode<rotate_half>, scale = 5.000000e-01 : f32, v_proj = @kv}
  %0 = fathom.multi_head_attention %x positions(%pos) mask(%mask) cache_start(%start) {causal, layer = 3 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f32, rope = #fathom.rope<theta = 1.0e4, dim = 4, scaling = none, factor = 1.0, original_max_positions = 16, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = true>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, k_proj = @kv, v_proj = @kv, o_proj = @o} : (tensor<?x?x8xf32>, tensor<?x?xi64>, tensor<?x?xi1>, tensor<?xi64>) -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// SigLIP: no rope, no cache, not causal, every projection with a bias.
// CHECK-LABEL: func.func @siglip
func.func @siglip(%x: tensor<?x?x8xf32>, %mask: tensor<?x?xi1>) -> tensor<?x?x8xf32> {
  // CHECK: fathom.multi_head_attention %{{.*}} mask(%{{.*}}) {head_dim = 2 : i64, k_proj = @kv, k_proj_bias = @b8, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, o_proj = @kv, o_proj_bias = @b8, q_proj = @kv, q_proj_bias = @b8, scale = 0.707106769 : f32, v_proj = @kv, v_proj_bias = @b8} : (tensor<?x?x8xf32>, tensor<?x?xi1>) -> tensor<?x?x8xf32>
  %0 = fathom.multi_head_attention %x mask(%mask) {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, head_dim = 2 : i64, scale = 0.707106769 : f32, q_proj = @kv, k_proj = @kv, v_proj = @kv, o_proj = @kv, q_proj_bias = @b8, k_proj_bias = @b8, v_proj_bias = @b8, o_proj_bias = @b8} : (tensor<?x?x8xf32>, tensor<?x?xi1>) -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}
