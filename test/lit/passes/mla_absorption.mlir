// RUN: fathom-opt %s -fathom-mla-absorption -split-input-file | FileCheck %s
// The rewritten blocks are gone, so a second run changes nothing.
// RUN: fathom-opt %s -fathom-mla-absorption -fathom-mla-absorption -split-input-file | FileCheck %s

// Both entry points of a cached layer share one latent cache (kv_lora + rope = 8 per token).
// Prefill appends latents, decompresses every cached one with kv_b_proj and attends in the naive
// form; decode absorbs W_UK into the query (head_matmul into the latent space, kept in fp32),
// attends over the latents as multi-query attention (one shared key and value head) with the
// scale unchanged, and applies W_UV per head after attention. W_UK and W_UV are derived from
// kv_b_proj [heads * (nope + v), kv_lora], dequantized first when it is FP8.
// CHECK-LABEL: module
// CHECK: fathom.cache @layer0.latent_cache : tensor<8xbf16>
// CHECK-NOT: fathom.cache

// CHECK: func.func @prefill(%{{.*}}: tensor<?x?x8xbf16>, %[[POS:.*]]: tensor<?x?xi64>, %[[MASK:.*]]: tensor<?x?xi1>, %[[START:.*]]: tensor<?xi64>)
// CHECK: %[[QH:.*]] = fathom.split_heads %{{.*}} : tensor<?x?x12xbf16> -> tensor<?x?x2x6xbf16>
// CHECK: %[[QNOPE:.*]] = fathom.slice %[[QH]][0, 4]
// CHECK: %[[QROT:.*]] = fathom.rope %{{.*}} <rotate_half> : tensor<?x?x2x2xbf16>
// CHECK: %[[LATENT:.*]] = fathom.rms_norm %{{.*}}, @kvnorm
// CHECK: %[[KROT:.*]] = fathom.rope %{{.*}} <rotate_half> : tensor<?x?x2xbf16>
// CHECK: %[[CACHED:.*]] = fathom.cache_append @layer0.latent_cache(%[[LATENT]], %[[KROT]]) start(%[[START]]) {{.*}} -> tensor<?x?x8xbf16>
// CHECK: %[[KR:.*]] = fathom.split_heads {{.*}} : tensor<?x?x2xbf16> -> tensor<?x?x1x2xbf16>
// CHECK: %[[CLAT:.*]] = fathom.slice %[[CACHED]][0, 6] : tensor<?x?x8xbf16> -> tensor<?x?x6xbf16>
// CHECK: %[[KVB:.*]] = fathom.linear %[[CLAT]], @kvb : tensor<?x?x6xbf16> -> tensor<?x?x14xbf16>
// CHECK: %[[KV:.*]] = fathom.split_heads %[[KVB]] : tensor<?x?x14xbf16> -> tensor<?x?x2x7xbf16>
// CHECK: %[[K:.*]] = fathom.slice %[[KV]][0, 4]
// CHECK: %[[V:.*]] = fathom.slice %[[KV]][4, 3]
// CHECK: fathom.attention q(%[[QNOPE]], %[[QROT]]) k(%[[K]], %[[KR]]) v(%[[V]]) mask(%[[MASK]]) start(%[[START]]) scale 2.500000e-01 {causal} {{.*}} -> tensor<?x?x2x3xbf16>
// CHECK-NOT: fathom.head_matmul

// CHECK: func.func @decode(%{{.*}}: tensor<?x?x8xbf16>, %[[DPOS:.*]]: tensor<?x?xi64>, %[[DMASK:.*]]: tensor<?x?xi1>, %[[DSTART:.*]]: tensor<?xi64>)
// CHECK: %[[DQH:.*]] = fathom.split_heads %{{.*}} : tensor<?x?x12xbf16> -> tensor<?x?x2x6xbf16>
// CHECK: %[[DQNOPE:.*]] = fathom.slice %[[DQH]][0, 4]
// CHECK: %[[DQROT:.*]] = fathom.rope
// CHECK: %[[DCACHED:.*]] = fathom.cache_append @layer0.latent_cache
// CHECK: %[[DKR:.*]] = fathom.split_heads {{.*}} : tensor<?x?x2xbf16> -> tensor<?x?x1x2xbf16>
// CHECK: %[[DLAT:.*]] = fathom.split_heads {{.*}} : tensor<?x?x6xbf16> -> tensor<?x?x1x6xbf16>
// CHECK: %[[QLAT:.*]] = fathom.head_matmul %[[DQNOPE]], @kvb.absorbed_k : tensor<?x?x2x4xbf16> -> tensor<?x?x2x6xf32>
// CHECK: %[[OLAT:.*]] = fathom.attention q(%[[QLAT]], %[[DQROT]]) k(%[[DLAT]], %[[DKR]]) v(%[[DLAT]]) mask(%[[DMASK]]) start(%[[DSTART]]) scale 2.500000e-01 {causal} {{.*}} -> tensor<?x?x2x6xf32>
// CHECK: %[[OV:.*]] = fathom.head_matmul %[[OLAT]], @kvb.absorbed_v : tensor<?x?x2x6xf32> -> tensor<?x?x2x3xbf16>
// CHECK: %[[MERGED:.*]] = fathom.merge_heads %[[OV]]
// CHECK: fathom.linear %[[MERGED]], @o
// CHECK-NOT: fathom.mla_attention

// CHECK: fathom.param @kvb.absorbed_k : tensor<2x6x4xbf16>
// CHECK: fathom.param @kvb.absorbed_v : tensor<2x3x6xbf16>
// CHECK: fathom.initializer
// CHECK: %[[W:.*]] = fathom.param_value @kvb : tensor<14x6xf8E4M3FN>
// CHECK: %[[S:.*]] = fathom.param_value @kvb_scale : tensor<1x1xf32>
// CHECK: %[[D:.*]] = fathom.weight_dequantize %[[W]], %[[S]] block(128, 128) : {{.*}} -> tensor<14x6xbf16>
// CHECK: %[[R:.*]] = fathom.weight_reshape %[[D]] : tensor<14x6xbf16> -> tensor<2x7x6xbf16>
// CHECK: %[[UK:.*]] = fathom.weight_slice %[[R]] dim 1[0, 4] : tensor<2x7x6xbf16> -> tensor<2x4x6xbf16>
// CHECK: %[[UKT:.*]] = fathom.weight_transpose %[[UK]] : tensor<2x4x6xbf16> -> tensor<2x6x4xbf16>
// CHECK: fathom.define_param @kvb.absorbed_k = %[[UKT]]
// CHECK: fathom.weight_slice %{{.*}} dim 1[4, 3] : tensor<2x7x6xbf16> -> tensor<2x3x6xbf16>
// CHECK: fathom.define_param @kvb.absorbed_v
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 16 : i64} {
  fathom.param @q : tensor<12x8xbf16>
  fathom.param @kva : tensor<8x8xbf16>
  fathom.param @kvnorm : tensor<6xbf16>
  fathom.param @kvb : tensor<14x6xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @kvb_scale
  fathom.param @kvb_scale : tensor<1x1xf32>
  fathom.param @o : tensor<8x6xbf16>
  func.func @prefill(%x: tensor<?x?x8xbf16>, %pos: tensor<?x?xi64>, %mask: tensor<?x?xi1>, %start: tensor<?xi64>) -> tensor<?x?x8xbf16> attributes {fathom.entry_point = "prefill"} {
    %0 = fathom.mla_attention %x, %pos, %mask cache_start %start {layer = 0 : i64, num_heads = 2 : i64, qk_nope_head_dim = 4 : i64, qk_rope_head_dim = 2 : i64, v_head_dim = 3 : i64, kv_lora_rank = 6 : i64, scale = 0.25 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 1.0e4, dim = 2, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = true>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kva, kv_a_layernorm = @kvnorm, kv_b_proj = @kvb, o_proj = @o} : tensor<?x?x8xbf16>, tensor<?x?xi64>, tensor<?x?xi1>, tensor<?xi64>
    return %0 : tensor<?x?x8xbf16>
  }
  func.func @decode(%x: tensor<?x?x8xbf16>, %pos: tensor<?x?xi64>, %mask: tensor<?x?xi1>, %start: tensor<?xi64>) -> tensor<?x?x8xbf16> attributes {fathom.entry_point = "decode"} {
    %0 = fathom.mla_attention %x, %pos, %mask cache_start %start {layer = 0 : i64, num_heads = 2 : i64, qk_nope_head_dim = 4 : i64, qk_rope_head_dim = 2 : i64, v_head_dim = 3 : i64, kv_lora_rank = 6 : i64, scale = 0.25 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 1.0e4, dim = 2, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = true>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kva, kv_a_layernorm = @kvnorm, kv_b_proj = @kvb, o_proj = @o} : tensor<?x?x8xbf16>, tensor<?x?xi64>, tensor<?x?xi1>, tensor<?xi64>
    return %0 : tensor<?x?x8xbf16>
  }
}

// -----

// An fp32 model keeps everything fp32, and the weights are sliced without dequantizing.
// CHECK-LABEL: module
// CHECK: fathom.head_matmul %{{.*}}, @kvb.absorbed_k : tensor<?x?x2x4xf32> -> tensor<?x?x2x6xf32>
// CHECK: fathom.head_matmul %{{.*}}, @kvb.absorbed_v : tensor<?x?x2x6xf32> -> tensor<?x?x2x3xf32>
// CHECK: fathom.initializer
// CHECK-NOT: weight_dequantize
// CHECK: fathom.param_value @kvb : tensor<14x6xf32>
// CHECK-NEXT: fathom.weight_reshape
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 16 : i64} {
  fathom.param @q : tensor<12x8xf32>
  fathom.param @kva : tensor<8x8xf32>
  fathom.param @kvnorm : tensor<6xf32>
  fathom.param @kvb : tensor<14x6xf32>
  fathom.param @o : tensor<8x6xf32>
  func.func @decode(%x: tensor<?x?x8xf32>, %pos: tensor<?x?xi64>, %mask: tensor<?x?xi1>, %start: tensor<?xi64>) -> tensor<?x?x8xf32> attributes {fathom.entry_point = "decode"} {
    %0 = fathom.mla_attention %x, %pos, %mask cache_start %start {layer = 0 : i64, num_heads = 2 : i64, qk_nope_head_dim = 4 : i64, qk_rope_head_dim = 2 : i64, v_head_dim = 3 : i64, kv_lora_rank = 6 : i64, scale = 0.25 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 1.0e4, dim = 2, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = true>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kva, kv_a_layernorm = @kvnorm, kv_b_proj = @kvb, o_proj = @o} : tensor<?x?x8xf32>, tensor<?x?xi64>, tensor<?x?xi1>, tensor<?xi64>
    return %0 : tensor<?x?x8xf32>
  }
}

// -----

// Uncached attention (a classifier) is not absorption's: it stays for fathom-decompose.
// CHECK-LABEL: module
// CHECK-NOT: fathom.cache
// CHECK: fathom.mla_attention
// CHECK-NOT: fathom.head_matmul
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 16 : i64} {
  fathom.param @q : tensor<12x8xf32>
  fathom.param @kva : tensor<8x8xf32>
  fathom.param @kvnorm : tensor<6xf32>
  fathom.param @kvb : tensor<14x6xf32>
  fathom.param @o : tensor<8x6xf32>
  func.func @classify(%x: tensor<?x?x8xf32>, %pos: tensor<?x?xi64>, %mask: tensor<?x?xi1>) -> tensor<?x?x8xf32> attributes {fathom.entry_point = "classify"} {
    %0 = fathom.mla_attention %x, %pos, %mask {layer = 0 : i64, num_heads = 2 : i64, qk_nope_head_dim = 4 : i64, qk_rope_head_dim = 2 : i64, v_head_dim = 3 : i64, kv_lora_rank = 6 : i64, scale = 0.25 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 1.0e4, dim = 2, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = true>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, kv_a_proj_with_mqa = @kva, kv_a_layernorm = @kvnorm, kv_b_proj = @kvb, o_proj = @o} : tensor<?x?x8xf32>, tensor<?x?xi64>, tensor<?x?xi1>
    return %0 : tensor<?x?x8xf32>
  }
}
