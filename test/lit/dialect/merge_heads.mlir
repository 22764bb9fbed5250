// RUN: fathom-opt %s | fathom-opt | FileCheck %s

// CHECK-LABEL: func.func @attention_out
func.func @attention_out(%x: tensor<?x?x4x16xbf16>) -> tensor<?x?x64xbf16> {
  // CHECK: fathom.merge_heads %{{.*}} : tensor<?x?x4x16xbf16> -> tensor<?x?x64xbf16>
  %0 = fathom.merge_heads %x : tensor<?x?x4x16xbf16> -> tensor<?x?x64xbf16>
  return %0 : tensor<?x?x64xbf16>
}

// merge_heads of split_heads folds away, but only under canonicalization.
// CHECK-LABEL: func.func @split_then_merge
func.func @split_then_merge(%x: tensor<2x3x64xf32>) -> tensor<2x3x64xf32> {
  // CHECK: %[[S:.*]] = fathom.split_heads %{{.*}} : tensor<2x3x64xf32> -> tensor<2x3x4x16xf32>
  // CHECK: fathom.merge_heads %[[S]] : tensor<2x3x4x16xf32> -> tensor<2x3x64xf32>
  %0 = fathom.split_heads %x : tensor<2x3x64xf32> -> tensor<2x3x4x16xf32>
  %1 = fathom.merge_heads %0 : tensor<2x3x4x16xf32> -> tensor<2x3x64xf32>
  return %1 : tensor<2x3x64xf32>
}
