// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @k : tensor<4x16x32xbf16> {source = "k"}
fathom.param @k.t : tensor<4x32x16xbf16>
fathom.param @w : tensor<96x64xf32> {source = "w"}
fathom.param @w.t : tensor<64x96xf32>

// CHECK-LABEL: module
// CHECK: fathom.weight_transpose %{{.*}} : tensor<4x16x32xbf16> -> tensor<4x32x16xbf16>
// CHECK: fathom.weight_transpose %{{.*}} : tensor<96x64xf32> -> tensor<64x96xf32>
fathom.initializer {
  %0 = fathom.param_value @k : tensor<4x16x32xbf16>
  %1 = fathom.weight_transpose %0 : tensor<4x16x32xbf16> -> tensor<4x32x16xbf16>
  fathom.define_param @k.t = %1 : tensor<4x32x16xbf16>
  %2 = fathom.param_value @w : tensor<96x64xf32>
  %3 = fathom.weight_transpose %2 : tensor<96x64xf32> -> tensor<64x96xf32>
  fathom.define_param @w.t = %3 : tensor<64x96xf32>
}
