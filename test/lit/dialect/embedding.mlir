// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @table : tensor<512x64xbf16>
// CHECK-LABEL: func.func @lookup
func.func @lookup(%ids: tensor<?x?xi32>) -> tensor<?x?x64xbf16> {
  // CHECK: fathom.embedding %{{.*}}, @table : tensor<?x?xi32> -> tensor<?x?x64xbf16>
  %0 = fathom.embedding %ids, @table : tensor<?x?xi32> -> tensor<?x?x64xbf16>
  return %0 : tensor<?x?x64xbf16>
}
