// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @w : tensor<96x32xbf16> {source = "w"}
fathom.param @w8 : tensor<200x160xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @w8_scale {source = "w8"}
fathom.param @w8_scale : tensor<2x2xf32> {source = "w8_scale"}
fathom.param @w.copy : tensor<96x32xbf16>
fathom.param @w8.bf16 : tensor<200x160xbf16>

// A quantized param's value is its stored data; the scale is a param of its own.
// CHECK-LABEL: module
// CHECK: fathom.initializer {
// CHECK: fathom.param_value @w : tensor<96x32xbf16>
// CHECK: fathom.param_value @w8 : tensor<200x160xf8E4M3FN>
// CHECK: fathom.param_value @w8_scale : tensor<2x2xf32>
fathom.initializer {
  %0 = fathom.param_value @w : tensor<96x32xbf16>
  fathom.define_param @w.copy = %0 : tensor<96x32xbf16>
  %1 = fathom.param_value @w8 : tensor<200x160xf8E4M3FN>
  %2 = fathom.param_value @w8_scale : tensor<2x2xf32>
  %3 = fathom.weight_dequantize %1, %2 block(128, 128) : tensor<200x160xf8E4M3FN>, tensor<2x2xf32> -> tensor<200x160xbf16>
  fathom.define_param @w8.bf16 = %3 : tensor<200x160xbf16>
}
