// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @e0.gate : tensor<32x64xbf16>
fathom.param @e0.up : tensor<32x64xbf16>
fathom.param @e0.down : tensor<64x32xbf16>
fathom.param @e1.gate : tensor<32x64xbf16>
fathom.param @e1.up : tensor<32x64xbf16>
fathom.param @e1.down : tensor<64x32xbf16>
// CHECK-LABEL: func.func @experts
func.func @experts(%x: tensor<?x64xbf16>, %w: tensor<?x1xf32>, %i: tensor<?x1xi32>) -> tensor<?x64xbf16> {
  // CHECK: fathom.expert_ffn %{{.*}}, %{{.*}}, %{{.*}} {down_proj = [@e0.down, @e1.down], gate_proj = [@e0.gate, @e1.gate], up_proj = [@e0.up, @e1.up]} : tensor<?x64xbf16>, tensor<?x1xf32>, tensor<?x1xi32>
  %0 = fathom.expert_ffn %x, %w, %i {gate_proj = [@e0.gate, @e1.gate], up_proj = [@e0.up, @e1.up], down_proj = [@e0.down, @e1.down]} : tensor<?x64xbf16>, tensor<?x1xf32>, tensor<?x1xi32>
  return %0 : tensor<?x64xbf16>
}
