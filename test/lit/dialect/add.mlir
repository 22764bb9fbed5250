// RUN: fathom-opt %s | fathom-opt | FileCheck %s

// CHECK-LABEL: func.func @residual
func.func @residual(%a: tensor<?x?x64xbf16>, %b: tensor<?x?x64xbf16>) -> tensor<?x?x64xbf16> {
  // CHECK: fathom.add %{{.*}}, %{{.*}} : tensor<?x?x64xbf16>
  %0 = fathom.add %a, %b : tensor<?x?x64xbf16>
  return %0 : tensor<?x?x64xbf16>
}
