// RUN: fathom-opt %s -fathom-lower-to-kernels -fathom-plan-memory | FileCheck %s
// Planning again gives the same plan.
// RUN: fathom-opt %s -fathom-lower-to-kernels -fathom-plan-memory -fathom-plan-memory | FileCheck %s

// max_batch 2 x 4 tokens: an [8 rows x 8 f32] value takes 256 B, the ids 64 B. Values whose
// lifetimes overlap never share bytes: the embedding (read again by the add) keeps [0, 256)
// while the norm, the projection and the add come and go; the ids' bytes are free again once
// the embedding read them. Views (the head split and merge) and the cache append's result own
// no buffer (-1), and neither does the entry's result, which the runtime sizes per call. The
// inputs the whole call reads (cache_start, head_rows) stay put.
// CHECK: func.func @prefill(%{{.*}}: tensor<?x?xi64> {fathom.arena_offsets = 256 : i64, fathom.input = "ids"}, %{{.*}}: tensor<?xi64> {fathom.arena_offsets = 832 : i64, fathom.input = "cache_start"}, %{{.*}}: tensor<?xi64> {fathom.arena_offsets = 768 : i64, fathom.input = "head_rows"})
// CHECK-SAME: fathom.arena_size = 896 : i64
// CHECK: fathom.embedding {{.*}}fathom.arena_offsets = array<i64: 0>
// CHECK: fathom.rms_norm {{.*}}fathom.arena_offsets = array<i64: 256>
// CHECK: fathom.split_heads {{.*}}fathom.arena_offsets = array<i64: -1>
// CHECK: fathom.merge_heads {{.*}}fathom.arena_offsets = array<i64: -1>
// CHECK: fathom.linear {{.*}}fathom.arena_offsets = array<i64: 512>
// CHECK: fathom.cache_append {{.*}}fathom.arena_offsets = array<i64: -1>
// CHECK: fathom.linear {{.*}}fathom.arena_offsets = array<i64: 256>
// CHECK: fathom.add {{.*}}fathom.arena_offsets = array<i64: 256>
// CHECK: fathom.select_rows {{.*}}fathom.arena_offsets = array<i64: 0>
// CHECK: fathom.lm_head {{.*}}fathom.arena_offsets = array<i64: -1>
module attributes {fathom.max_batch = 2 : i64, fathom.max_seq_len = 4 : i64} {
  fathom.param @table : tensor<16x8xf32>
  fathom.param @norm : tensor<8xf32>
  fathom.param @w : tensor<8x8xf32>
  fathom.param @head : tensor<16x8xf32>
  fathom.cache @c : tensor<8xf32>
  func.func @prefill(%ids: tensor<?x?xi64> {fathom.input = "ids"}, %start: tensor<?xi64> {fathom.input = "cache_start"}, %rows: tensor<?xi64> {fathom.input = "head_rows"}) -> tensor<?x16xf32> attributes {fathom.entry_point = "prefill", fathom.max_tokens = 4 : i64} {
    %0 = fathom.embedding %ids, @table : tensor<?x?xi64> -> tensor<?x?x8xf32>
    %1 = fathom.rms_norm %0, @norm eps 1.0e-6 : tensor<?x?x8xf32>
    %2 = fathom.split_heads %1 : tensor<?x?x8xf32> -> tensor<?x?x2x4xf32>
    %3 = fathom.merge_heads %2 : tensor<?x?x2x4xf32> -> tensor<?x?x8xf32>
    %4 = fathom.linear %3, @w : tensor<?x?x8xf32> -> tensor<?x?x8xf32>
    %5 = fathom.cache_append @c(%4) start(%start) : (tensor<?x?x8xf32>, tensor<?xi64>) -> tensor<?x?x8xf32>
    %6 = fathom.linear %5, @w : tensor<?x?x8xf32> -> tensor<?x?x8xf32>
    %7 = fathom.add %0, %4 : tensor<?x?x8xf32>
    %8 = fathom.select_rows %7, %rows : tensor<?x?x8xf32>, tensor<?xi64> -> tensor<?x8xf32>
    %9 = fathom.lm_head %8, @head : tensor<?x8xf32> -> tensor<?x16xf32>
    return %9 : tensor<?x16xf32>
  }
}
