// RUN: fathom-opt %s | fathom-opt | FileCheck %s

// The rope rows (16..24) of each of 4 heads of q_b_proj, and the shared rope key rows of
// kv_a_proj_with_mqa.
fathom.param @q_b : tensor<96x32xbf16> {source = "q_b"}
fathom.param @q_b.rope_halves : tensor<96x32xbf16>
fathom.param @kv_a : tensor<40x64xbf16> {source = "kv_a"}
fathom.param @kv_a.rope_halves : tensor<40x64xbf16>

// CHECK-LABEL: module
// CHECK: fathom.weight_deinterleave_rows %{{.*}} window(16, 8, 24) : tensor<96x32xbf16>
// CHECK: fathom.weight_deinterleave_rows %{{.*}} window(32, 8, 40) : tensor<40x64xbf16>
fathom.initializer {
  %0 = fathom.param_value @q_b : tensor<96x32xbf16>
  %1 = fathom.weight_deinterleave_rows %0 window(16, 8, 24) : tensor<96x32xbf16>
  fathom.define_param @q_b.rope_halves = %1 : tensor<96x32xbf16>
  %2 = fathom.param_value @kv_a : tensor<40x64xbf16>
  %3 = fathom.weight_deinterleave_rows %2 window(32, 8, 40) : tensor<40x64xbf16>
  fathom.define_param @kv_a.rope_halves = %3 : tensor<40x64xbf16>
}
