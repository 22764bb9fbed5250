// RUN: fathom-opt %s -fathom-quantize -split-input-file | FileCheck %s
// A second run changes nothing more: the FP8 weights it made are block-quantized already.
// RUN: fathom-opt %s -fathom-quantize -fathom-quantize -split-input-file | FileCheck %s
// RUN: not fathom-opt %s -fathom-quantize=mode=int3 -split-input-file 2>&1 | FileCheck %s --check-prefix=MODE

// MODE: fathom-quantize: unknown mode 'int3' (known: fp8, int4)

// The MLP's and every expert's projections become 128x128-block FP8 with their scales, both
// from one weight_quantize; the embedding, the router gate and its bias, the norm and the LM
// head keep their types. A weight the model holds in another dtype than the checkpoint
// (bf16 from f32 here) is quantized from the checkpoint's values.
// CHECK-LABEL: module
// CHECK: fathom.param @mlp.up : tensor<200x8xbf16> {source = "mlp.up", source_dtype = #fathom.dtype<f32>}
// CHECK: fathom.param @mlp.up.checkpoint : tensor<200x8xf32> {source = "mlp.up"}
// CHECK: func.func @f
// CHECK: fathom.embedding %{{.*}}, @embed
// CHECK: fathom.moe_router %{{.*}}, @gate {{{.*}}score_bias = @bias
// CHECK: fathom.expert_ffn {{.*}}down_proj = [@d0.fp8, @d1.fp8], gate_proj = [@g0.fp8, @g1.fp8], up_proj = [@u0.fp8, @u1.fp8]
// CHECK: fathom.linear %{{.*}}, @mlp.up.fp8 : tensor<?x?x8xbf16> -> tensor<?x?x200xbf16>
// CHECK: fathom.lm_head %{{.*}}, @head
// CHECK: fathom.param @g0.fp8_scale_inv : tensor<1x1xf32>
// CHECK: fathom.param @g0.fp8 : tensor<6x8xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @g0.fp8_scale_inv
// CHECK: fathom.param @mlp.up.fp8_scale_inv : tensor<2x1xf32>
// CHECK: fathom.param @mlp.up.fp8 : tensor<200x8xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @mlp.up.fp8_scale_inv
// CHECK: fathom.initializer
// CHECK: %[[V:.*]] = fathom.param_value @g0 : tensor<6x8xbf16>
// CHECK: %[[Q:.*]], %[[S:.*]] = fathom.weight_quantize %[[V]] block(128, 128) : tensor<6x8xbf16> -> tensor<6x8xf8E4M3FN>, tensor<1x1xf32>
// CHECK: fathom.define_param @g0.fp8_scale_inv = %[[S]]
// CHECK: fathom.define_param @g0.fp8 = %[[Q]]
// CHECK: %[[C:.*]] = fathom.param_value @mlp.up.checkpoint : tensor<200x8xf32>
// CHECK: fathom.weight_quantize %[[C]] block(128, 128) : tensor<200x8xf32> -> tensor<200x8xf8E4M3FN>, tensor<2x1xf32>
module {
  fathom.param @embed : tensor<16x8xbf16>
  fathom.param @gate : tensor<2x8xbf16>
  fathom.param @bias : tensor<2xf32>
  fathom.param @g0 : tensor<6x8xbf16>
  fathom.param @g1 : tensor<6x8xbf16>
  fathom.param @u0 : tensor<6x8xbf16>
  fathom.param @u1 : tensor<6x8xbf16>
  fathom.param @d0 : tensor<8x6xbf16>
  fathom.param @d1 : tensor<8x6xbf16>
  fathom.param @mlp.up : tensor<200x8xbf16> {source = "mlp.up", source_dtype = #fathom.dtype<f32>}
  fathom.param @norm : tensor<200xbf16>
  fathom.param @head : tensor<16x200xbf16>
  func.func @f(%ids: tensor<?x?xi64>) -> tensor<?x?x16xbf16> {
    %x = fathom.embedding %ids, @embed : tensor<?x?xi64> -> tensor<?x?x8xbf16>
    %w, %i = fathom.moe_router %x, @gate {score_bias = @bias, scoring = #fathom.scoring<sigmoid>, top_k = 1 : i64, n_group = 1 : i64, topk_group = 1 : i64, norm_topk_prob = true, routed_scaling_factor = 1.0 : f32} : tensor<?x?x8xbf16> -> tensor<?x?x1xf32>, tensor<?x?x1xi32>
    %y = fathom.expert_ffn %x, %w, %i {gate_proj = [@g0, @g1], up_proj = [@u0, @u1], down_proj = [@d0, @d1]} : tensor<?x?x8xbf16>, tensor<?x?x1xf32>, tensor<?x?x1xi32>
    %h = fathom.linear %y, @mlp.up : tensor<?x?x8xbf16> -> tensor<?x?x200xbf16>
    %n = fathom.rms_norm %h, @norm eps 1.0e-6 : tensor<?x?x200xbf16>
    %logits = fathom.lm_head %n, @head : tensor<?x?x200xbf16> -> tensor<?x?x16xbf16>
    return %logits : tensor<?x?x16xbf16>
  }
}

// -----

// A classifier's score head (the linear the function returns) stays as it is.
// CHECK-LABEL: module
// CHECK: func.func @classify
// CHECK: fathom.linear %{{.*}}, @body.fp8
// CHECK: fathom.linear %{{.*}}, @score :
module {
  fathom.param @body : tensor<64x64xf32>
  fathom.param @score : tensor<3x64xf32>
  func.func @classify(%x: tensor<2x64xf32>) -> tensor<2x3xf32> {
    %h = fathom.linear %x, @body : tensor<2x64xf32> -> tensor<2x64xf32>
    %s = fathom.linear %h, @score : tensor<2x64xf32> -> tensor<2x3xf32>
    return %s : tensor<2x3xf32>
  }
}

// -----

// An FP8 checkpoint keeps its bytes: nothing to do.
// CHECK-LABEL: module
// CHECK: fathom.param @w8 : tensor<96x64xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @w8_scale
// CHECK-NOT: fp8_scale_inv
// CHECK: fathom.linear %{{.*}}, @w8
// CHECK-NOT: fathom.initializer
module {
  fathom.param @w8 : tensor<96x64xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @w8_scale
  fathom.param @w8_scale : tensor<1x1xf32>
  func.func @f(%x: tensor<2x64xf32>) -> tensor<2x96xf32> {
    %1 = fathom.linear %x, @w8 : tensor<2x64xf32> -> tensor<2x96xf32>
    return %1 : tensor<2x96xf32>
  }
}
