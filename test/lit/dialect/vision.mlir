// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @w : tensor<32xbf16>
fathom.param @b : tensor<32xbf16>

// CHECK-LABEL: func.func @siglip_pieces
func.func @siglip_pieces(%pixels: tensor<?x3072xf32>, %x: tensor<?x?x32xbf16>) -> (tensor<?x16x192xbf16>, tensor<?x?x32xbf16>) {
  // CHECK: fathom.patchify %{{.*}} {channels = 3 : i64, height = 32 : i64, patch_size = 8 : i64, width = 32 : i64} : tensor<?x3072xf32> -> tensor<?x16x192xbf16>
  %0 = fathom.patchify %pixels {channels = 3 : i64, height = 32 : i64, width = 32 : i64, patch_size = 8 : i64} : tensor<?x3072xf32> -> tensor<?x16x192xbf16>
  // CHECK: fathom.layer_norm %{{.*}}, @w, @b eps 9.99999997E-7 : tensor<?x?x32xbf16>
  %1 = fathom.layer_norm %x, @w, @b eps 1.0e-6 : tensor<?x?x32xbf16>
  // The default (erf) is not printed.
  // CHECK: fathom.gelu %{{.*}} : tensor<?x?x32xbf16>
  %2 = fathom.gelu %1 approximation <erf> : tensor<?x?x32xbf16>
  // CHECK: fathom.gelu %{{.*}} approximation <tanh> : tensor<?x?x32xbf16>
  %3 = fathom.gelu %2 approximation <tanh> : tensor<?x?x32xbf16>
  // CHECK: fathom.gelu %{{.*}} approximation <tanh_unfused> : tensor<?x?x32xbf16>
  %4 = fathom.gelu %3 approximation <tanh_unfused> : tensor<?x?x32xbf16>
  return %0, %4 : tensor<?x16x192xbf16>, tensor<?x?x32xbf16>
}

// CHECK-LABEL: func.func @merge_images
func.func @merge_images(%x: tensor<?x?x64xbf16>, %ids: tensor<?x?xi64>, %rows: tensor<?x64xf32>) -> tensor<?x?x64xbf16> {
  // CHECK: fathom.masked_scatter %{{.*}}, %{{.*}}, %{{.*}} token 511 : tensor<?x?x64xbf16>, tensor<?x?xi64>, tensor<?x64xf32>
  %0 = fathom.masked_scatter %x, %ids, %rows token 511 : tensor<?x?x64xbf16>, tensor<?x?xi64>, tensor<?x64xf32>
  return %0 : tensor<?x?x64xbf16>
}
