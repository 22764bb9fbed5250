// RUN: fathom-opt %s -fathom-decompose -split-input-file | FileCheck %s
// Decomposed blocks are gone, so a second run changes nothing.
// RUN: fathom-opt %s -fathom-decompose -fathom-decompose -split-input-file | FileCheck %s

// A cached MLA layer in HF's naive form: q_proj split into heads (nope | rope), kv_a_proj_with_mqa
// split into the normalized latent and the shared rope key, table-driven ropes (the tables are
// derived params the initializer computes), kv_b_proj, and every head's keys and values plus
// the rope key appended to a per-head cache, which attention reads through views.
// CHECK-LABEL: module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 16 : i64}
// CHECK: fathom.cache @layer0.kv_cache : tensor<18xf32>
// CHECK: func.func @prefill(%[[X:.*]]: tensor<?x?x8xf32>, %[[POS:.*]]: tensor<?x?xi64>, %[[MASK:.*]]: tensor<?x?xi1>, %[[START:.*]]: tensor<?xi64>)
// CHECK: %[[Q:.*]] = fathom.linear %[[X]], @q : tensor<?x?x8xf32> -> tensor<?x?x12xf32>
// CHECK: %[[QH:.*]] = fathom.split_heads %[[Q]] : tensor<?x?x12xf32> -> tensor<?x?x2x6xf32>
// CHECK: %[[QNOPE:.*]] = fathom.slice %[[QH]][0, 4]
// CHECK: %[[QPE:.*]] = fathom.slice %[[QH]][4, 2]
// CHECK: %[[QROT:.*]] = fathom.rope %[[QPE]], %[[POS]], @rope.cos.f32, @rope.sin.f32 <complex>
// CHECK: %[[KVA:.*]] = fathom.linear %[[X]], @kva : tensor<?x?x8xf32> -> tensor<?x?x6xf32>
// CHECK: %[[C:.*]] = fathom.slice %[[KVA]][0, 4]
// CHECK: %[[LATENT:.*]] = fathom.rms_norm %[[C]], @kvnorm
// CHECK: %[[KPE:.*]] = fathom.slice %[[KVA]][4, 2]
// CHECK: %[[KROT:.*]] = fathom.rope %[[KPE]], %[[POS]], @rope.cos.f32, @rope.sin.f32 <complex>
// CHECK: %[[KVB:.*]] = fathom.linear %[[LATENT]], @kvb : tensor<?x?x4xf32> -> tensor<?x?x16xf32>
// CHECK: %[[CACHED:.*]] = fathom.cache_append @layer0.kv_cache(%[[KVB]], %[[KROT]]) start(%[[START]]) {{.*}} -> tensor<?x?x18xf32>
// CHECK: %[[KV:.*]] = fathom.split_heads {{.*}} : tensor<?x?x16xf32> -> tensor<?x?x2x8xf32>
// CHECK: %[[K:.*]] = fathom.slice %[[KV]][0, 4]
// CHECK: %[[V:.*]] = fathom.slice %[[KV]][4, 4]
// CHECK: %[[KR:.*]] = fathom.split_heads {{.*}} : tensor<?x?x2xf32> -> tensor<?x?x1x2xf32>
// CHECK: %[[ATT:.*]] = fathom.attention q(%[[QNOPE]], %[[QROT]]) k(%[[K]], %[[KR]]) v(%[[V]]) mask(%[[MASK]]) start(%[[START]]) scale 2.500000e-01 {causal}
// CHECK: %[[MERGED:.*]] = fathom.merge_heads %[[ATT]] : tensor<?x?x2x4xf32> -> tensor<?x?x8xf32>
// CHECK: fathom.linear %[[MERGED]], @o
// CHECK-NOT: fathom.mla_attention
// CHECK: fathom.param @rope.cos.f32 : tensor<16x1xf32>
// CHECK: fathom.param @rope.sin.f32 : tensor<16x1xf32>
// CHECK: fathom.initializer
// CHECK: fathom.rope_table <cos> {{.*}} : tensor<16x1xf32>
// CHECK: fathom.define_param @rope.cos.f32
// CHECK: fathom.rope_table <sin>
// CHECK: fathom.define_param @rope.sin.f32
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 16 : i64} {
  fathom.param @q : tensor<12x8xf32>
  fathom.param @kva : tensor<6x8xf32>
  fathom.param @kvnorm : tensor<4xf32>
  fathom.param @kvb : tensor<16x4xf32>
  fathom.param @o : tensor<8x8xf32>
  func.func @prefill(%x: tensor<?x?x8xf32>, %pos: tensor<?x?xi64>, %mask: tensor<?x?xi1>, %start: tensor<?xi64>) -> tensor<?x?x8xf32> attributes {fathom.entry_point = "prefill"} {
    %0 = fathom.mla_attention %x, %pos, %mask cache_start %start {layer = 0 : i64, num_heads = 2 : i64, qk_nope_head_dim = 4 : i64, qk_rope_head_dim = 2 : i64, v_head_dim = 4 : i64, kv_lora_rank = 4 : i64, scale = 0.25 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 1.0e4, dim = 2, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = true>, rope_mode = #fathom.rope_mode<complex>, q_proj = @q, kv_a_proj_with_mqa = @kva, kv_a_layernorm = @kvnorm, kv_b_proj = @kvb, o_proj = @o} : tensor<?x?x8xf32>, tensor<?x?xi64>, tensor<?x?xi1>, tensor<?xi64>
    return %0 : tensor<?x?x8xf32>
  }
}

// -----

// Without cache_start (a classifier) the layer attends to this call's keys: no cache, the
// decompressed keys and values and the rope key straight into attention, without a start. The
// q LoRA (q_a_proj + bias, its norm, q_b_proj) and the biases are kept; bf16 tables.
// CHECK-LABEL: module
// CHECK-NOT: fathom.cache
// CHECK: func.func @classify
// CHECK: %[[QA:.*]] = fathom.linear %{{.*}}, @qa bias @qa_bias : tensor<?x?x8xbf16> -> tensor<?x?x3xbf16>
// CHECK: %[[QN:.*]] = fathom.rms_norm %[[QA]], @qa_norm
// CHECK: fathom.linear %[[QN]], @qb : tensor<?x?x3xbf16> -> tensor<?x?x12xbf16>
// CHECK: fathom.rope {{.*}} @rope.cos.bf16, @rope.sin.bf16 <interleaved>
// CHECK: fathom.linear %{{.*}}, @kva bias @kva_bias
// CHECK: %[[KROT:.*]] = fathom.rope {{.*}} <interleaved> : tensor<?x?x2xbf16>
// CHECK: %[[KVB:.*]] = fathom.linear %{{.*}}, @kvb : tensor<?x?x4xbf16> -> tensor<?x?x16xbf16>
// CHECK: fathom.split_heads %[[KVB]]
// CHECK: %[[KR:.*]] = fathom.split_heads %[[KROT]] : tensor<?x?x2xbf16> -> tensor<?x?x1x2xbf16>
// CHECK: fathom.attention q({{.*}}) k(%{{.*}}, %[[KR]]) v(%{{.*}}) mask(%{{.*}}) scale
// CHECK: fathom.linear %{{.*}}, @o bias @o_bias
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 4 : i64} {
  fathom.param @qa : tensor<3x8xbf16>
  fathom.param @qa_bias : tensor<3xbf16>
  fathom.param @qa_norm : tensor<3xbf16>
  fathom.param @qb : tensor<12x3xbf16>
  fathom.param @kva : tensor<6x8xbf16>
  fathom.param @kva_bias : tensor<6xbf16>
  fathom.param @kvnorm : tensor<4xbf16>
  fathom.param @kvb : tensor<16x4xbf16>
  fathom.param @o : tensor<8x8xbf16>
  fathom.param @o_bias : tensor<8xbf16>
  func.func @classify(%x: tensor<?x?x8xbf16>, %pos: tensor<?x?xi64>, %mask: tensor<?x?xi1>) -> tensor<?x?x8xbf16> attributes {fathom.entry_point = "classify"} {
    %0 = fathom.mla_attention %x, %pos, %mask {layer = 3 : i64, num_heads = 2 : i64, qk_nope_head_dim = 4 : i64, qk_rope_head_dim = 2 : i64, v_head_dim = 4 : i64, kv_lora_rank = 4 : i64, scale = 0.25 : f32, lora_norm_epsilon = 1.0e-6 : f32, rope = #fathom.rope<theta = 1.0e4, dim = 2, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = true>, rope_mode = #fathom.rope_mode<interleaved>, q_a_proj = @qa, q_a_proj_bias = @qa_bias, q_a_layernorm = @qa_norm, q_b_proj = @qb, kv_a_proj_with_mqa = @kva, kv_a_proj_with_mqa_bias = @kva_bias, kv_a_layernorm = @kvnorm, kv_b_proj = @kvb, o_proj = @o, o_proj_bias = @o_bias} : tensor<?x?x8xbf16>, tensor<?x?xi64>, tensor<?x?xi1>
    return %0 : tensor<?x?x8xbf16>
  }
}

// -----

// The router becomes its fp32 GEMM and the selection; the routed experts become dispatch,
// grouped rows through each expert's gate and up, silu_mul, down, and the eager combine.
// CHECK-LABEL: module
// CHECK: func.func @moe(%[[X:.*]]: tensor<?x?x8xbf16>)
// CHECK: %[[LOGITS:.*]] = fathom.linear %[[X]], @gate : tensor<?x?x8xbf16> -> tensor<?x?x4xf32>
// CHECK: %[[W:.*]], %[[I:.*]] = fathom.moe_route %[[LOGITS]] {n_group = 2 : i64, norm_topk_prob = true, routed_scaling_factor = 2.500000e+00 : f32, score_bias = @bias, scoring = #fathom.scoring<sigmoid>, top_k = 2 : i64, topk_group = 1 : i64}
// CHECK: %[[OFF:.*]], %[[ROWS:.*]], %[[SLOTS:.*]] = fathom.moe_dispatch %[[I]] {num_experts = 4 : i64} : tensor<?x?x2xi32> -> tensor<5xi32>, tensor<?xi32>, tensor<?xi32>
// CHECK: %[[G:.*]] = fathom.gather_rows %[[X]], %[[ROWS]] : tensor<?x?x8xbf16>, tensor<?xi32> -> tensor<?x8xbf16>
// CHECK: %[[GATE:.*]] = fathom.expert_linear %[[G]], %[[OFF]] {weights = [@g0, @g1, @g2, @g3]} : tensor<?x8xbf16>, tensor<5xi32> -> tensor<?x6xbf16>
// CHECK: %[[UP:.*]] = fathom.expert_linear %[[G]], %[[OFF]] {weights = [@u0, @u1, @u2, @u3]}
// CHECK: %[[ACT:.*]] = fathom.silu_mul %[[GATE]], %[[UP]] : tensor<?x6xbf16>
// CHECK: %[[DOWN:.*]] = fathom.expert_linear %[[ACT]], %[[OFF]] {weights = [@d0, @d1, @d2, @d3]} : tensor<?x6xbf16>, tensor<5xi32> -> tensor<?x8xbf16>
// CHECK: fathom.moe_combine %[[DOWN]], %[[SLOTS]], %[[I]], %[[W]] <eager> : {{.*}} -> tensor<?x?x8xbf16>
// CHECK-NOT: fathom.moe_router
// CHECK-NOT: fathom.expert_ffn
module {
  fathom.param @gate : tensor<4x8xbf16>
  fathom.param @bias : tensor<4xf32>
  fathom.param @g0 : tensor<6x8xbf16>
  fathom.param @g1 : tensor<6x8xbf16>
  fathom.param @g2 : tensor<6x8xbf16>
  fathom.param @g3 : tensor<6x8xbf16>
  fathom.param @u0 : tensor<6x8xbf16>
  fathom.param @u1 : tensor<6x8xbf16>
  fathom.param @u2 : tensor<6x8xbf16>
  fathom.param @u3 : tensor<6x8xbf16>
  fathom.param @d0 : tensor<8x6xbf16>
  fathom.param @d1 : tensor<8x6xbf16>
  fathom.param @d2 : tensor<8x6xbf16>
  fathom.param @d3 : tensor<8x6xbf16>
  func.func @moe(%x: tensor<?x?x8xbf16>) -> tensor<?x?x8xbf16> {
    %w, %i = fathom.moe_router %x, @gate {score_bias = @bias, scoring = #fathom.scoring<sigmoid>, top_k = 2 : i64, n_group = 2 : i64, topk_group = 1 : i64, norm_topk_prob = true, routed_scaling_factor = 2.5 : f32} : tensor<?x?x8xbf16> -> tensor<?x?x2xf32>, tensor<?x?x2xi32>
    %y = fathom.expert_ffn %x, %w, %i {gate_proj = [@g0, @g1, @g2, @g3], up_proj = [@u0, @u1, @u2, @u3], down_proj = [@d0, @d1, @d2, @d3]} : tensor<?x?x8xbf16>, tensor<?x?x2xf32>, tensor<?x?x2xi32>
    return %y : tensor<?x?x8xbf16>
  }
}

// -----

// Kernel-level ops are left alone.
// CHECK-LABEL: module
// CHECK: func.func @plain
// CHECK-NEXT: fathom.rms_norm
// CHECK-NEXT: fathom.linear
// CHECK-NEXT: return
module {
  fathom.param @n : tensor<8xf32>
  fathom.param @w : tensor<4x8xf32>
  func.func @plain(%x: tensor<?x?x8xf32>) -> tensor<?x?x4xf32> {
    %0 = fathom.rms_norm %x, @n eps 1.0e-6 : tensor<?x?x8xf32>
    %1 = fathom.linear %0, @w : tensor<?x?x8xf32> -> tensor<?x?x4xf32>
    return %1 : tensor<?x?x4xf32>
  }
}

// -----

// LLaMA attention, cached: q and k split into heads and rotated on the whole head, the rotated
// keys (merged back) and the values appended to the layer's cache, attention over 2 key/value
// heads serving 4 query heads, o_proj over the merged heads.
// CHECK-LABEL: module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 16 : i64}
// CHECK: fathom.cache @layer2.kv_cache : tensor<16xf32>
// CHECK: func.func @prefill(%[[X:.*]]: tensor<?x?x8xf32>, %[[POS:.*]]: tensor<?x?xi64>, %[[MASK:.*]]: tensor<?x?xi1>, %[[START:.*]]: tensor<?xi64>)
// CHECK: %[[Q:.*]] = fathom.linear %[[X]], @q : tensor<?x?x8xf32> -> tensor<?x?x16xf32>
// CHECK: %[[QH:.*]] = fathom.split_heads %[[Q]] : tensor<?x?x16xf32> -> tensor<?x?x4x4xf32>
// CHECK: %[[QROT:.*]] = fathom.rope %[[QH]], %[[POS]], @rope.cos.f32, @rope.sin.f32 <rotate_half>
// CHECK: %[[K:.*]] = fathom.linear %[[X]], @kv : tensor<?x?x8xf32> -> tensor<?x?x8xf32>
// CHECK: %[[KH:.*]] = fathom.split_heads %[[K]] : tensor<?x?x8xf32> -> tensor<?x?x2x4xf32>
// CHECK: %[[KROT:.*]] = fathom.rope %[[KH]], %[[POS]], @rope.cos.f32, @rope.sin.f32 <rotate_half>
// CHECK: %[[V:.*]] = fathom.linear %[[X]], @kv : tensor<?x?x8xf32> -> tensor<?x?x8xf32>
// CHECK: %[[KM:.*]] = fathom.merge_heads %[[KROT]] : tensor<?x?x2x4xf32> -> tensor<?x?x8xf32>
// CHECK: %[[CACHED:.*]] = fathom.cache_append @layer2.kv_cache(%[[KM]], %[[V]]) start(%[[START]]) {{.*}} -> tensor<?x?x16xf32>
// CHECK: %[[KC:.*]] = fathom.slice %[[CACHED]][0, 8]
// CHECK: %[[KCH:.*]] = fathom.split_heads %[[KC]] : tensor<?x?x8xf32> -> tensor<?x?x2x4xf32>
// CHECK: %[[VC:.*]] = fathom.slice %[[CACHED]][8, 8]
// CHECK: %[[VCH:.*]] = fathom.split_heads %[[VC]] : tensor<?x?x8xf32> -> tensor<?x?x2x4xf32>
// CHECK: %[[ATT:.*]] = fathom.attention q(%[[QROT]]) k(%[[KCH]]) v(%[[VCH]]) mask(%[[MASK]]) start(%[[START]]) scale 5.000000e-01 {causal}
// CHECK: %[[MERGED:.*]] = fathom.merge_heads %[[ATT]] : tensor<?x?x4x4xf32> -> tensor<?x?x16xf32>
// CHECK: fathom.linear %[[MERGED]], @o
// CHECK-NOT: fathom.multi_head_attention
// CHECK: fathom.define_param @rope.cos.f32
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 16 : i64} {
  fathom.param @q : tensor<16x8xf32>
  fathom.param @kv : tensor<8x8xf32>
  fathom.param @o : tensor<8x16xf32>
  func.func @prefill(%x: tensor<?x?x8xf32>, %pos: tensor<?x?xi64>, %mask: tensor<?x?xi1>, %start: tensor<?xi64>) -> tensor<?x?x8xf32> attributes {fathom.entry_point = "prefill"} {
    %0 = fathom.multi_head_attention %x positions(%pos) mask(%mask) cache_start(%start) {causal, layer = 2 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f32, rope = #fathom.rope<theta = 1.0e4, dim = 4, scaling = none, factor = 1.0, original_max_positions = 16, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = true>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, k_proj = @kv, v_proj = @kv, o_proj = @o} : (tensor<?x?x8xf32>, tensor<?x?xi64>, tensor<?x?xi1>, tensor<?xi64>) -> tensor<?x?x8xf32>
    return %0 : tensor<?x?x8xf32>
  }
}

// -----

// SigLIP attention: no cache, no rope, not causal; the biases stay on their projections.
// CHECK-LABEL: func.func @encode_image
// CHECK: %[[Q:.*]] = fathom.linear %[[X:.*]], @w bias @b
// CHECK: %[[K:.*]] = fathom.linear %[[X]], @w bias @b
// CHECK: %[[V:.*]] = fathom.linear %[[X]], @w bias @b
// CHECK: fathom.attention q(%{{.*}}) k(%{{.*}}) v(%{{.*}}) mask(%{{.*}}) scale 7.071070e-01 :
// CHECK: fathom.linear %{{.*}}, @w bias @b
// CHECK-NOT: fathom.cache
// CHECK-NOT: fathom.rope
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 16 : i64} {
  fathom.param @w : tensor<8x8xf32>
  fathom.param @b : tensor<8xf32>
  func.func @encode_image(%x: tensor<?x?x8xf32>, %mask: tensor<?x?xi1>) -> tensor<?x?x8xf32> attributes {fathom.entry_point = "encode_image"} {
    %0 = fathom.multi_head_attention %x mask(%mask) {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, head_dim = 2 : i64, scale = 0.707107 : f32, q_proj = @w, k_proj = @w, v_proj = @w, o_proj = @w, q_proj_bias = @b, k_proj_bias = @b, v_proj_bias = @b, o_proj_bias = @b} : (tensor<?x?x8xf32>, tensor<?x?xi1>) -> tensor<?x?x8xf32>
    return %0 : tensor<?x?x8xf32>
  }
}
