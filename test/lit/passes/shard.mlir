// RUN: fathom-opt %s -fathom-shard="tp=2 ep=2" -split-input-file | FileCheck %s
// A second run with the same split changes nothing.
// RUN: fathom-opt %s -fathom-shard="tp=2 ep=2" -fathom-shard="tp=2 ep=2" -split-input-file | FileCheck %s
// One rank: nothing to shard.
// RUN: fathom-opt %s -fathom-shard -split-input-file | FileCheck %s --check-prefix=ONE

// ONE-NOT: fathom.all_reduce
// ONE-NOT: fathom.world_size

// Embedding and LM head by vocabulary rows, the dense MLP by intermediate columns, whole
// experts per rank with their first global expert, shared and routed partial sums reduced
// once; every per-rank weight is a derived param over a shard op.
// CHECK-LABEL: module attributes {fathom.ep = 2 : i64, fathom.tp = 2 : i64, fathom.world_size = 2 : i64}
// CHECK: func.func @f
// CHECK: %[[E:.*]] = fathom.embedding %{{.*}}, @embed.shard2 {vocab_size = 16 : i64, vocab_start = @embed.vocab_start2} : tensor<?x?xi64> -> tensor<?x?x8xf32>
// CHECK: %[[X:.*]] = fathom.all_reduce %[[E]] parts 2 : tensor<?x?x8xf32>
// CHECK: %[[G:.*]] = fathom.linear %[[X]], @gate_proj.shard2 : tensor<?x?x8xf32> -> tensor<?x?x6xf32>
// CHECK: %[[U:.*]] = fathom.linear %[[X]], @up_proj.shard2 bias @up_bias.shard2 : tensor<?x?x8xf32> -> tensor<?x?x6xf32>
// CHECK: %[[M:.*]] = fathom.silu_mul %[[G]], %[[U]] : tensor<?x?x6xf32>
// CHECK: %[[D:.*]] = fathom.linear %[[M]], @down_proj.shard2 bias @down_bias.first2 : tensor<?x?x6xf32> -> tensor<?x?x8xf32>
// CHECK: %[[H:.*]] = fathom.all_reduce %[[D]] parts 2
// CHECK: fathom.moe_router %[[H]], @router
// CHECK: %[[R:.*]] = fathom.expert_ffn %[[H]], {{.*}} {down_proj = [@d0.local_expert2, @d1.local_expert2], expert_start = @g0.expert_start2, gate_proj = [@g0.local_expert2, @g1.local_expert2], up_proj = [@u0.local_expert2, @u1.local_expert2]}
// CHECK: %[[S:.*]] = fathom.linear {{.*}}, @s_down.shard2
// CHECK: %[[SUM:.*]] = fathom.add %[[R]], %[[S]]
// CHECK: %[[Y:.*]] = fathom.all_reduce %[[SUM]] parts 2
// CHECK-NOT: fathom.all_reduce
// CHECK: %[[L:.*]] = fathom.lm_head %[[Y]], @head.shard2 : tensor<?x?x8xf32> -> tensor<?x?x8xf32>
// CHECK: %[[ALL:.*]] = fathom.all_gather %[[L]] parts 2 : tensor<?x?x8xf32> -> tensor<?x?x16xf32>
// CHECK: return %[[ALL]]
// CHECK: fathom.param @embed.shard2 : tensor<8x8xf32>
// CHECK: fathom.param @embed.vocab_start2 : tensor<1xi64>
// CHECK: fathom.param @gate_proj.shard2 : tensor<6x8xf32>
// CHECK: fathom.param @down_proj.shard2 : tensor<8x6xf32>
// CHECK: fathom.param @g0.local_expert2 : tensor<4x8xf32>
// CHECK: fathom.initializer
// CHECK: %[[EV:.*]] = fathom.param_value @embed : tensor<16x8xf32>
// CHECK: fathom.weight_shard %[[EV]] dim 0 parts 2 : tensor<16x8xf32> -> tensor<8x8xf32>
// CHECK: fathom.shard_start parts 2 stride 8 : tensor<1xi64>
// CHECK: fathom.weight_shard %{{.*}} dim 1 parts 2 : tensor<8x12xf32> -> tensor<8x6xf32>
// CHECK: fathom.weight_shard_first %{{.*}} parts 2 : tensor<8xf32>
// CHECK: %[[G0:.*]] = fathom.param_value @g0 : tensor<4x8xf32>
// CHECK: %[[G2:.*]] = fathom.param_value @g2 : tensor<4x8xf32>
// CHECK: fathom.weight_select_shard %[[G0]], %[[G2]] : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
// CHECK: fathom.shard_start parts 2 stride 2 : tensor<1xi64>
module {
  fathom.param @embed : tensor<16x8xf32>
  fathom.param @gate_proj : tensor<12x8xf32>
  fathom.param @up_proj : tensor<12x8xf32>
  fathom.param @up_bias : tensor<12xf32>
  fathom.param @down_proj : tensor<8x12xf32>
  fathom.param @down_bias : tensor<8xf32>
  fathom.param @router : tensor<4x8xf32>
  fathom.param @g0 : tensor<4x8xf32>
  fathom.param @g1 : tensor<4x8xf32>
  fathom.param @g2 : tensor<4x8xf32>
  fathom.param @g3 : tensor<4x8xf32>
  fathom.param @u0 : tensor<4x8xf32>
  fathom.param @u1 : tensor<4x8xf32>
  fathom.param @u2 : tensor<4x8xf32>
  fathom.param @u3 : tensor<4x8xf32>
  fathom.param @d0 : tensor<8x4xf32>
  fathom.param @d1 : tensor<8x4xf32>
  fathom.param @d2 : tensor<8x4xf32>
  fathom.param @d3 : tensor<8x4xf32>
  fathom.param @s_gate : tensor<4x8xf32>
  fathom.param @s_up : tensor<4x8xf32>
  fathom.param @s_down : tensor<8x4xf32>
  fathom.param @head : tensor<16x8xf32>
  func.func @f(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %x = fathom.embedding %ids, @embed : tensor<?x?xi64> -> tensor<?x?x8xf32>
    %g = fathom.linear %x, @gate_proj : tensor<?x?x8xf32> -> tensor<?x?x12xf32>
    %u = fathom.linear %x, @up_proj bias @up_bias : tensor<?x?x8xf32> -> tensor<?x?x12xf32>
    %m = fathom.silu_mul %g, %u : tensor<?x?x12xf32>
    %h = fathom.linear %m, @down_proj bias @down_bias : tensor<?x?x12xf32> -> tensor<?x?x8xf32>
    %w, %i = fathom.moe_router %h, @router {scoring = #fathom.scoring<softmax>, top_k = 2 : i64, n_group = 1 : i64, topk_group = 1 : i64, norm_topk_prob = false, routed_scaling_factor = 1.0 : f32} : tensor<?x?x8xf32> -> tensor<?x?x2xf32>, tensor<?x?x2xi32>
    %r = fathom.expert_ffn %h, %w, %i {gate_proj = [@g0, @g1, @g2, @g3], up_proj = [@u0, @u1, @u2, @u3], down_proj = [@d0, @d1, @d2, @d3]} : tensor<?x?x8xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi32>
    %sg = fathom.linear %h, @s_gate : tensor<?x?x8xf32> -> tensor<?x?x4xf32>
    %su = fathom.linear %h, @s_up : tensor<?x?x8xf32> -> tensor<?x?x4xf32>
    %sm = fathom.silu_mul %sg, %su : tensor<?x?x4xf32>
    %s = fathom.linear %sm, @s_down : tensor<?x?x4xf32> -> tensor<?x?x8xf32>
    %y = fathom.add %r, %s : tensor<?x?x8xf32>
    %logits = fathom.lm_head %y, @head : tensor<?x?x8xf32> -> tensor<?x?x16xf32>
    return %logits : tensor<?x?x16xf32>
  }
}

// -----

// MLA: q_b_proj and kv_b_proj keep their heads' rows, o_proj their columns; the latent path
// (q_a_proj, kv_a_proj_with_mqa, their norms) stays whole.
// CHECK-LABEL: module
// CHECK: %[[A:.*]] = fathom.mla_attention {{.*}}kv_a_proj_with_mqa = @kv_a, kv_b_proj = @kv_b.shard2, {{.*}}num_heads = 2 : i64, o_proj = @o.shard2, q_a_layernorm = @q_norm, q_a_proj = @q_a, q_b_proj = @q_b.shard2
// CHECK: fathom.all_reduce %[[A]] parts 2
// CHECK: fathom.param @q_b.shard2 : tensor<48x32xf32>
// CHECK: fathom.param @kv_b.shard2 : tensor<64x32xf32>
// CHECK: fathom.param @o.shard2 : tensor<64x32xf32>
module {
  fathom.param @q_a : tensor<32x64xf32>
  fathom.param @q_norm : tensor<32xf32>
  fathom.param @q_b : tensor<96x32xf32>
  fathom.param @kv_a : tensor<40x64xf32>
  fathom.param @kv_norm : tensor<32xf32>
  fathom.param @kv_b : tensor<128x32xf32>
  fathom.param @o : tensor<64x64xf32>
  func.func @f(%x: tensor<?x?x64xf32>, %positions: tensor<?x?xi64>, %mask: tensor<?x?xi1>, %start: tensor<?xi64>) -> tensor<?x?x64xf32> {
    %a = fathom.mla_attention %x, %positions, %mask cache_start %start {kv_a_layernorm = @kv_norm, kv_a_proj_with_mqa = @kv_a, kv_b_proj = @kv_b, kv_lora_rank = 32 : i64, layer = 0 : i64, lora_norm_epsilon = 1.0e-6 : f32, num_heads = 4 : i64, o_proj = @o, q_a_layernorm = @q_norm, q_a_proj = @q_a, q_b_proj = @q_b, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<interleaved>, scale = 0.25 : f32, v_head_dim = 16 : i64} : tensor<?x?x64xf32>, tensor<?x?xi64>, tensor<?x?xi1>, tensor<?xi64>
    return %a : tensor<?x?x64xf32>
  }
}

// -----

// LLaMA attention (GQA 4 / 2): each rank keeps two query heads and their key/value head; q/k/v
// and their biases by rows, o by columns.
// CHECK-LABEL: module
// CHECK: %[[A:.*]] = fathom.multi_head_attention {{.*}}k_proj = @k.shard2, {{.*}}num_heads = 2 : i64, num_kv_heads = 1 : i64, o_proj = @o.shard2, q_proj = @q.shard2, q_proj_bias = @q_bias.shard2, {{.*}}v_proj = @v.shard2
// CHECK: fathom.all_reduce %[[A]] parts 2
// CHECK: fathom.param @q.shard2 : tensor<8x16xf32>
// CHECK: fathom.param @k.shard2 : tensor<4x16xf32>
// CHECK: fathom.param @o.shard2 : tensor<16x8xf32>
// CHECK: fathom.param @q_bias.shard2 : tensor<8xf32>
module {
  fathom.param @q : tensor<16x16xf32>
  fathom.param @q_bias : tensor<16xf32>
  fathom.param @k : tensor<8x16xf32>
  fathom.param @v : tensor<8x16xf32>
  fathom.param @o : tensor<16x16xf32>
  func.func @f(%x: tensor<?x?x16xf32>, %mask: tensor<?x?xi1>) -> tensor<?x?x16xf32> {
    %a = fathom.multi_head_attention %x mask(%mask) {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f32, q_proj = @q, k_proj = @k, v_proj = @v, o_proj = @o, q_proj_bias = @q_bias, operandSegmentSizes = array<i32: 1, 0, 1, 0>} : (tensor<?x?x16xf32>, tensor<?x?xi1>) -> tensor<?x?x16xf32>
    return %a : tensor<?x?x16xf32>
  }
}
