// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @w : tensor<200x160xbf16> {source = "w"}
fathom.param @w.fp8 : tensor<200x160xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @w.fp8_scale
fathom.param @w.fp8_scale : tensor<2x2xf32>

// CHECK-LABEL: module
// CHECK: %{{.*}}, %{{.*}} = fathom.weight_quantize %{{.*}} block(128, 128) : tensor<200x160xbf16> -> tensor<200x160xf8E4M3FN>, tensor<2x2xf32>
fathom.initializer {
  %0 = fathom.param_value @w : tensor<200x160xbf16>
  %data, %scale = fathom.weight_quantize %0 block(128, 128) : tensor<200x160xbf16> -> tensor<200x160xf8E4M3FN>, tensor<2x2xf32>
  fathom.define_param @w.fp8 = %data : tensor<200x160xf8E4M3FN>
  fathom.define_param @w.fp8_scale = %scale : tensor<2x2xf32>
}
