// RUN: fathom-opt %s | fathom-opt | FileCheck %s

// CHECK-LABEL: func.func @eager
func.func @eager(%out: tensor<?x64xbf16>, %slot_row: tensor<?xi32>, %indices: tensor<?x?x4xi32>, %weights: tensor<?x?x4xf32>) -> tensor<?x?x64xbf16> {
  // CHECK: fathom.moe_combine %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} <eager> : tensor<?x64xbf16>, tensor<?xi32>, tensor<?x?x4xi32>, tensor<?x?x4xf32> -> tensor<?x?x64xbf16>
  %0 = fathom.moe_combine %out, %slot_row, %indices, %weights <eager> : tensor<?x64xbf16>, tensor<?xi32>, tensor<?x?x4xi32>, tensor<?x?x4xf32> -> tensor<?x?x64xbf16>
  return %0 : tensor<?x?x64xbf16>
}

// CHECK-LABEL: func.func @grouped
func.func @grouped(%out: tensor<12x64xf32>, %slot_row: tensor<12xi32>, %indices: tensor<2x3x2xi32>, %weights: tensor<2x3x2xf32>) -> tensor<2x3x64xf32> {
  // CHECK: fathom.moe_combine %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} <grouped> : tensor<12x64xf32>, tensor<12xi32>, tensor<2x3x2xi32>, tensor<2x3x2xf32> -> tensor<2x3x64xf32>
  %0 = fathom.moe_combine %out, %slot_row, %indices, %weights <grouped> : tensor<12x64xf32>, tensor<12xi32>, tensor<2x3x2xi32>, tensor<2x3x2xf32> -> tensor<2x3x64xf32>
  return %0 : tensor<2x3x64xf32>
}
