// RUN: fathom-opt %s -fathom-drop-unused-params -split-input-file | FileCheck %s
// A second run changes nothing more.
// RUN: fathom-opt %s -fathom-drop-unused-params -fathom-drop-unused-params -split-input-file | FileCheck %s

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

// -----

// A derived param nothing reads goes with its definition and the initializer ops only it used;
// the checkpoint param it read goes too once nothing else reads it. A param read only by the
// initializer (@w, behind the used @w.rope_halves) stays: the initializer needs it.
// CHECK-LABEL: module
// CHECK: fathom.param @w : tensor<8x4xf32>
// CHECK-NOT: fathom.param @v
// CHECK-NOT: @v.dead
// CHECK: fathom.param @w.rope_halves
// CHECK: fathom.initializer
// CHECK-NEXT: fathom.param_value @w
// CHECK-NEXT: fathom.weight_deinterleave_rows
// CHECK-NEXT: fathom.define_param @w.rope_halves
// CHECK-NEXT: }
module {
  fathom.param @w : tensor<8x4xf32> {source = "w"}
  fathom.param @v : tensor<8x4xf32> {source = "v"}
  fathom.param @v.dead : tensor<4x8xf32>
  fathom.param @w.rope_halves : tensor<8x4xf32>
  fathom.initializer {
    %0 = fathom.param_value @w : tensor<8x4xf32>
    %1 = fathom.weight_deinterleave_rows %0 window(0, 4, 8) : tensor<8x4xf32>
    fathom.define_param @w.rope_halves = %1 : tensor<8x4xf32>
    %2 = fathom.param_value @v : tensor<8x4xf32>
    %3 = fathom.weight_transpose %2 : tensor<8x4xf32> -> tensor<4x8xf32>
    fathom.define_param @v.dead = %3 : tensor<4x8xf32>
  }
  func.func @f(%x: tensor<2x4xf32>) -> tensor<2x8xf32> {
    %0 = fathom.linear %x, @w.rope_halves : tensor<2x4xf32> -> tensor<2x8xf32>
    return %0 : tensor<2x8xf32>
  }
}

// -----

// An initializer left empty is removed.
// CHECK-LABEL: module
// CHECK-NOT: fathom.initializer
// CHECK-NOT: fathom.param
module {
  fathom.param @dead : tensor<4xf32>
  fathom.initializer {
    %0 = fathom.rope_table <cos> <theta = 1.0e4, dim = 8, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = true> : tensor<2x4xf32>
    %1 = fathom.weight_slice %0 dim 0 [0, 1] : tensor<2x4xf32> -> tensor<1x4xf32>
    %2 = fathom.weight_reshape %1 : tensor<1x4xf32> -> tensor<4xf32>
    fathom.define_param @dead = %2 : tensor<4xf32>
  }
}
