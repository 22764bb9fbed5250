// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @norm : tensor<64xbf16>
// CHECK-LABEL: func.func @residual
func.func @residual(%x: tensor<?x?x64xbf16>, %y: tensor<?x?x64xbf16>) -> (tensor<?x?x64xbf16>, tensor<?x?x64xbf16>) {
  // CHECK: %sum, %result = fathom.add_rms_norm %{{.*}}, %{{.*}}, @norm eps 9.99999997E-7 : tensor<?x?x64xbf16>
  %sum, %normed = fathom.add_rms_norm %x, %y, @norm eps 1.0e-6 : tensor<?x?x64xbf16>
  return %sum, %normed : tensor<?x?x64xbf16>, tensor<?x?x64xbf16>
}
