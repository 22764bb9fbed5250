// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @q_b : tensor<96x32xbf16> {source = "model.layers.0.self_attn.q_b_proj.weight"}
fathom.param @q_b.rope_halves : tensor<96x32xbf16>
fathom.param @rope.cos.f32 : tensor<16x4xf32>

// CHECK-LABEL: module
// CHECK: fathom.initializer {
// CHECK: fathom.define_param @q_b.rope_halves = %{{.*}} : tensor<96x32xbf16>
// CHECK: fathom.define_param @rope.cos.f32 = %{{.*}} : tensor<16x4xf32>
fathom.initializer {
  %0 = fathom.param_value @q_b : tensor<96x32xbf16>
  %1 = fathom.weight_deinterleave_rows %0 window(16, 8, 24) : tensor<96x32xbf16>
  fathom.define_param @q_b.rope_halves = %1 : tensor<96x32xbf16>
  %2 = fathom.rope_table <cos> <theta = 10000.0, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false> : tensor<16x4xf32>
  fathom.define_param @rope.cos.f32 = %2 : tensor<16x4xf32>
}
