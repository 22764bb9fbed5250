// RUN: fathom-opt %s -fathom-lower-to-kernels=target=cuda -split-input-file | FileCheck %s --check-prefixes=CHECK,HOPPER
// RUN: fathom-opt %s -fathom-lower-to-kernels=target=cuda:sm_90a -split-input-file | FileCheck %s --check-prefixes=CHECK,HOPPER
// RUN: fathom-opt %s -fathom-lower-to-kernels=target=cuda:sm_80 -split-input-file | FileCheck %s --check-prefixes=CHECK,AMPERE
// RUN: fathom-opt %s -fathom-lower-to-kernels=target=cuda -fathom-plan-memory -split-input-file | FileCheck %s --check-prefix=PLAN
// RUN: fathom-opt %s -fathom-lower-to-kernels=target=cpu -fathom-plan-memory -split-input-file | FileCheck %s --check-prefix=CPUPLAN

// The CUDA target runs the shared kernel ABI; what differs is FP8. On sm_90a an FP8 linear in
// DeepSeek's 128x128 blocks whose input width is a multiple of 128 and output width of 16
// multiplies in FP8 (linear_fp8, activations quantized per token per 128 channels); an FP8
// weight of another shape (100 outputs) and every FP8 weight on sm_80 take the dequantizing
// linear. The LM head is never FP8 here and stays "linear". The module records the spelling.
// HOPPER: module attributes {{{.*}}fathom.target = "cuda:sm_90a"
// AMPERE: module attributes {{{.*}}fathom.target = "cuda:sm_80"
// CHECK: fathom.embedding {{.*}}fathom.kernel = "embedding"
// CHECK: fathom.rms_norm {{.*}}fathom.kernel = "rms_norm"
// HOPPER: fathom.linear {{.*}}@fits {{.*}}fathom.kernel = "linear_fp8"
// AMPERE: fathom.linear {{.*}}@fits {{.*}}fathom.kernel = "linear"
// CHECK: fathom.linear {{.*}}@narrow {{.*}}fathom.kernel = "linear"
// CHECK: fathom.linear {{.*}}@dense {{.*}}fathom.kernel = "linear"
// CHECK: fathom.lm_head {{.*}}fathom.kernel = "linear"

// Buffers are 256-byte aligned on CUDA, 64 on the CPU: the head_rows input (one i64, placed
// last, at 1536) takes a 256-byte slot on CUDA and a 64-byte one on the CPU.
// PLAN: fathom.arena_offsets = 1536 : i64, fathom.input = "head_rows"
// PLAN-SAME: fathom.arena_size = 1792 : i64
// CPUPLAN: fathom.arena_offsets = 1536 : i64, fathom.input = "head_rows"
// CPUPLAN-SAME: fathom.arena_size = 1600 : i64
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 1 : i64} {
  fathom.param @table : tensor<16x128xf32>
  fathom.param @norm : tensor<128xf32>
  fathom.param @fits : tensor<256x128xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @fits_scale
  fathom.param @fits_scale : tensor<2x1xf32>
  fathom.param @narrow : tensor<100x256xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @narrow_scale
  fathom.param @narrow_scale : tensor<1x2xf32>
  fathom.param @dense : tensor<128x100xf32>
  fathom.param @head : tensor<16x128xf32>
  func.func @decode(%ids: tensor<?x?xi64> {fathom.input = "ids"}, %rows: tensor<?xi64> {fathom.input = "head_rows"}) -> tensor<?x16xf32> attributes {fathom.entry_point = "decode", fathom.max_tokens = 1 : i64} {
    %0 = fathom.embedding %ids, @table : tensor<?x?xi64> -> tensor<?x?x128xf32>
    %1 = fathom.rms_norm %0, @norm eps 1.0e-6 : tensor<?x?x128xf32>
    %2 = fathom.linear %1, @fits : tensor<?x?x128xf32> -> tensor<?x?x256xf32>
    %3 = fathom.linear %2, @narrow : tensor<?x?x256xf32> -> tensor<?x?x100xf32>
    %4 = fathom.linear %3, @dense : tensor<?x?x100xf32> -> tensor<?x?x128xf32>
    %5 = fathom.select_rows %4, %rows : tensor<?x?x128xf32>, tensor<?xi64> -> tensor<?x128xf32>
    %6 = fathom.lm_head %5, @head : tensor<?x128xf32> -> tensor<?x16xf32>
    return %6 : tensor<?x16xf32>
  }
}
