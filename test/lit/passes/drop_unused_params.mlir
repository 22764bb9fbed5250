// RUN: fathom-opt %s -fathom-drop-unused-params -split-input-file | FileCheck %s

// The MTP layer's weights are never read by the entry points: they go, the used ones stay.
// CHECK-LABEL: module
// CHECK-DAG: fathom.param @model.norm.weight
// CHECK-DAG: fathom.param @w8 :
// CHECK-DAG: fathom.param @w8_scale
// CHECK-NOT: model.layers.3.enorm.weight
// CHECK-NOT: @orphan_scale
module {
  fathom.param @model.norm.weight : tensor<64xf32>
  fathom.param @model.layers.3.enorm.weight : tensor<64xf32>
  fathom.param @w8 : tensor<96x64xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @w8_scale
  fathom.param @w8_scale : tensor<1x1xf32>
  fathom.param @unused8 : tensor<96x64xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @orphan_scale
  fathom.param @orphan_scale : tensor<1x1xf32>
  func.func @f(%x: tensor<2x64xf32>) -> tensor<2x96xf32> {
    %0 = fathom.rms_norm %x, @model.norm.weight eps 1.0e-6 : tensor<2x64xf32>
    %1 = fathom.linear %0, @w8 : tensor<2x64xf32> -> tensor<2x96xf32>
    return %1 : tensor<2x96xf32>
  }
}

// -----

// Nothing to drop: the module comes back unchanged.
// CHECK-LABEL: module
// CHECK: fathom.param @table : tensor<16x8xf32>
// CHECK: fathom.embedding
module {
  fathom.param @table : tensor<16x8xf32>
  func.func @g(%ids: tensor<2xi32>) -> tensor<2x8xf32> {
    %0 = fathom.embedding %ids, @table : tensor<2xi32> -> tensor<2x8xf32>
    return %0 : tensor<2x8xf32>
  }
}
