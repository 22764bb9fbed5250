// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @kv_b : tensor<128x32xbf16> {source = "kv_b"}
fathom.param @per_head : tensor<4x32x32xbf16>
fathom.param @flat : tensor<4096xbf16>

// CHECK-LABEL: module
// CHECK: fathom.weight_reshape %{{.*}} : tensor<128x32xbf16> -> tensor<4x32x32xbf16>
// CHECK: fathom.weight_reshape %{{.*}} : tensor<4x32x32xbf16> -> tensor<4096xbf16>
fathom.initializer {
  %0 = fathom.param_value @kv_b : tensor<128x32xbf16>
  %1 = fathom.weight_reshape %0 : tensor<128x32xbf16> -> tensor<4x32x32xbf16>
  fathom.define_param @per_head = %1 : tensor<4x32x32xbf16>
  %2 = fathom.weight_reshape %1 : tensor<4x32x32xbf16> -> tensor<4096xbf16>
  fathom.define_param @flat = %2 : tensor<4096xbf16>
}
