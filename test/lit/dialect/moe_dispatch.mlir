// RUN: fathom-opt %s | fathom-opt | FileCheck %s

// CHECK-LABEL: func.func @dispatch
func.func @dispatch(%indices: tensor<?x?x4xi32>) -> (tensor<17xi32>, tensor<?xi32>, tensor<?xi32>) {
  // CHECK: %{{.*}}, %{{.*}}, %{{.*}} = fathom.moe_dispatch %{{.*}} {num_experts = 16 : i64} : tensor<?x?x4xi32> -> tensor<17xi32>, tensor<?xi32>, tensor<?xi32>
  %offsets, %row_token, %slot_row = fathom.moe_dispatch %indices {num_experts = 16 : i64} : tensor<?x?x4xi32> -> tensor<17xi32>, tensor<?xi32>, tensor<?xi32>
  return %offsets, %row_token, %slot_row : tensor<17xi32>, tensor<?xi32>, tensor<?xi32>
}

// CHECK-LABEL: func.func @static
func.func @static(%indices: tensor<2x3x2xi32>) -> (tensor<9xi32>, tensor<12xi32>, tensor<12xi32>) {
  // CHECK: fathom.moe_dispatch %{{.*}} {num_experts = 8 : i64} : tensor<2x3x2xi32> -> tensor<9xi32>, tensor<12xi32>, tensor<12xi32>
  %offsets, %row_token, %slot_row = fathom.moe_dispatch %indices {num_experts = 8 : i64} : tensor<2x3x2xi32> -> tensor<9xi32>, tensor<12xi32>, tensor<12xi32>
  return %offsets, %row_token, %slot_row : tensor<9xi32>, tensor<12xi32>, tensor<12xi32>
}
