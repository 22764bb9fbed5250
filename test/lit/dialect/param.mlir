// RUN: fathom-opt %s | fathom-opt | FileCheck %s

// CHECK-LABEL: module
// CHECK: fathom.param @model.embed_tokens.weight : tensor<512x64xf32> {source = "model.embed_tokens.weight", source_dtype = #fathom.dtype<bf16>}
fathom.param @model.embed_tokens.weight : tensor<512x64xf32> {source = "model.embed_tokens.weight", source_dtype = #fathom.dtype<bf16>}
// CHECK: fathom.param @created : tensor<4x4xbf16>
fathom.param @created : tensor<4x4xbf16>
// CHECK: fathom.param @kv_a : tensor<200x160xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @kv_a_scale
fathom.param @kv_a : tensor<200x160xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @kv_a_scale
// CHECK: fathom.param @kv_a_scale : tensor<2x2xf32>
fathom.param @kv_a_scale : tensor<2x2xf32>
// One expert's up rows inside a fused gate_up_proj [E, 2I, H].
// CHECK: fathom.param @model.layers.1.mlp.experts.3.up_proj.weight : tensor<32x64xbf16> {source = "model.layers.1.mlp.experts.gate_up_proj", source_offset = 14336 : i64}
fathom.param @model.layers.1.mlp.experts.3.up_proj.weight : tensor<32x64xbf16> {source = "model.layers.1.mlp.experts.gate_up_proj", source_offset = 14336 : i64}
