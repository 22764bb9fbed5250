// RUN: fathom-opt %s -fathom-lower-to-kernels -split-input-file -verify-diagnostics
// RUN: not fathom-opt %s -fathom-lower-to-kernels=target=tpu -split-input-file 2>&1 | FileCheck %s --check-prefix=TARGET

// A model-level block left undecomposed has no kernel.
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 8 : i64} {
  fathom.param @gate : tensor<4x8xf32>
  fathom.param @bias : tensor<4xf32>
  func.func @decode(%x: tensor<?x?xi64> {fathom.input = "ids"}) -> tensor<?x?xi64> attributes {fathom.entry_point = "decode"} {
    return %x : tensor<?x?xi64>
  }
  func.func @prefill(%ids: tensor<?x?xi64> {fathom.input = "ids"}, %x: tensor<?x?x8xf32> {fathom.input = "positions"}) -> tensor<?x?x2xf32> attributes {fathom.entry_point = "prefill"} {
    // expected-error @below {{cannot run on the cpu target: model-level blocks must be decomposed first (fathom-decompose)}}
    %w, %i = fathom.moe_router %x, @gate {score_bias = @bias, scoring = #fathom.scoring<sigmoid>, top_k = 2 : i64, n_group = 1 : i64, topk_group = 1 : i64, norm_topk_prob = true, routed_scaling_factor = 1.0 : f32} : tensor<?x?x8xf32> -> tensor<?x?x2xf32>, tensor<?x?x2xi32>
    return %w : tensor<?x?x2xf32>
  }
}

// -----

// Activations the CPU kernels do not have.
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 8 : i64} {
  fathom.param @w : tensor<8x8xf16>
  func.func @prefill(%x: tensor<?x?xi64> {fathom.input = "ids"}, %h: tensor<?x?x8xf16> {fathom.input = "positions"}) -> tensor<?x?x8xf16> attributes {fathom.entry_point = "prefill"} {
    // expected-error @below {{cannot run on the cpu target: weight @w is f16; its kernel takes f32, bf16, block-quantized f8E4M3FN, block-quantized ui4}}
    %0 = fathom.linear %h, @w : tensor<?x?x8xf16> -> tensor<?x?x8xf16>
    return %0 : tensor<?x?x8xf16>
  }
}

// -----

// A per-head matmul over FP8 weights is not a CPU kernel.
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 8 : i64} {
  fathom.param @w8 : tensor<2x2x2xf8E4M3FN>
  func.func @decode(%ids: tensor<?x?xi64> {fathom.input = "ids"}, %x: tensor<?x?x2x2xbf16> {fathom.input = "positions"}) -> tensor<?x?x2x2xbf16> attributes {fathom.entry_point = "decode"} {
    // expected-error @below {{weight @w8 is f8E4M3FN; its kernel takes f32, bf16}}
    %0 = fathom.head_matmul %x, @w8 : tensor<?x?x2x2xbf16> -> tensor<?x?x2x2xbf16>
    return %0 : tensor<?x?x2x2xbf16>
  }
}

// -----

// A function still named @model has not been specialized.
// expected-error @below {{@model is still there: specialize the entry points first}}
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 8 : i64} {
  func.func @model(%x: tensor<2xf32>) -> tensor<2xf32> {
    return %x : tensor<2xf32>
  }
}
// TARGET: unknown target 'tpu' (known: cpu, cuda, cuda:sm_90a, cuda:sm_80)
