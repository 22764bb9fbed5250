// RUN: fathom-opt %s | fathom-opt | FileCheck %s

// INT4 codes with their f32 scales and ui4 zero points per row and 128 inputs (the last group
// partial), and back.
// CHECK: fathom.weight_group_quantize %{{.*}} group(128) : tensor<3x300xf32> -> tensor<3x300xui4>, tensor<3x3xf32>, tensor<3x3xui4>
// CHECK: fathom.weight_dequantize %{{.*}}, %{{.*}} zero %{{.*}} block(1, 128) : tensor<3x300xui4>, tensor<3x3xf32>, tensor<3x3xui4> -> tensor<3x300xbf16>
// CHECK: fathom.weight_concat {{.*}} dim 0 : tensor<3x300xui4>, tensor<3x300xui4> -> tensor<6x300xui4>
fathom.param @w : tensor<3x300xf32>
fathom.param @deq : tensor<3x300xbf16>
fathom.param @stack : tensor<6x300xui4>
fathom.initializer {
  %w = fathom.param_value @w : tensor<3x300xf32>
  %q, %s, %z = fathom.weight_group_quantize %w group(128) : tensor<3x300xf32> -> tensor<3x300xui4>, tensor<3x3xf32>, tensor<3x3xui4>
  %d = fathom.weight_dequantize %q, %s zero %z block(1, 128) : tensor<3x300xui4>, tensor<3x3xf32>, tensor<3x3xui4> -> tensor<3x300xbf16>
  fathom.define_param @deq = %d : tensor<3x300xbf16>
  %j = fathom.weight_concat %q, %q dim 0 : tensor<3x300xui4>, tensor<3x300xui4> -> tensor<6x300xui4>
  fathom.define_param @stack = %j : tensor<6x300xui4>
}
