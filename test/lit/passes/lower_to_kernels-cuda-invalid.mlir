// RUN: fathom-opt %s -fathom-lower-to-kernels=target=cuda -split-input-file -verify-diagnostics

// INT4 weights have no CUDA kernel yet: the error names the weight and what the kernel takes.
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 8 : i64} {
  fathom.param @w : tensor<8x128xui4> quantized <storage = u4, rows = 1, cols = 128> scale @w_scale {zero = @w_zero}
  fathom.param @w_scale : tensor<8x1xf32>
  fathom.param @w_zero : tensor<8x1xui4>
  func.func @prefill(%ids: tensor<?x?xi64> {fathom.input = "ids"}, %h: tensor<?x?x128xbf16> {fathom.input = "positions"}) -> tensor<?x?x8xbf16> attributes {fathom.entry_point = "prefill"} {
    // expected-error @below {{cannot run on the cuda:sm_90a target: weight @w is ui4; its kernel takes f32, bf16, block-quantized f8E4M3FN}}
    %0 = fathom.linear %h, @w : tensor<?x?x128xbf16> -> tensor<?x?x8xbf16>
    return %0 : tensor<?x?x8xbf16>
  }
}

// -----

// The CUDA attention kernels hold keys up to MLA's absorbed 576 (512 latent + 64 rope) wide.
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 8 : i64} {
  func.func @prefill(%ids: tensor<?x?xi64> {fathom.input = "ids"}, %q: tensor<1x3x4x600xf32> {fathom.input = "positions"}, %qr: tensor<1x3x4x8xf32> {fathom.input = "key_mask"}, %k: tensor<1x5x4x600xf32> {fathom.input = "cache_start"}, %kr: tensor<1x5x1x8xf32> {fathom.input = "head_rows"}, %v: tensor<1x5x4x16xf32> {fathom.input = "image_embeddings"}, %m: tensor<1x5xi1> {fathom.input = "pixel_values"}) -> tensor<1x3x4x16xf32> attributes {fathom.entry_point = "prefill"} {
    // expected-error @below {{cannot run on the cuda:sm_90a target: query/key width 608 above 576}}
    %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%m) scale 0.2 : (tensor<1x3x4x600xf32>, tensor<1x3x4x8xf32>, tensor<1x5x4x600xf32>, tensor<1x5x1x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>) -> tensor<1x3x4x16xf32>
    return %0 : tensor<1x3x4x16xf32>
  }
}
