// RUN: fathom-opt %s -fathom-shard="tp=3" -split-input-file -verify-diagnostics
// RUN: not fathom-opt %s -fathom-shard="tp=2 ep=3" -split-input-file 2>&1 | FileCheck %s --check-prefix=NEST
// RUN: not fathom-opt %s -fathom-shard="ep=3" -split-input-file 2>&1 | FileCheck %s --check-prefix=EXPERTS

// NEST: fathom-shard: --tp 2 and --ep 3 do not nest: the smaller must divide the larger (the world is 3 ranks)
// EXPERTS: fathom-shard: 4 routed experts do not split over --ep 3

// Four heads do not split over three ranks.
module {
  fathom.param @q_a : tensor<32x64xf32>
  fathom.param @q_norm : tensor<32xf32>
  fathom.param @q_b : tensor<96x32xf32>
  fathom.param @kv_a : tensor<40x64xf32>
  fathom.param @kv_norm : tensor<32xf32>
  fathom.param @kv_b : tensor<128x32xf32>
  fathom.param @o : tensor<64x64xf32>
  func.func @f(%x: tensor<?x?x64xf32>, %positions: tensor<?x?xi64>, %mask: tensor<?x?xi1>, %start: tensor<?xi64>) -> tensor<?x?x64xf32> {
    // expected-error @below {{fathom-shard: layer 0 has 4 attention heads, which do not split over --tp 3}}
    %a = fathom.mla_attention %x, %positions, %mask cache_start %start {kv_a_layernorm = @kv_norm, kv_a_proj_with_mqa = @kv_a, kv_b_proj = @kv_b, kv_lora_rank = 32 : i64, layer = 0 : i64, lora_norm_epsilon = 1.0e-6 : f32, num_heads = 4 : i64, o_proj = @o, q_a_layernorm = @q_norm, q_a_proj = @q_a, q_b_proj = @q_b, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, rope = #fathom.rope<theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false>, rope_mode = #fathom.rope_mode<interleaved>, scale = 0.25 : f32, v_head_dim = 16 : i64} : tensor<?x?x64xf32>, tensor<?x?xi64>, tensor<?x?xi1>, tensor<?xi64>
    return %a : tensor<?x?x64xf32>
  }
}

// -----

// A vocabulary of 16 does not split over three ranks.
module {
  fathom.param @embed : tensor<16x8xf32>
  func.func @f(%ids: tensor<?x?xi64>) -> tensor<?x?x8xf32> {
    // expected-error @below {{fathom-shard: the embedding table @embed has 16 rows, which do not split into 3 equal parts}}
    %x = fathom.embedding %ids, @embed : tensor<?x?xi64> -> tensor<?x?x8xf32>
    return %x : tensor<?x?x8xf32>
  }
}

// -----

// FP8 blocks of 128 rows: 192 rows over three ranks would cut blocks.
module {
  fathom.param @gate_scale : tensor<2x1xf32>
  fathom.param @gate : tensor<192x8xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @gate_scale
  fathom.param @up : tensor<192x8xf32>
  fathom.param @down : tensor<8x192xf32>
  func.func @f(%x: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
    %g = fathom.linear %x, @gate : tensor<?x?x8xf32> -> tensor<?x?x192xf32>
    %u = fathom.linear %x, @up : tensor<?x?x8xf32> -> tensor<?x?x192xf32>
    // expected-error @below {{fathom-shard: the MLP projection @gate is block-quantized in blocks of 128 along dimension 0, but a part would hold 64 (192 / 3); parts must hold whole blocks}}
    %m = fathom.silu_mul %g, %u : tensor<?x?x192xf32>
    %h = fathom.linear %m, @down : tensor<?x?x192xf32> -> tensor<?x?x8xf32>
    return %h : tensor<?x?x8xf32>
  }
}

// -----

// Four experts over three ranks (the EXPERTS run); --tp 3 leaves them whole.
module {
  fathom.param @router : tensor<4x8xf32>
  fathom.param @g0 : tensor<4x8xf32>
  fathom.param @g1 : tensor<4x8xf32>
  fathom.param @g2 : tensor<4x8xf32>
  fathom.param @g3 : tensor<4x8xf32>
  fathom.param @d0 : tensor<8x4xf32>
  fathom.param @d1 : tensor<8x4xf32>
  fathom.param @d2 : tensor<8x4xf32>
  fathom.param @d3 : tensor<8x4xf32>
  func.func @f(%h: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
    %w, %i = fathom.moe_router %h, @router {scoring = #fathom.scoring<softmax>, top_k = 2 : i64, n_group = 1 : i64, topk_group = 1 : i64, norm_topk_prob = false, routed_scaling_factor = 1.0 : f32} : tensor<?x?x8xf32> -> tensor<?x?x2xf32>, tensor<?x?x2xi32>
    %r = fathom.expert_ffn %h, %w, %i {gate_proj = [@g0, @g1, @g2, @g3], up_proj = [@g0, @g1, @g2, @g3], down_proj = [@d0, @d1, @d2, @d3]} : tensor<?x?x8xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi32>
    return %r : tensor<?x?x8xf32>
  }
}
