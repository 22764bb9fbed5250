// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @norm : tensor<64xbf16>
// CHECK-LABEL: func.func @normalize
func.func @normalize(%x: tensor<?x?x64xbf16>) -> tensor<?x?x64xbf16> {
  // CHECK: fathom.rms_norm %{{.*}}, @norm eps 9.99999997E-7 : tensor<?x?x64xbf16>
  %0 = fathom.rms_norm %x, @norm eps 1.0e-6 : tensor<?x?x64xbf16>
  return %0 : tensor<?x?x64xbf16>
}
