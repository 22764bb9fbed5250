// RUN: fathom-opt %s -fathom-expert-grouping -split-input-file | FileCheck %s
// A second run changes nothing more.
// RUN: fathom-opt %s -fathom-expert-grouping -fathom-expert-grouping -split-input-file | FileCheck %s

// Per-expert checkpoint tensors: the initializer stacks gate and up of every expert into
// [experts, 2, inter, hidden] and the downs into [experts, hidden, inter], each one dim-0
// concatenation; one grouped GEMM with the SiLU fused replaces gate, up and silu_mul.
// CHECK-LABEL: module
// CHECK: func.func @f
// CHECK: %[[A:.*]] = fathom.grouped_gate_up %arg0, %arg1, @model.layers.1.mlp.experts.gate_up_proj : tensor<?x8xbf16>, tensor<3xi32> -> tensor<?x6xbf16>
// CHECK: %[[D:.*]] = fathom.grouped_linear %[[A]], %arg1, @model.layers.1.mlp.experts.down_proj : tensor<?x6xbf16>, tensor<3xi32> -> tensor<?x8xbf16>
// CHECK: return %[[D]]
// CHECK-NOT: fathom.expert_linear
// CHECK: fathom.param @model.layers.1.mlp.experts.gate_up_proj : tensor<2x2x6x8xbf16>
// CHECK: fathom.param @model.layers.1.mlp.experts.down_proj : tensor<2x8x6xbf16>
// CHECK: fathom.initializer
// CHECK: %[[G0:.*]] = fathom.param_value @model.layers.1.mlp.experts.0.gate_proj.weight
// CHECK: %[[R0:.*]] = fathom.weight_reshape %[[G0]] : tensor<6x8xbf16> -> tensor<1x6x8xbf16>
// CHECK: %[[U0:.*]] = fathom.param_value @model.layers.1.mlp.experts.0.up_proj.weight
// CHECK: %[[G1:.*]] = fathom.param_value @model.layers.1.mlp.experts.1.gate_proj.weight
// CHECK: %[[U1:.*]] = fathom.param_value @model.layers.1.mlp.experts.1.up_proj.weight
// CHECK: %[[J:.*]] = fathom.weight_concat %[[R0]], %{{.*}}, %{{.*}}, %{{.*}} dim 0 : tensor<1x6x8xbf16>, tensor<1x6x8xbf16>, tensor<1x6x8xbf16>, tensor<1x6x8xbf16> -> tensor<4x6x8xbf16>
// CHECK: %[[S:.*]] = fathom.weight_reshape %[[J]] : tensor<4x6x8xbf16> -> tensor<2x2x6x8xbf16>
// CHECK: fathom.define_param @model.layers.1.mlp.experts.gate_up_proj = %[[S]]
// CHECK: fathom.weight_concat {{.*}} dim 0 : {{.*}} -> tensor<2x8x6xbf16>
// CHECK: fathom.define_param @model.layers.1.mlp.experts.down_proj
module {
  fathom.param @model.layers.1.mlp.experts.0.gate_proj.weight : tensor<6x8xbf16> {source = "model.layers.1.mlp.experts.0.gate_proj.weight"}
  fathom.param @model.layers.1.mlp.experts.1.gate_proj.weight : tensor<6x8xbf16> {source = "model.layers.1.mlp.experts.1.gate_proj.weight"}
  fathom.param @model.layers.1.mlp.experts.0.up_proj.weight : tensor<6x8xbf16> {source = "model.layers.1.mlp.experts.0.up_proj.weight"}
  fathom.param @model.layers.1.mlp.experts.1.up_proj.weight : tensor<6x8xbf16> {source = "model.layers.1.mlp.experts.1.up_proj.weight"}
  fathom.param @model.layers.1.mlp.experts.0.down_proj.weight : tensor<8x6xbf16> {source = "model.layers.1.mlp.experts.0.down_proj.weight"}
  fathom.param @model.layers.1.mlp.experts.1.down_proj.weight : tensor<8x6xbf16> {source = "model.layers.1.mlp.experts.1.down_proj.weight"}
  func.func @f(%x: tensor<?x8xbf16>, %offsets: tensor<3xi32>) -> tensor<?x8xbf16> {
    %g = fathom.expert_linear %x, %offsets {weights = [@model.layers.1.mlp.experts.0.gate_proj.weight, @model.layers.1.mlp.experts.1.gate_proj.weight]} : tensor<?x8xbf16>, tensor<3xi32> -> tensor<?x6xbf16>
    %u = fathom.expert_linear %x, %offsets {weights = [@model.layers.1.mlp.experts.0.up_proj.weight, @model.layers.1.mlp.experts.1.up_proj.weight]} : tensor<?x8xbf16>, tensor<3xi32> -> tensor<?x6xbf16>
    %a = fathom.silu_mul %g, %u : tensor<?x6xbf16>
    %d = fathom.expert_linear %a, %offsets {weights = [@model.layers.1.mlp.experts.0.down_proj.weight, @model.layers.1.mlp.experts.1.down_proj.weight]} : tensor<?x6xbf16>, tensor<3xi32> -> tensor<?x8xbf16>
    return %d : tensor<?x8xbf16>
  }
}

// -----

// transformers v5's fused experts: the per-expert params are back-to-back slices of
// gate_up_proj and down_proj, so the stacked params are those tensors as they are (no
// initializer work). Two entry points share them.
// CHECK-LABEL: module
// CHECK: fathom.param @e.gate_up_proj : tensor<2x2x6x8xbf16> {source = "e.gate_up_proj", source_dtype = #fathom.dtype<f32>, source_offset = 0 : i64}
// CHECK: fathom.param @e.down_proj : tensor<2x8x6xbf16> {source = "e.down_proj", source_dtype = #fathom.dtype<f32>, source_offset = 0 : i64}
// CHECK-NOT: fathom.param @e.gate_up_proj.1
// CHECK: func.func @prefill
// CHECK: fathom.grouped_gate_up %arg0, %arg1, @e.gate_up_proj
// CHECK: fathom.grouped_linear %{{.*}}, %arg1, @e.down_proj
// CHECK: func.func @decode
// CHECK: fathom.grouped_gate_up %arg0, %arg1, @e.gate_up_proj
// CHECK: fathom.grouped_linear %{{.*}}, %arg1, @e.down_proj
// CHECK-NOT: fathom.initializer
module {
  fathom.param @e.0.gate_proj.weight : tensor<6x8xbf16> {source = "e.gate_up_proj", source_dtype = #fathom.dtype<f32>, source_offset = 0 : i64}
  fathom.param @e.0.up_proj.weight : tensor<6x8xbf16> {source = "e.gate_up_proj", source_dtype = #fathom.dtype<f32>, source_offset = 48 : i64}
  fathom.param @e.1.gate_proj.weight : tensor<6x8xbf16> {source = "e.gate_up_proj", source_dtype = #fathom.dtype<f32>, source_offset = 96 : i64}
  fathom.param @e.1.up_proj.weight : tensor<6x8xbf16> {source = "e.gate_up_proj", source_dtype = #fathom.dtype<f32>, source_offset = 144 : i64}
  fathom.param @e.0.down_proj.weight : tensor<8x6xbf16> {source = "e.down_proj", source_dtype = #fathom.dtype<f32>, source_offset = 0 : i64}
  fathom.param @e.1.down_proj.weight : tensor<8x6xbf16> {source = "e.down_proj", source_dtype = #fathom.dtype<f32>, source_offset = 48 : i64}
  func.func @prefill(%x: tensor<?x8xbf16>, %offsets: tensor<3xi32>) -> tensor<?x8xbf16> {
    %g = fathom.expert_linear %x, %offsets {weights = [@e.0.gate_proj.weight, @e.1.gate_proj.weight]} : tensor<?x8xbf16>, tensor<3xi32> -> tensor<?x6xbf16>
    %u = fathom.expert_linear %x, %offsets {weights = [@e.0.up_proj.weight, @e.1.up_proj.weight]} : tensor<?x8xbf16>, tensor<3xi32> -> tensor<?x6xbf16>
    %a = fathom.silu_mul %g, %u : tensor<?x6xbf16>
    %d = fathom.expert_linear %a, %offsets {weights = [@e.0.down_proj.weight, @e.1.down_proj.weight]} : tensor<?x6xbf16>, tensor<3xi32> -> tensor<?x8xbf16>
    return %d : tensor<?x8xbf16>
  }
  func.func @decode(%x: tensor<?x8xbf16>, %offsets: tensor<3xi32>) -> tensor<?x8xbf16> {
    %g = fathom.expert_linear %x, %offsets {weights = [@e.0.gate_proj.weight, @e.1.gate_proj.weight]} : tensor<?x8xbf16>, tensor<3xi32> -> tensor<?x6xbf16>
    %u = fathom.expert_linear %x, %offsets {weights = [@e.0.up_proj.weight, @e.1.up_proj.weight]} : tensor<?x8xbf16>, tensor<3xi32> -> tensor<?x6xbf16>
    %a = fathom.silu_mul %g, %u : tensor<?x6xbf16>
    %d = fathom.expert_linear %a, %offsets {weights = [@e.0.down_proj.weight, @e.1.down_proj.weight]} : tensor<?x6xbf16>, tensor<3xi32> -> tensor<?x8xbf16>
    return %d : tensor<?x8xbf16>
  }
}

// -----

// FP8 experts, quantized per expert and matrix as the checkpoint stores them: the data and the
// block scales are stacked alike, so each matrix keeps its own scale grid.
// CHECK-LABEL: module
// CHECK: fathom.grouped_gate_up %arg0, %arg1, @x.gate_up_proj
// CHECK: fathom.param @x.gate_up_proj_scale_inv : tensor<2x2x1x1xf32>
// CHECK: fathom.param @x.gate_up_proj : tensor<2x2x6x8xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @x.gate_up_proj_scale_inv
// CHECK: fathom.param @x.down_proj_scale_inv : tensor<2x1x1xf32>
// CHECK: fathom.param @x.down_proj : tensor<2x8x6xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @x.down_proj_scale_inv
// CHECK: fathom.param_value @x.0.g_scale
// CHECK: fathom.define_param @x.gate_up_proj_scale_inv
module {
  fathom.param @x.0.g : tensor<6x8xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @x.0.g_scale
  fathom.param @x.0.g_scale : tensor<1x1xf32>
  fathom.param @x.1.g : tensor<6x8xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @x.1.g_scale
  fathom.param @x.1.g_scale : tensor<1x1xf32>
  fathom.param @x.0.u : tensor<6x8xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @x.0.u_scale
  fathom.param @x.0.u_scale : tensor<1x1xf32>
  fathom.param @x.1.u : tensor<6x8xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @x.1.u_scale
  fathom.param @x.1.u_scale : tensor<1x1xf32>
  fathom.param @x.0.d : tensor<8x6xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @x.0.d_scale
  fathom.param @x.0.d_scale : tensor<1x1xf32>
  fathom.param @x.1.d : tensor<8x6xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @x.1.d_scale
  fathom.param @x.1.d_scale : tensor<1x1xf32>
  func.func @f(%x: tensor<?x8xf32>, %offsets: tensor<3xi32>) -> tensor<?x8xf32> {
    %g = fathom.expert_linear %x, %offsets {weights = [@x.0.g, @x.1.g]} : tensor<?x8xf32>, tensor<3xi32> -> tensor<?x6xf32>
    %u = fathom.expert_linear %x, %offsets {weights = [@x.0.u, @x.1.u]} : tensor<?x8xf32>, tensor<3xi32> -> tensor<?x6xf32>
    %a = fathom.silu_mul %g, %u : tensor<?x6xf32>
    %d = fathom.expert_linear %a, %offsets {weights = [@x.0.d, @x.1.d]} : tensor<?x6xf32>, tensor<3xi32> -> tensor<?x8xf32>
    return %d : tensor<?x8xf32>
  }
}

// -----

// Experts of mixed types cannot share one stacked weight: the chain stays per expert.
// CHECK-LABEL: module
// CHECK-NOT: fathom.grouped_gate_up
// CHECK: fathom.expert_linear
// CHECK: fathom.silu_mul
module {
  fathom.param @m.0.g : tensor<6x8xf32>
  fathom.param @m.1.g : tensor<6x8xbf16>
  fathom.param @m.0.u : tensor<6x8xf32>
  fathom.param @m.1.u : tensor<6x8xf32>
  fathom.param @m.0.d : tensor<8x6xf32>
  fathom.param @m.1.d : tensor<8x6xf32>
  func.func @f(%x: tensor<?x8xf32>, %offsets: tensor<3xi32>) -> tensor<?x8xf32> {
    %g = fathom.expert_linear %x, %offsets {weights = [@m.0.g, @m.1.g]} : tensor<?x8xf32>, tensor<3xi32> -> tensor<?x6xf32>
    %u = fathom.expert_linear %x, %offsets {weights = [@m.0.u, @m.1.u]} : tensor<?x8xf32>, tensor<3xi32> -> tensor<?x6xf32>
    %a = fathom.silu_mul %g, %u : tensor<?x6xf32>
    %d = fathom.expert_linear %a, %offsets {weights = [@m.0.d, @m.1.d]} : tensor<?x6xf32>, tensor<3xi32> -> tensor<?x8xf32>
    return %d : tensor<?x8xf32>
  }
}
