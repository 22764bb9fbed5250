// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @gate : tensor<32x64xbf16> {source = "gate"}
fathom.param @up : tensor<32x64xbf16> {source = "up"}
fathom.param @gate_up : tensor<64x64xbf16>
fathom.param @side_by_side : tensor<32x128xbf16>
fathom.param @single : tensor<32x64xbf16>

// CHECK-LABEL: module
// CHECK: fathom.weight_concat %{{.*}}, %{{.*}} dim 0 : tensor<32x64xbf16>, tensor<32x64xbf16> -> tensor<64x64xbf16>
// CHECK: fathom.weight_concat %{{.*}}, %{{.*}} dim 1 : tensor<32x64xbf16>, tensor<32x64xbf16> -> tensor<32x128xbf16>
// CHECK: fathom.weight_concat %{{.*}} dim 0 : tensor<32x64xbf16> -> tensor<32x64xbf16>
fathom.initializer {
  %0 = fathom.param_value @gate : tensor<32x64xbf16>
  %1 = fathom.param_value @up : tensor<32x64xbf16>
  %2 = fathom.weight_concat %0, %1 dim 0 : tensor<32x64xbf16>, tensor<32x64xbf16> -> tensor<64x64xbf16>
  fathom.define_param @gate_up = %2 : tensor<64x64xbf16>
  %3 = fathom.weight_concat %0, %1 dim 1 : tensor<32x64xbf16>, tensor<32x64xbf16> -> tensor<32x128xbf16>
  fathom.define_param @side_by_side = %3 : tensor<32x128xbf16>
  %4 = fathom.weight_concat %0 dim 0 : tensor<32x64xbf16> -> tensor<32x64xbf16>
  fathom.define_param @single = %4 : tensor<32x64xbf16>
}
