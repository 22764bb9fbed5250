// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @lm_head.weight : tensor<512x64xbf16>
// CHECK-LABEL: func.func @logits
func.func @logits(%h: tensor<?x?x64xbf16>) -> tensor<?x?x512xbf16> {
  // CHECK: fathom.lm_head %{{.*}}, @lm_head.weight : tensor<?x?x64xbf16> -> tensor<?x?x512xbf16>
  %0 = fathom.lm_head %h, @lm_head.weight : tensor<?x?x64xbf16> -> tensor<?x?x512xbf16>
  return %0 : tensor<?x?x512xbf16>
}
