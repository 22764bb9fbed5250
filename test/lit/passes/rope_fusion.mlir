// RUN: fathom-opt %s -fathom-rope-fusion -split-input-file | FileCheck %s
// Folded ropes rotate halves and fused ones are gone, so a second run changes nothing.
// RUN: fathom-opt %s -fathom-rope-fusion -fathom-rope-fusion -split-input-file | FileCheck %s

// DeepSeek-V3's rope_interleave: the query's rope rows of every head (offset 4, 2 rows, every
// 6) and the shared key's (offset 4 of kv_a_proj_with_mqa, bias included) are de-interleaved by
// the initializer, so the GEMMs write rotate-half pairs; the query's rope moves into attention
// and the key's into the cache append. No fathom.rope is left.
// CHECK-LABEL: module
// CHECK: func.func @prefill(%[[X:.*]]: tensor<?x?x8xbf16>, %[[POS:.*]]: tensor<?x?xi64>, %[[MASK:.*]]: tensor<?x?xi1>, %[[START:.*]]: tensor<?xi64>)
// CHECK: %[[Q:.*]] = fathom.linear %[[X]], @q.rope_halves :
// CHECK: %[[QH:.*]] = fathom.split_heads %[[Q]]
// CHECK: %[[QNOPE:.*]] = fathom.slice %[[QH]][0, 4]
// CHECK: %[[QPE:.*]] = fathom.slice %[[QH]][4, 2]
// CHECK: %[[KVA:.*]] = fathom.linear %[[X]], @kva.rope_halves bias @kva_bias.rope_halves :
// CHECK: %[[KPE:.*]] = fathom.slice %[[KVA]][4, 2]
// CHECK: fathom.cache_append @c(%{{.*}}, %[[KPE]]) start(%[[START]]) rope(%[[POS]]) {rope_cos = @cos, rope_mode = #fathom.rope_mode<rotate_half>, rope_piece = 1 : i64, rope_sin = @sin}
// CHECK: fathom.attention q(%[[QNOPE]], %[[QPE]]) k({{.*}}) v({{.*}}) mask(%[[MASK]]) start(%[[START]]) rope(%[[POS]]) scale 2.500000e-01 {causal, rope_cos = @cos, rope_mode = #fathom.rope_mode<rotate_half>, rope_sin = @sin}
// CHECK-NOT: fathom.rope
// CHECK: fathom.initializer
// CHECK: fathom.param_value @q : tensor<12x8xbf16>
// CHECK-NEXT: fathom.weight_deinterleave_rows %{{.*}} window(4, 2, 6) : tensor<12x8xbf16>
// CHECK-NEXT: fathom.define_param @q.rope_halves
// CHECK: fathom.param_value @kva : tensor<6x8xbf16>
// CHECK-NEXT: fathom.weight_deinterleave_rows %{{.*}} window(4, 2, 6) : tensor<6x8xbf16>
// CHECK-NEXT: fathom.define_param @kva.rope_halves
// CHECK: fathom.param_value @kva_bias : tensor<6xbf16>
// CHECK-NEXT: fathom.weight_deinterleave_rows %{{.*}} window(4, 2, 6) : tensor<6xbf16>
// CHECK-NEXT: fathom.define_param @kva_bias.rope_halves
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 16 : i64} {
  fathom.param @q : tensor<12x8xbf16>
  fathom.param @kva : tensor<6x8xbf16>
  fathom.param @kva_bias : tensor<6xbf16>
  fathom.param @kvnorm : tensor<4xbf16>
  fathom.param @cos : tensor<16x1xbf16>
  fathom.param @sin : tensor<16x1xbf16>
  fathom.cache @c : tensor<6xbf16>
  func.func @prefill(%x: tensor<?x?x8xbf16>, %pos: tensor<?x?xi64>, %mask: tensor<?x?xi1>, %start: tensor<?xi64>) -> tensor<?x?x2x4xbf16> {
    %0 = fathom.linear %x, @q : tensor<?x?x8xbf16> -> tensor<?x?x12xbf16>
    %1 = fathom.split_heads %0 : tensor<?x?x12xbf16> -> tensor<?x?x2x6xbf16>
    %2 = fathom.slice %1[0, 4] : tensor<?x?x2x6xbf16> -> tensor<?x?x2x4xbf16>
    %3 = fathom.slice %1[4, 2] : tensor<?x?x2x6xbf16> -> tensor<?x?x2x2xbf16>
    %4 = fathom.rope %3, %pos, @cos, @sin <interleaved> : tensor<?x?x2x2xbf16>, tensor<?x?xi64>
    %5 = fathom.linear %x, @kva bias @kva_bias : tensor<?x?x8xbf16> -> tensor<?x?x6xbf16>
    %6 = fathom.slice %5[0, 4] : tensor<?x?x6xbf16> -> tensor<?x?x4xbf16>
    %7 = fathom.rms_norm %6, @kvnorm eps 1.0e-6 : tensor<?x?x4xbf16>
    %8 = fathom.slice %5[4, 2] : tensor<?x?x6xbf16> -> tensor<?x?x2xbf16>
    %9 = fathom.rope %8, %pos, @cos, @sin <interleaved> : tensor<?x?x2xbf16>, tensor<?x?xi64>
    %10 = fathom.cache_append @c(%7, %9) start(%start) : (tensor<?x?x4xbf16>, tensor<?x?x2xbf16>, tensor<?xi64>) -> tensor<?x?x6xbf16>
    %11 = fathom.slice %10[0, 4] : tensor<?x?x6xbf16> -> tensor<?x?x4xbf16>
    %12 = fathom.split_heads %11 : tensor<?x?x4xbf16> -> tensor<?x?x1x4xbf16>
    %13 = fathom.slice %10[4, 2] : tensor<?x?x6xbf16> -> tensor<?x?x2xbf16>
    %14 = fathom.split_heads %13 : tensor<?x?x2xbf16> -> tensor<?x?x1x2xbf16>
    %15 = fathom.attention q(%2, %4) k(%12, %14) v(%12) mask(%mask) start(%start) scale 0.25 {causal} : (tensor<?x?x2x4xbf16>, tensor<?x?x2x2xbf16>, tensor<?x?x1x4xbf16>, tensor<?x?x1x2xbf16>, tensor<?x?x1x4xbf16>, tensor<?x?xi1>, tensor<?xi64>) -> tensor<?x?x2x4xbf16>
    return %15 : tensor<?x?x2x4xbf16>
  }
}

// -----

// An FP8 projection whose rope rows cross a 128-row scale block (head 0: rows 126..129) cannot
// be permuted under its scales: the rope keeps its interleaved mode, and is still fused. One
// that stays inside its blocks (the key's rows 4..5) is folded, scales unchanged.
// CHECK-LABEL: module
// CHECK-NOT: @q8.rope_halves
// CHECK: func.func @straddle
// CHECK: fathom.linear %{{.*}}, @q8 :
// CHECK: fathom.linear %{{.*}}, @k8.rope_halves :
// CHECK: fathom.rope %{{.*}} <rotate_half>
// CHECK: fathom.attention {{.*}} rope(%{{.*}}) {{.*}}rope_mode = #fathom.rope_mode<interleaved>
// CHECK: fathom.param @k8.rope_halves : tensor<6x8xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @k8_scale
// CHECK-NOT: @q8.rope_halves
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 16 : i64} {
  fathom.param @q8 : tensor<260x8xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @q8_scale
  fathom.param @q8_scale : tensor<3x1xf32>
  fathom.param @k8 : tensor<6x8xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @k8_scale
  fathom.param @k8_scale : tensor<1x1xf32>
  fathom.param @cos : tensor<16x2xbf16>
  fathom.param @sin : tensor<16x2xbf16>
  func.func @straddle(%x: tensor<?x?x8xbf16>, %pos: tensor<?x?xi64>, %mask: tensor<?x?xi1>) -> tensor<?x?x2x126xbf16> {
    %0 = fathom.linear %x, @q8 : tensor<?x?x8xbf16> -> tensor<?x?x260xbf16>
    %1 = fathom.split_heads %0 : tensor<?x?x260xbf16> -> tensor<?x?x2x130xbf16>
    %2 = fathom.slice %1[0, 126] : tensor<?x?x2x130xbf16> -> tensor<?x?x2x126xbf16>
    %3 = fathom.slice %1[126, 4] : tensor<?x?x2x130xbf16> -> tensor<?x?x2x4xbf16>
    %4 = fathom.rope %3, %pos, @cos, @sin <interleaved> : tensor<?x?x2x4xbf16>, tensor<?x?xi64>
    %5 = fathom.linear %x, @k8 : tensor<?x?x8xbf16> -> tensor<?x?x6xbf16>
    %6 = fathom.slice %5[0, 2] : tensor<?x?x6xbf16> -> tensor<?x?x2xbf16>
    %7 = fathom.slice %5[2, 4] : tensor<?x?x6xbf16> -> tensor<?x?x4xbf16>
    %8 = fathom.rope %7, %pos, @cos, @sin <interleaved> : tensor<?x?x4xbf16>, tensor<?x?xi64>
    %9 = fathom.split_heads %8 : tensor<?x?x4xbf16> -> tensor<?x?x1x4xbf16>
    %10 = fathom.attention q(%2, %4) k(%2, %9) v(%2) mask(%mask) scale 0.25 {causal} : (tensor<?x?x2x126xbf16>, tensor<?x?x2x4xbf16>, tensor<?x?x2x126xbf16>, tensor<?x?x1x4xbf16>, tensor<?x?x2x126xbf16>, tensor<?x?xi1>) -> tensor<?x?x2x126xbf16>
    return %10 : tensor<?x?x2x126xbf16>
  }
}

// -----

// DeepSeek-V2's complex pairs change their output layout when folded (pairs become halves), so
// queries and keys must fold together: here the query's FP8 rows cannot, so neither does. The
// query's rope is still fused; the key's, which feeds attention's key directly (no cache), stays.
// CHECK-LABEL: module
// CHECK-NOT: rope_halves
// CHECK: func.func @complex
// CHECK: %[[K:.*]] = fathom.rope %{{.*}} <complex>
// CHECK: fathom.split_heads %[[K]]
// CHECK: fathom.attention {{.*}} rope(%{{.*}}) {{.*}}rope_mode = #fathom.rope_mode<complex>
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 16 : i64} {
  fathom.param @q8 : tensor<260x8xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @q8_scale
  fathom.param @q8_scale : tensor<3x1xf32>
  fathom.param @k : tensor<6x8xf32>
  fathom.param @cos : tensor<16x2xf32>
  fathom.param @sin : tensor<16x2xf32>
  func.func @complex(%x: tensor<?x?x8xf32>, %pos: tensor<?x?xi64>, %mask: tensor<?x?xi1>) -> tensor<?x?x2x126xf32> {
    %0 = fathom.linear %x, @q8 : tensor<?x?x8xf32> -> tensor<?x?x260xf32>
    %1 = fathom.split_heads %0 : tensor<?x?x260xf32> -> tensor<?x?x2x130xf32>
    %2 = fathom.slice %1[0, 126] : tensor<?x?x2x130xf32> -> tensor<?x?x2x126xf32>
    %3 = fathom.slice %1[126, 4] : tensor<?x?x2x130xf32> -> tensor<?x?x2x4xf32>
    %4 = fathom.rope %3, %pos, @cos, @sin <complex> : tensor<?x?x2x4xf32>, tensor<?x?xi64>
    %5 = fathom.linear %x, @k : tensor<?x?x8xf32> -> tensor<?x?x6xf32>
    %6 = fathom.slice %5[2, 4] : tensor<?x?x6xf32> -> tensor<?x?x4xf32>
    %7 = fathom.rope %6, %pos, @cos, @sin <complex> : tensor<?x?x4xf32>, tensor<?x?xi64>
    %8 = fathom.split_heads %7 : tensor<?x?x4xf32> -> tensor<?x?x1x4xf32>
    %9 = fathom.attention q(%2, %4) k(%2, %8) v(%2) mask(%mask) scale 0.25 {causal} : (tensor<?x?x2x126xf32>, tensor<?x?x2x4xf32>, tensor<?x?x2x126xf32>, tensor<?x?x1x4xf32>, tensor<?x?x2x126xf32>, tensor<?x?xi1>) -> tensor<?x?x2x126xf32>
    return %9 : tensor<?x?x2x126xf32>
  }
}

// -----

// When every complex rope folds, they all switch to complex_halves. A rope that another op also
// reads is folded but not fused, and a projection whose rope columns another op reads too
// (the returned %3) is not permuted.
// CHECK-LABEL: module
// CHECK: func.func @shared
// CHECK: fathom.linear %{{.*}}, @a.rope_halves
// CHECK: %[[R:.*]] = fathom.rope %{{.*}} <complex_halves>
// CHECK: fathom.add %[[R]], %[[R]]
// CHECK: fathom.linear %{{.*}}, @b :
// CHECK: fathom.rope %{{.*}} <interleaved>
// CHECK-NOT: @b.rope_halves
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 16 : i64} {
  fathom.param @a : tensor<4x8xf32>
  fathom.param @b : tensor<4x8xf32>
  fathom.param @cos : tensor<16x2xf32>
  fathom.param @sin : tensor<16x2xf32>
  fathom.param @hcos : tensor<16x2xf32>
  fathom.param @hsin : tensor<16x2xf32>
  func.func @shared(%x: tensor<?x?x8xf32>, %pos: tensor<?x?xi64>) -> (tensor<?x?x4xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>) {
    %0 = fathom.linear %x, @a : tensor<?x?x8xf32> -> tensor<?x?x4xf32>
    %1 = fathom.rope %0, %pos, @cos, @sin <complex> : tensor<?x?x4xf32>, tensor<?x?xi64>
    %2 = fathom.add %1, %1 : tensor<?x?x4xf32>
    %3 = fathom.linear %x, @b : tensor<?x?x8xf32> -> tensor<?x?x4xf32>
    %4 = fathom.rope %3, %pos, @hcos, @hsin <interleaved> : tensor<?x?x4xf32>, tensor<?x?xi64>
    %5 = fathom.slice %3[0, 2] : tensor<?x?x4xf32> -> tensor<?x?x2xf32>
    return %2, %4, %3 : tensor<?x?x4xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>
  }
}
