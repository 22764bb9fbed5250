// RUN: fathom-opt %s -fathom-lower-to-kernels -split-input-file | FileCheck %s
// Choosing again gives the same kernels.
// RUN: fathom-opt %s -fathom-lower-to-kernels -fathom-lower-to-kernels -split-input-file | FileCheck %s

// Every op of an entry function gets the CPU kernel that runs it; slices and head splits only
// re-describe their input's buffer ("view"), as does merging packed heads; merging heads that
// are strided (a slice of each head) needs a copy. Functions that are not entry points are left
// alone.
// CHECK-LABEL: func.func @decode
// CHECK: fathom.embedding {{.*}}fathom.kernel = "embedding"
// CHECK: fathom.rms_norm {{.*}}fathom.kernel = "rms_norm"
// CHECK: fathom.linear {{.*}}fathom.kernel = "linear"
// CHECK: fathom.split_heads {{.*}}fathom.kernel = "view"
// CHECK: %[[PACKED:.*]] = fathom.merge_heads {{.*}}fathom.kernel = "view"
// CHECK: fathom.slice {{.*}}fathom.kernel = "view"
// CHECK: fathom.merge_heads {{.*}}fathom.kernel = "copy"
// CHECK: fathom.head_matmul {{.*}}fathom.kernel = "head_matmul"
// CHECK: fathom.add {{.*}}fathom.kernel = "add"
// CHECK: fathom.select_rows {{.*}}fathom.kernel = "select_rows"
// CHECK: fathom.lm_head {{.*}}fathom.kernel = "linear"
// CHECK-LABEL: func.func @helper
// CHECK-NOT: fathom.kernel
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 8 : i64} {
  fathom.param @table : tensor<16x8xf32>
  fathom.param @norm : tensor<8xf32>
  fathom.param @w : tensor<8x8xf32>
  fathom.param @heads : tensor<2x2x2xf32>
  fathom.param @head : tensor<16x8xf32>
  func.func @decode(%ids: tensor<?x?xi64> {fathom.input = "ids"}, %rows: tensor<?xi64> {fathom.input = "head_rows"}) -> tensor<?x16xf32> attributes {fathom.entry_point = "decode", fathom.max_tokens = 1 : i64} {
    %0 = fathom.embedding %ids, @table : tensor<?x?xi64> -> tensor<?x?x8xf32>
    %1 = fathom.rms_norm %0, @norm eps 1.0e-6 : tensor<?x?x8xf32>
    %2 = fathom.linear %1, @w : tensor<?x?x8xf32> -> tensor<?x?x8xf32>
    %3 = fathom.split_heads %2 : tensor<?x?x8xf32> -> tensor<?x?x2x4xf32>
    %4 = fathom.merge_heads %3 : tensor<?x?x2x4xf32> -> tensor<?x?x8xf32>
    %5 = fathom.slice %3[0, 2] : tensor<?x?x2x4xf32> -> tensor<?x?x2x2xf32>
    %6 = fathom.merge_heads %5 : tensor<?x?x2x2xf32> -> tensor<?x?x4xf32>
    %7 = fathom.head_matmul %5, @heads : tensor<?x?x2x2xf32> -> tensor<?x?x2x2xf32>
    %8 = fathom.add %4, %1 : tensor<?x?x8xf32>
    %9 = fathom.select_rows %8, %rows : tensor<?x?x8xf32>, tensor<?xi64> -> tensor<?x8xf32>
    %10 = fathom.lm_head %9, @head : tensor<?x8xf32> -> tensor<?x16xf32>
    return %10 : tensor<?x16xf32>
  }
  func.func @helper(%x: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
    %0 = fathom.rms_norm %x, @norm eps 1.0e-6 : tensor<?x?x8xf32>
    return %0 : tensor<?x?x8xf32>
  }
}
