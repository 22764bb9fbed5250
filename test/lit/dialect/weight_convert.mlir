// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @w : tensor<96x64xbf16> {source = "w"}
fathom.param @w.f32 : tensor<96x64xf32>
fathom.param @w.f16 : tensor<96x64xf16>

// CHECK-LABEL: module
// CHECK: fathom.weight_convert %{{.*}} : tensor<96x64xbf16> -> tensor<96x64xf32>
// CHECK: fathom.weight_convert %{{.*}} : tensor<96x64xf32> -> tensor<96x64xf16>
fathom.initializer {
  %0 = fathom.param_value @w : tensor<96x64xbf16>
  %1 = fathom.weight_convert %0 : tensor<96x64xbf16> -> tensor<96x64xf32>
  fathom.define_param @w.f32 = %1 : tensor<96x64xf32>
  %2 = fathom.weight_convert %1 : tensor<96x64xf32> -> tensor<96x64xf16>
  fathom.define_param @w.f16 = %2 : tensor<96x64xf16>
}
