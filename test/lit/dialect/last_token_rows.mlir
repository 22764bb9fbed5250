// RUN: fathom-opt %s | fathom-opt | FileCheck %s

// CHECK-LABEL: func.func @classify_pooling
func.func @classify_pooling(%ids: tensor<?x?xi64>) -> tensor<?xi64> {
  // CHECK: fathom.last_token_rows %{{.*}} pad 1 : tensor<?x?xi64> -> tensor<?xi64>
  %0 = fathom.last_token_rows %ids pad 1 : tensor<?x?xi64> -> tensor<?xi64>
  return %0 : tensor<?xi64>
}

// i32 ids, static shapes; the rows are always i64.
// CHECK-LABEL: func.func @static
func.func @static(%ids: tensor<2x7xi32>) -> tensor<2xi64> {
  // CHECK: fathom.last_token_rows %{{.*}} pad 100001 : tensor<2x7xi32> -> tensor<2xi64>
  %0 = fathom.last_token_rows %ids pad 100001 : tensor<2x7xi32> -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// CHECK-LABEL: func.func @mixed_static
func.func @mixed_static(%ids: tensor<?x7xi64>) -> tensor<3xi64> {
  // CHECK: fathom.last_token_rows %{{.*}} pad 0 : tensor<?x7xi64> -> tensor<3xi64>
  %0 = fathom.last_token_rows %ids pad 0 : tensor<?x7xi64> -> tensor<3xi64>
  return %0 : tensor<3xi64>
}
