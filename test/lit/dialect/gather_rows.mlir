// RUN: fathom-opt %s | fathom-opt | FileCheck %s

// CHECK-LABEL: func.func @tokens
func.func @tokens(%x: tensor<?x?x64xbf16>, %rows: tensor<?xi32>) -> tensor<?x64xbf16> {
  // CHECK: fathom.gather_rows %{{.*}}, %{{.*}} : tensor<?x?x64xbf16>, tensor<?xi32> -> tensor<?x64xbf16>
  %0 = fathom.gather_rows %x, %rows : tensor<?x?x64xbf16>, tensor<?xi32> -> tensor<?x64xbf16>
  return %0 : tensor<?x64xbf16>
}

// Rows of an already flat tensor.
// CHECK-LABEL: func.func @flat
func.func @flat(%x: tensor<6x32xf32>, %rows: tensor<12xi32>) -> tensor<12x32xf32> {
  // CHECK: fathom.gather_rows %{{.*}}, %{{.*}} : tensor<6x32xf32>, tensor<12xi32> -> tensor<12x32xf32>
  %0 = fathom.gather_rows %x, %rows : tensor<6x32xf32>, tensor<12xi32> -> tensor<12x32xf32>
  return %0 : tensor<12x32xf32>
}
