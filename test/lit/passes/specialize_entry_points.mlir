// RUN: fathom-opt %s -fathom-specialize-entry-points -split-input-file | FileCheck %s
// A second run finds no @model and changes nothing.
// RUN: fathom-opt %s -fathom-specialize-entry-points -fathom-specialize-entry-points -split-input-file | FileCheck %s

// A causal LM's @model becomes @prefill (whole prompts) and @decode (one token per sequence),
// each a copy of the body with its inputs; @model is gone.
// CHECK-LABEL: module attributes {fathom.max_batch = 2 : i64, fathom.max_seq_len = 32 : i64}
// CHECK-NOT: func.func @model
// CHECK: func.func @prefill(%{{.*}}: tensor<?x?xi64> {fathom.input = "ids"}, %{{.*}}: tensor<?xi64> {fathom.input = "head_rows"}) -> tensor<?x8xf32>
// CHECK-SAME: fathom.entry_point = "prefill", fathom.max_tokens = 32 : i64
// CHECK-NEXT: fathom.embedding
// CHECK-NEXT: fathom.select_rows
// CHECK: func.func @decode(
// CHECK-SAME: fathom.entry_point = "decode", fathom.max_tokens = 1 : i64
// CHECK-NEXT: fathom.embedding
// CHECK-NOT: fathom.entry_points
module attributes {fathom.max_batch = 2 : i64, fathom.max_seq_len = 32 : i64} {
  fathom.param @table : tensor<16x8xf32>
  func.func @model(%ids: tensor<?x?xi64> {fathom.input = "ids"}, %rows: tensor<?xi64> {fathom.input = "head_rows"}) -> tensor<?x8xf32> attributes {fathom.entry_points = ["prefill", "decode"]} {
    %0 = fathom.embedding %ids, @table : tensor<?x?xi64> -> tensor<?x?x8xf32>
    %1 = fathom.select_rows %0, %rows : tensor<?x?x8xf32>, tensor<?xi64> -> tensor<?x8xf32>
    return %1 : tensor<?x8xf32>
  }
}

// -----

// A classifier has one entry point.
// CHECK-LABEL: module
// CHECK: func.func @classify(
// CHECK-SAME: fathom.entry_point = "classify", fathom.max_tokens = 8 : i64
// CHECK-NOT: func.func @
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 8 : i64} {
  fathom.param @table : tensor<16x8xf32>
  func.func @model(%ids: tensor<?x?xi64> {fathom.input = "ids"}) -> tensor<?x?x8xf32> attributes {fathom.entry_points = ["classify"]} {
    %0 = fathom.embedding %ids, @table : tensor<?x?xi64> -> tensor<?x?x8xf32>
    return %0 : tensor<?x?x8xf32>
  }
}

// -----

// Without @model (already specialized, or written by hand) the module is left alone.
// CHECK-LABEL: module
// CHECK: func.func @custom
// CHECK-NOT: fathom.entry_point
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 8 : i64} {
  func.func @custom(%x: tensor<2xf32>) -> tensor<2xf32> {
    return %x : tensor<2xf32>
  }
}

// -----

// DeepSeek-VL: two model-level functions. @vision states its own max_tokens (an image's
// patches), which encode_image keeps; @model gives prefill and decode as usual.
// CHECK-LABEL: module attributes {fathom.max_batch = 2 : i64, fathom.max_seq_len = 64 : i64}
// CHECK-NOT: func.func @model
// CHECK-NOT: func.func @vision
// CHECK: func.func @prefill(
// CHECK-SAME: fathom.max_tokens = 64 : i64
// CHECK: func.func @decode(
// CHECK-SAME: fathom.max_tokens = 1 : i64
// CHECK: func.func @encode_image(%{{.*}}: tensor<?x48xf32> {fathom.input = "pixel_values"})
// CHECK-SAME: fathom.entry_point = "encode_image", fathom.max_tokens = 4 : i64
module attributes {fathom.max_batch = 2 : i64, fathom.max_seq_len = 64 : i64} {
  fathom.param @table : tensor<16x8xf32>
  func.func @model(%ids: tensor<?x?xi64> {fathom.input = "ids"}) -> tensor<?x?x8xf32> attributes {fathom.entry_points = ["prefill", "decode"]} {
    %0 = fathom.embedding %ids, @table : tensor<?x?xi64> -> tensor<?x?x8xf32>
    return %0 : tensor<?x?x8xf32>
  }
  func.func @vision(%pixels: tensor<?x48xf32> {fathom.input = "pixel_values"}) -> tensor<?x4x12xf32> attributes {fathom.entry_points = ["encode_image"], fathom.max_tokens = 4 : i64} {
    %0 = fathom.patchify %pixels {channels = 3 : i64, height = 4 : i64, width = 4 : i64, patch_size = 2 : i64} : tensor<?x48xf32> -> tensor<?x4x12xf32>
    return %0 : tensor<?x4x12xf32>
  }
}
