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
