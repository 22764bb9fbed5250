// RUN: fathom-opt %s | fathom-opt | FileCheck %s

// CHECK-LABEL: func.func @query
func.func @query(%x: tensor<?x?x96xbf16>) -> tensor<?x?x4x24xbf16> {
  // CHECK: fathom.split_heads %{{.*}} : tensor<?x?x96xbf16> -> tensor<?x?x4x24xbf16>
  %0 = fathom.split_heads %x : tensor<?x?x96xbf16> -> tensor<?x?x4x24xbf16>
  return %0 : tensor<?x?x4x24xbf16>
}

// One shared head (the MLA rope key).
// CHECK-LABEL: func.func @shared
func.func @shared(%x: tensor<2x3x8xf32>) -> tensor<2x3x1x8xf32> {
  // CHECK: fathom.split_heads %{{.*}} : tensor<2x3x8xf32> -> tensor<2x3x1x8xf32>
  %0 = fathom.split_heads %x : tensor<2x3x8xf32> -> tensor<2x3x1x8xf32>
  return %0 : tensor<2x3x1x8xf32>
}
