// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @experts.down_proj : tensor<3x64x32xbf16>

// CHECK-LABEL: func.func @down
func.func @down(%x: tensor<?x32xbf16>, %offsets: tensor<4xi32>) -> tensor<?x64xbf16> {
  // CHECK: fathom.grouped_linear %{{.*}}, %{{.*}}, @experts.down_proj : tensor<?x32xbf16>, tensor<4xi32> -> tensor<?x64xbf16>
  %0 = fathom.grouped_linear %x, %offsets, @experts.down_proj : tensor<?x32xbf16>, tensor<4xi32> -> tensor<?x64xbf16>
  return %0 : tensor<?x64xbf16>
}
