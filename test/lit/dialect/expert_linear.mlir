// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @e0.gate : tensor<32x64xbf16>
fathom.param @e1.gate : tensor<32x64xbf16>
fathom.param @e2.gate : tensor<32x64xbf16>
fathom.param @e0.down : tensor<64x32xbf16>
fathom.param @e1.down : tensor<64x32xbf16>
fathom.param @e2.down : tensor<64x32xbf16>

// CHECK-LABEL: func.func @grouped
func.func @grouped(%x: tensor<?x64xbf16>, %offsets: tensor<4xi32>) -> tensor<?x64xbf16> {
  // CHECK: %[[G:.*]] = fathom.expert_linear %{{.*}}, %{{.*}} {weights = [@e0.gate, @e1.gate, @e2.gate]} : tensor<?x64xbf16>, tensor<4xi32> -> tensor<?x32xbf16>
  %0 = fathom.expert_linear %x, %offsets {weights = [@e0.gate, @e1.gate, @e2.gate]} : tensor<?x64xbf16>, tensor<4xi32> -> tensor<?x32xbf16>
  // CHECK: fathom.expert_linear %[[G]], %{{.*}} {weights = [@e0.down, @e1.down, @e2.down]} : tensor<?x32xbf16>, tensor<4xi32> -> tensor<?x64xbf16>
  %1 = fathom.expert_linear %0, %offsets {weights = [@e0.down, @e1.down, @e2.down]} : tensor<?x32xbf16>, tensor<4xi32> -> tensor<?x64xbf16>
  return %1 : tensor<?x64xbf16>
}
