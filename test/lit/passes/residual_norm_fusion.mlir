// RUN: fathom-opt %s -fathom-residual-norm-fusion -split-input-file | FileCheck %s
// A second run changes nothing more.
// RUN: fathom-opt %s -fathom-residual-norm-fusion -fathom-residual-norm-fusion -split-input-file | FileCheck %s

// Two layers' residual stream: each add whose sum an rms_norm reads becomes one add_rms_norm,
// its sum feeding the next residual add; the norm of the embedding (no add) and an add
// nothing normalizes (shared + routed experts) are left alone.
// CHECK-LABEL: func.func @layers
// CHECK: %[[N0:.*]] = fathom.rms_norm %arg0, @norm0 eps 9.99999997E-7 : tensor<?x?x8xbf16>
// CHECK: %[[P:.*]] = fathom.add %arg1, %arg2 : tensor<?x?x8xbf16>
// CHECK: %[[S1:.*]], %[[N1:.*]] = fathom.add_rms_norm %arg0, %[[P]], @norm1 eps 9.99999997E-7 : tensor<?x?x8xbf16>
// CHECK: %[[S2:.*]], %[[N2:.*]] = fathom.add_rms_norm %[[S1]], %[[N1]], @final eps 9.99999997E-7 : tensor<?x?x8xbf16>
// CHECK-NOT: fathom.rms_norm
// CHECK: return %[[N0]], %[[N2]], %[[S2]]
fathom.param @norm0 : tensor<8xbf16>
fathom.param @norm1 : tensor<8xbf16>
fathom.param @final : tensor<8xbf16>
func.func @layers(%h: tensor<?x?x8xbf16>, %shared: tensor<?x?x8xbf16>, %routed: tensor<?x?x8xbf16>) -> (tensor<?x?x8xbf16>, tensor<?x?x8xbf16>, tensor<?x?x8xbf16>) {
  %n0 = fathom.rms_norm %h, @norm0 eps 1.0e-6 : tensor<?x?x8xbf16>
  %mlp = fathom.add %shared, %routed : tensor<?x?x8xbf16>
  %h1 = fathom.add %h, %mlp : tensor<?x?x8xbf16>
  %n1 = fathom.rms_norm %h1, @norm1 eps 1.0e-6 : tensor<?x?x8xbf16>
  %h2 = fathom.add %h1, %n1 : tensor<?x?x8xbf16>
  %n2 = fathom.rms_norm %h2, @final eps 1.0e-6 : tensor<?x?x8xbf16>
  return %n0, %n2, %h2 : tensor<?x?x8xbf16>, tensor<?x?x8xbf16>, tensor<?x?x8xbf16>
}

// -----

// Two norms of one sum: the first is fused, the second reads the fused op's sum.
// CHECK-LABEL: func.func @two_norms
// CHECK: %[[S:.*]], %[[F:.*]] = fathom.add_rms_norm %arg0, %arg1, @norm0 eps 9.99999997E-7 : tensor<4x8xf32>
// CHECK: %[[N:.*]] = fathom.rms_norm %[[S]], @norm1 eps 9.99999997E-7 : tensor<4x8xf32>
// CHECK: return %[[F]], %[[N]]
fathom.param @norm0 : tensor<8xf32>
fathom.param @norm1 : tensor<8xf32>
func.func @two_norms(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %s = fathom.add %a, %b : tensor<4x8xf32>
  %n0 = fathom.rms_norm %s, @norm0 eps 1.0e-6 : tensor<4x8xf32>
  %n1 = fathom.rms_norm %s, @norm1 eps 1.0e-6 : tensor<4x8xf32>
  return %n0, %n1 : tensor<4x8xf32>, tensor<4x8xf32>
}
