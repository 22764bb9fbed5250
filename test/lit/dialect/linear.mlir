// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @w : tensor<96x64xbf16>
fathom.param @b : tensor<96xbf16>
fathom.param @w8 : tensor<96x64xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @w8_scale
fathom.param @w8_scale : tensor<1x1xf32>
// CHECK-LABEL: func.func @project
func.func @project(%x: tensor<?x?x64xbf16>) -> tensor<?x?x96xbf16> {
  // CHECK: fathom.linear %{{.*}}, @w : tensor<?x?x64xbf16> -> tensor<?x?x96xbf16>
  %0 = fathom.linear %x, @w : tensor<?x?x64xbf16> -> tensor<?x?x96xbf16>
  // CHECK: fathom.linear %{{.*}}, @w bias @b : tensor<?x?x64xbf16> -> tensor<?x?x96xbf16>
  %1 = fathom.linear %x, @w bias @b : tensor<?x?x64xbf16> -> tensor<?x?x96xbf16>
  // CHECK: fathom.linear %{{.*}}, @w8 : tensor<?x?x64xbf16> -> tensor<?x?x96xbf16>
  %2 = fathom.linear %x, @w8 : tensor<?x?x64xbf16> -> tensor<?x?x96xbf16>
  return %2 : tensor<?x?x96xbf16>
}

// HF's fp32 router logits: a bf16 input may produce an f32 result.
// CHECK-LABEL: func.func @router_logits
func.func @router_logits(%x: tensor<?x?x64xbf16>) -> tensor<?x?x96xf32> {
  // CHECK: fathom.linear %{{.*}}, @w : tensor<?x?x64xbf16> -> tensor<?x?x96xf32>
  %0 = fathom.linear %x, @w : tensor<?x?x64xbf16> -> tensor<?x?x96xf32>
  return %0 : tensor<?x?x96xf32>
}
