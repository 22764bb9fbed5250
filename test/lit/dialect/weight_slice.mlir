// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @kv_b : tensor<4x32x32xbf16> {source = "kv_b"}
fathom.param @k_part : tensor<4x16x32xbf16>
fathom.param @v_part : tensor<4x16x32xbf16>
fathom.param @rows : tensor<1x32x32xbf16>
fathom.param @cols : tensor<4x32x8xbf16>

// CHECK-LABEL: module
// CHECK: fathom.weight_slice %{{.*}} dim 1[0, 16] : tensor<4x32x32xbf16> -> tensor<4x16x32xbf16>
// CHECK: fathom.weight_slice %{{.*}} dim 1[16, 16] : tensor<4x32x32xbf16> -> tensor<4x16x32xbf16>
// CHECK: fathom.weight_slice %{{.*}} dim 0[3, 1] : tensor<4x32x32xbf16> -> tensor<1x32x32xbf16>
// CHECK: fathom.weight_slice %{{.*}} dim 2[24, 8] : tensor<4x32x32xbf16> -> tensor<4x32x8xbf16>
fathom.initializer {
  %0 = fathom.param_value @kv_b : tensor<4x32x32xbf16>
  %1 = fathom.weight_slice %0 dim 1[0, 16] : tensor<4x32x32xbf16> -> tensor<4x16x32xbf16>
  fathom.define_param @k_part = %1 : tensor<4x16x32xbf16>
  %2 = fathom.weight_slice %0 dim 1[16, 16] : tensor<4x32x32xbf16> -> tensor<4x16x32xbf16>
  fathom.define_param @v_part = %2 : tensor<4x16x32xbf16>
  %3 = fathom.weight_slice %0 dim 0[3, 1] : tensor<4x32x32xbf16> -> tensor<1x32x32xbf16>
  fathom.define_param @rows = %3 : tensor<1x32x32xbf16>
  %4 = fathom.weight_slice %0 dim 2[24, 8] : tensor<4x32x32xbf16> -> tensor<4x32x8xbf16>
  fathom.define_param @cols = %4 : tensor<4x32x8xbf16>
}
