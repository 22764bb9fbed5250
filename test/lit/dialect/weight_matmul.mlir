// RUN: fathom-opt %s | fathom-opt | FileCheck %s

// Absorbing W_UK into q_b_proj per head: [4, 16, 32] @ [4, 32, 24].
fathom.param @a : tensor<4x16x32xbf16> {source = "a"}
fathom.param @b : tensor<4x32x24xbf16> {source = "b"}
fathom.param @ab : tensor<4x16x24xbf16>
fathom.param @x : tensor<64x32xf32> {source = "x"}
fathom.param @y : tensor<32x16xf32> {source = "y"}
fathom.param @xy : tensor<64x16xf32>

// CHECK-LABEL: module
// CHECK: fathom.weight_matmul %{{.*}}, %{{.*}} : tensor<4x16x32xbf16>, tensor<4x32x24xbf16> -> tensor<4x16x24xbf16>
// CHECK: fathom.weight_matmul %{{.*}}, %{{.*}} : tensor<64x32xf32>, tensor<32x16xf32> -> tensor<64x16xf32>
fathom.initializer {
  %0 = fathom.param_value @a : tensor<4x16x32xbf16>
  %1 = fathom.param_value @b : tensor<4x32x24xbf16>
  %2 = fathom.weight_matmul %0, %1 : tensor<4x16x32xbf16>, tensor<4x32x24xbf16> -> tensor<4x16x24xbf16>
  fathom.define_param @ab = %2 : tensor<4x16x24xbf16>
  %3 = fathom.param_value @x : tensor<64x32xf32>
  %4 = fathom.param_value @y : tensor<32x16xf32>
  %5 = fathom.weight_matmul %3, %4 : tensor<64x32xf32>, tensor<32x16xf32> -> tensor<64x16xf32>
  fathom.define_param @xy = %5 : tensor<64x16xf32>
}
