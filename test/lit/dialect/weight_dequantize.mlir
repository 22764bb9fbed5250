// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @w8 : tensor<200x160xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @w8_scale {source = "w8"}
fathom.param @w8_scale : tensor<2x2xf32> {source = "w8_scale_inv"}
fathom.param @w8.bf16 : tensor<200x160xbf16>
fathom.param @w5 : tensor<64x64xf8E5M2> quantized <storage = f8e5m2, rows = 32, cols = 64> scale @w5_scale {source = "w5"}
fathom.param @w5_scale : tensor<2x1xf32> {source = "w5_scale_inv"}
fathom.param @w5.f32 : tensor<64x64xf32>

// CHECK-LABEL: module
// CHECK: fathom.weight_dequantize %{{.*}}, %{{.*}} block(128, 128) : tensor<200x160xf8E4M3FN>, tensor<2x2xf32> -> tensor<200x160xbf16>
// CHECK: fathom.weight_dequantize %{{.*}}, %{{.*}} block(32, 64) : tensor<64x64xf8E5M2>, tensor<2x1xf32> -> tensor<64x64xf32>
fathom.initializer {
  %0 = fathom.param_value @w8 : tensor<200x160xf8E4M3FN>
  %1 = fathom.param_value @w8_scale : tensor<2x2xf32>
  %2 = fathom.weight_dequantize %0, %1 block(128, 128) : tensor<200x160xf8E4M3FN>, tensor<2x2xf32> -> tensor<200x160xbf16>
  fathom.define_param @w8.bf16 = %2 : tensor<200x160xbf16>
  %3 = fathom.param_value @w5 : tensor<64x64xf8E5M2>
  %4 = fathom.param_value @w5_scale : tensor<2x1xf32>
  %5 = fathom.weight_dequantize %3, %4 block(32, 64) : tensor<64x64xf8E5M2>, tensor<2x1xf32> -> tensor<64x64xf32>
  fathom.define_param @w5.f32 = %5 : tensor<64x64xf32>
}
