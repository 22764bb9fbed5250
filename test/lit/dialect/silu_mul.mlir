// RUN: fathom-opt %s | fathom-opt | FileCheck %s

// CHECK-LABEL: func.func @gated
func.func @gated(%g: tensor<?x?x128xbf16>, %u: tensor<?x?x128xbf16>) -> tensor<?x?x128xbf16> {
  // CHECK: fathom.silu_mul %{{.*}}, %{{.*}} : tensor<?x?x128xbf16>
  %0 = fathom.silu_mul %g, %u : tensor<?x?x128xbf16>
  return %0 : tensor<?x?x128xbf16>
}
