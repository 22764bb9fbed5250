// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @rope.cos.bf16 : tensor<16x4xbf16>
fathom.param @rope.sin.bf16 : tensor<16x4xbf16>

// MLA absorption's decode attention as fathom-rope-fusion leaves it: a shared rope key head,
// the query's rope half rotated on load.
// CHECK-LABEL: func.func @mla_fused_rope
func.func @mla_fused_rope(%q: tensor<?x?x4x16xbf16>, %qr: tensor<?x?x4x8xbf16>, %k: tensor<?x?x4x16xbf16>, %kr: tensor<?x?x1x8xbf16>, %v: tensor<?x?x4x16xbf16>, %mask: tensor<?x?xi1>, %start: tensor<?xi64>, %pos: tensor<?x?xi64>) -> tensor<?x?x4x16xbf16> {
  // CHECK: fathom.attention q(%{{.*}}, %{{.*}}) k(%{{.*}}, %{{.*}}) v(%{{.*}}) mask(%{{.*}}) start(%{{.*}}) rope(%{{.*}}) scale 2.500000e-01 {causal, rope_cos = @rope.cos.bf16, rope_mode = #fathom.rope_mode<rotate_half>, rope_sin = @rope.sin.bf16} : (tensor<?x?x4x16xbf16>, tensor<?x?x4x8xbf16>, tensor<?x?x4x16xbf16>, tensor<?x?x1x8xbf16>, tensor<?x?x4x16xbf16>, tensor<?x?xi1>, tensor<?xi64>, tensor<?x?xi64>) -> tensor<?x?x4x16xbf16>
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%mask) start(%start) rope(%pos) scale 0.25 {causal, rope_cos = @rope.cos.bf16, rope_sin = @rope.sin.bf16, rope_mode = #fathom.rope_mode<rotate_half>} : (tensor<?x?x4x16xbf16>, tensor<?x?x4x8xbf16>, tensor<?x?x4x16xbf16>, tensor<?x?x1x8xbf16>, tensor<?x?x4x16xbf16>, tensor<?x?xi1>, tensor<?xi64>, tensor<?x?xi64>) -> tensor<?x?x4x16xbf16>
  return %0 : tensor<?x?x4x16xbf16>
}

// Prefill without a cache: every query sits at keys - q_len + t.
// CHECK-LABEL: func.func @mla_prefill
func.func @mla_prefill(%q: tensor<?x?x4x16xbf16>, %qr: tensor<?x?x4x8xbf16>, %k: tensor<?x?x4x16xbf16>, %kr: tensor<?x?x4x8xbf16>, %v: tensor<?x?x4x16xbf16>, %mask: tensor<?x?xi1>) -> tensor<?x?x4x16xbf16> {
  // CHECK: fathom.attention q(%{{.*}}, %{{.*}}) k(%{{.*}}, %{{.*}}) v(%{{.*}}) mask(%{{.*}}) scale 2.000000e-01 {causal} : (tensor<?x?x4x16xbf16>, tensor<?x?x4x8xbf16>, tensor<?x?x4x16xbf16>, tensor<?x?x4x8xbf16>, tensor<?x?x4x16xbf16>, tensor<?x?xi1>) -> tensor<?x?x4x16xbf16>
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%mask) scale 0.2 {causal} : (tensor<?x?x4x16xbf16>, tensor<?x?x4x8xbf16>, tensor<?x?x4x16xbf16>, tensor<?x?x4x8xbf16>, tensor<?x?x4x16xbf16>, tensor<?x?xi1>) -> tensor<?x?x4x16xbf16>
  return %0 : tensor<?x?x4x16xbf16>
}

// Grouped heads (8 query heads over 2 key/value heads), an f32 query and result over bf16
// keys, a query_start and no causal mask.
// CHECK-LABEL: func.func @gqa_mixed
func.func @gqa_mixed(%q: tensor<1x3x8x16xf32>, %qr: tensor<1x3x8x4xf32>, %k: tensor<1x7x2x16xbf16>, %kr: tensor<1x7x1x4xbf16>, %v: tensor<1x7x2x16xbf16>, %mask: tensor<1x7xi1>, %start: tensor<1xi32>) -> tensor<1x3x8x16xf32> {
  // CHECK: fathom.attention q(%{{.*}}, %{{.*}}) k(%{{.*}}, %{{.*}}) v(%{{.*}}) mask(%{{.*}}) start(%{{.*}}) scale 2.500000e-01 : (tensor<1x3x8x16xf32>, tensor<1x3x8x4xf32>, tensor<1x7x2x16xbf16>, tensor<1x7x1x4xbf16>, tensor<1x7x2x16xbf16>, tensor<1x7xi1>, tensor<1xi32>) -> tensor<1x3x8x16xf32>
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%mask) start(%start) scale 0.25 : (tensor<1x3x8x16xf32>, tensor<1x3x8x4xf32>, tensor<1x7x2x16xbf16>, tensor<1x7x1x4xbf16>, tensor<1x7x2x16xbf16>, tensor<1x7xi1>, tensor<1xi32>) -> tensor<1x3x8x16xf32>
  return %0 : tensor<1x3x8x16xf32>
}

// Plain attention, no rope halves: q(...) and k(...) take one operand each.
// CHECK-LABEL: func.func @plain
func.func @plain(%q: tensor<2x5x4x16xbf16>, %k: tensor<2x9x4x16xbf16>, %v: tensor<2x9x4x32xbf16>, %mask: tensor<2x9xi1>) -> tensor<2x5x4x32xbf16> {
  // CHECK: fathom.attention q(%{{[^,]*}}) k(%{{[^,]*}}) v(%{{.*}}) mask(%{{.*}}) scale 2.500000e-01 {causal} : (tensor<2x5x4x16xbf16>, tensor<2x9x4x16xbf16>, tensor<2x9x4x32xbf16>, tensor<2x9xi1>) -> tensor<2x5x4x32xbf16>
  %0 = fathom.attention q(%q) k(%k) v(%v) mask(%mask) scale 0.25 {causal} : (tensor<2x5x4x16xbf16>, tensor<2x9x4x16xbf16>, tensor<2x9x4x32xbf16>, tensor<2x9xi1>) -> tensor<2x5x4x32xbf16>
  return %0 : tensor<2x5x4x32xbf16>
}

// Plain attention with a query_start: the start(...) group prints without rope(...).
// CHECK-LABEL: func.func @plain_start
func.func @plain_start(%q: tensor<?x1x4x16xf32>, %k: tensor<?x?x2x16xf32>, %v: tensor<?x?x2x16xf32>, %mask: tensor<?x?xi1>, %start: tensor<?xi64>) -> tensor<?x1x4x16xf32> {
  // CHECK: fathom.attention q(%{{[^,]*}}) k(%{{[^,]*}}) v(%{{.*}}) mask(%{{.*}}) start(%{{.*}}) scale 1.250000e-01 {causal} : (tensor<?x1x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi1>, tensor<?xi64>) -> tensor<?x1x4x16xf32>
  %0 = fathom.attention q(%q) k(%k) v(%v) mask(%mask) start(%start) scale 0.125 {causal} : (tensor<?x1x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi1>, tensor<?xi64>) -> tensor<?x1x4x16xf32>
  return %0 : tensor<?x1x4x16xf32>
}

// A fused rope without a query_start (prefill): rope(...) follows mask(...) directly.
// CHECK-LABEL: func.func @fused_rope_no_start
func.func @fused_rope_no_start(%q: tensor<?x?x4x16xbf16>, %qr: tensor<?x?x4x8xbf16>, %k: tensor<?x?x4x16xbf16>, %kr: tensor<?x?x1x8xbf16>, %v: tensor<?x?x4x16xbf16>, %mask: tensor<?x?xi1>, %pos: tensor<?x?xi64>) -> tensor<?x?x4x16xbf16> {
  // CHECK: fathom.attention q(%{{.*}}, %{{.*}}) k(%{{.*}}, %{{.*}}) v(%{{.*}}) mask(%{{[^)]*}}) rope(%{{.*}}) scale 2.500000e-01 {causal, rope_cos = @rope.cos.bf16, rope_mode = #fathom.rope_mode<interleaved>, rope_sin = @rope.sin.bf16} : (tensor<?x?x4x16xbf16>, tensor<?x?x4x8xbf16>, tensor<?x?x4x16xbf16>, tensor<?x?x1x8xbf16>, tensor<?x?x4x16xbf16>, tensor<?x?xi1>, tensor<?x?xi64>) -> tensor<?x?x4x16xbf16>
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%mask) rope(%pos) scale 0.25 {causal, rope_cos = @rope.cos.bf16, rope_sin = @rope.sin.bf16, rope_mode = #fathom.rope_mode<interleaved>} : (tensor<?x?x4x16xbf16>, tensor<?x?x4x8xbf16>, tensor<?x?x4x16xbf16>, tensor<?x?x1x8xbf16>, tensor<?x?x4x16xbf16>, tensor<?x?xi1>, tensor<?x?xi64>) -> tensor<?x?x4x16xbf16>
  return %0 : tensor<?x?x4x16xbf16>
}
