// RUN: fathom-opt %s | fathom-opt | FileCheck %s

// A derived param (no source) defined from a checkpoint param at compile time.
fathom.param @kv_b : tensor<128x32xbf16> {source = "model.layers.0.self_attn.kv_b_proj.weight"}
fathom.param @kv_b.absorbed_v : tensor<4x16x32xbf16>

// CHECK-LABEL: module
// CHECK: fathom.initializer {
// CHECK-NEXT: %[[W:.*]] = fathom.param_value @kv_b : tensor<128x32xbf16>
// CHECK-NEXT: %[[R:.*]] = fathom.weight_reshape %[[W]] : tensor<128x32xbf16> -> tensor<4x32x32xbf16>
// CHECK-NEXT: %[[V:.*]] = fathom.weight_slice %[[R]] dim 1[16, 16] : tensor<4x32x32xbf16> -> tensor<4x16x32xbf16>
// CHECK-NEXT: fathom.define_param @kv_b.absorbed_v = %[[V]] : tensor<4x16x32xbf16>
// CHECK-NEXT: }
fathom.initializer {
  %0 = fathom.param_value @kv_b : tensor<128x32xbf16>
  %1 = fathom.weight_reshape %0 : tensor<128x32xbf16> -> tensor<4x32x32xbf16>
  %2 = fathom.weight_slice %1 dim 1[16, 16] : tensor<4x32x32xbf16> -> tensor<4x16x32xbf16>
  fathom.define_param @kv_b.absorbed_v = %2 : tensor<4x16x32xbf16>
}
