// RUN: fathom-opt %s | fathom-opt | FileCheck %s

// MLA absorption: W_UK folded into the query, W_UV applied after attention.
fathom.param @absorbed_k : tensor<4x32x16xbf16>
fathom.param @absorbed_v : tensor<4x16x32xbf16>

// CHECK-LABEL: func.func @absorb
func.func @absorb(%q: tensor<?x?x4x16xbf16>, %o: tensor<?x?x4x32xf32>) -> (tensor<?x?x4x32xf32>, tensor<?x?x4x16xbf16>) {
  // CHECK: fathom.head_matmul %{{.*}}, @absorbed_k : tensor<?x?x4x16xbf16> -> tensor<?x?x4x32xf32>
  %0 = fathom.head_matmul %q, @absorbed_k : tensor<?x?x4x16xbf16> -> tensor<?x?x4x32xf32>
  // CHECK: fathom.head_matmul %{{.*}}, @absorbed_v : tensor<?x?x4x32xf32> -> tensor<?x?x4x16xbf16>
  %1 = fathom.head_matmul %o, @absorbed_v : tensor<?x?x4x32xf32> -> tensor<?x?x4x16xbf16>
  return %0, %1 : tensor<?x?x4x32xf32>, tensor<?x?x4x16xbf16>
}
