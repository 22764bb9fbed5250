// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @experts.gate_up_proj : tensor<3x2x32x64xbf16>
fathom.param @experts.fp8 : tensor<3x2x32x64xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @experts.fp8_scale_inv
fathom.param @experts.fp8_scale_inv : tensor<3x2x1x1xf32>

// CHECK-LABEL: func.func @gated
func.func @gated(%x: tensor<?x64xbf16>, %offsets: tensor<4xi32>) -> (tensor<?x32xbf16>, tensor<?x32xbf16>) {
  // CHECK: fathom.grouped_gate_up %{{.*}}, %{{.*}}, @experts.gate_up_proj : tensor<?x64xbf16>, tensor<4xi32> -> tensor<?x32xbf16>
  %0 = fathom.grouped_gate_up %x, %offsets, @experts.gate_up_proj : tensor<?x64xbf16>, tensor<4xi32> -> tensor<?x32xbf16>
  // CHECK: fathom.grouped_gate_up %{{.*}}, %{{.*}}, @experts.fp8
  %1 = fathom.grouped_gate_up %x, %offsets, @experts.fp8 : tensor<?x64xbf16>, tensor<4xi32> -> tensor<?x32xbf16>
  return %0, %1 : tensor<?x32xbf16>, tensor<?x32xbf16>
}
