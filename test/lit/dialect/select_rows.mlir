// RUN: fathom-opt %s | fathom-opt | FileCheck %s

// CHECK-LABEL: func.func @head_rows
func.func @head_rows(%x: tensor<?x?x64xbf16>, %rows: tensor<?xi64>) -> tensor<?x64xbf16> {
  // CHECK: fathom.select_rows %{{.*}}, %{{.*}} : tensor<?x?x64xbf16>, tensor<?xi64> -> tensor<?x64xbf16>
  %0 = fathom.select_rows %x, %rows : tensor<?x?x64xbf16>, tensor<?xi64> -> tensor<?x64xbf16>
  return %0 : tensor<?x64xbf16>
}

// CHECK-LABEL: func.func @pooled
func.func @pooled(%x: tensor<2x5x64xf32>, %rows: tensor<2xi32>) -> tensor<2x64xf32> {
  // CHECK: fathom.select_rows %{{.*}}, %{{.*}} : tensor<2x5x64xf32>, tensor<2xi32> -> tensor<2x64xf32>
  %0 = fathom.select_rows %x, %rows : tensor<2x5x64xf32>, tensor<2xi32> -> tensor<2x64xf32>
  return %0 : tensor<2x64xf32>
}
