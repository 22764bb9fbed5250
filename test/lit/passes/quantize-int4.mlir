// RUN: fathom-opt %s -fathom-quantize=mode=int4 -split-input-file | FileCheck %s
// A second run changes nothing more: the INT4 weights it made are quantized already.
// RUN: fathom-opt %s -fathom-quantize=mode=int4 -fathom-quantize=mode=int4 -split-input-file | FileCheck %s

// fathom-quantize{mode=int4}: the same weights as fp8 become ui4 codes with an f32 scale and a
// ui4 zero point per row and 128 inputs (300 inputs: three groups, the last partial), all three
// from one weight_group_quantize of the checkpoint's values; the LM head stays as it is.
// CHECK-LABEL: module
// CHECK: fathom.linear %{{.*}}, @mlp.up.int4 : tensor<?x300xbf16> -> tensor<?x40xbf16>
// CHECK: fathom.lm_head %{{.*}}, @head
// CHECK: fathom.param @mlp.up.int4_scale : tensor<40x3xf32>
// CHECK: fathom.param @mlp.up.int4_zero : tensor<40x3xui4>
// CHECK: fathom.param @mlp.up.int4 : tensor<40x300xui4> quantized <storage = u4, rows = 1, cols = 128> scale @mlp.up.int4_scale {zero = @mlp.up.int4_zero}
// CHECK: fathom.initializer
// CHECK: %[[V:.*]] = fathom.param_value @mlp.up.checkpoint : tensor<40x300xf32>
// CHECK: %[[Q:.*]], %[[S:.*]], %[[Z:.*]] = fathom.weight_group_quantize %[[V]] group(128) : tensor<40x300xf32> -> tensor<40x300xui4>, tensor<40x3xf32>, tensor<40x3xui4>
// CHECK: fathom.define_param @mlp.up.int4_scale = %[[S]]
// CHECK: fathom.define_param @mlp.up.int4_zero = %[[Z]]
// CHECK: fathom.define_param @mlp.up.int4 = %[[Q]]
// CHECK-NOT: weight_group_quantize
module {
  fathom.param @mlp.up : tensor<40x300xbf16> {source = "mlp.up", source_dtype = #fathom.dtype<f32>}
  fathom.param @head : tensor<16x40xbf16>
  func.func @f(%x: tensor<?x300xbf16>) -> tensor<?x16xbf16> {
    %h = fathom.linear %x, @mlp.up : tensor<?x300xbf16> -> tensor<?x40xbf16>
    %logits = fathom.lm_head %h, @head : tensor<?x40xbf16> -> tensor<?x16xbf16>
    return %logits : tensor<?x16xbf16>
  }
}

// -----

// An FP8 checkpoint's weight is dequantized in fp32, then quantized to INT4.
// CHECK-LABEL: module
// CHECK: fathom.linear %{{.*}}, @w8.int4
// CHECK: fathom.param @w8.int4 : tensor<96x64xui4> quantized <storage = u4, rows = 1, cols = 128>
// CHECK: %[[D:.*]] = fathom.param_value @w8 : tensor<96x64xf8E4M3FN>
// CHECK: %[[S:.*]] = fathom.param_value @w8_scale : tensor<1x1xf32>
// CHECK: %[[F:.*]] = fathom.weight_dequantize %[[D]], %[[S]] block(128, 128) : tensor<96x64xf8E4M3FN>, tensor<1x1xf32> -> tensor<96x64xf32>
// CHECK: fathom.weight_group_quantize %[[F]] group(128)
module {
  fathom.param @w8 : tensor<96x64xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @w8_scale
  fathom.param @w8_scale : tensor<1x1xf32>
  func.func @f(%x: tensor<2x64xf32>) -> tensor<2x96xf32> {
    %1 = fathom.linear %x, @w8 : tensor<2x64xf32> -> tensor<2x96xf32>
    %2 = fathom.add %1, %1 : tensor<2x96xf32>
    return %2 : tensor<2x96xf32>
  }
}
