// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @width(%pixels: tensor<?x3000xf32>) -> tensor<?x16x192xf32> {
  // expected-error @below {{input must be [n, 3072]: one channels-first image per row}}
  %0 = fathom.patchify %pixels {channels = 3 : i64, height = 32 : i64, width = 32 : i64, patch_size = 8 : i64} : tensor<?x3000xf32> -> tensor<?x16x192xf32>
  return %0 : tensor<?x16x192xf32>
}

// -----

func.func @split(%pixels: tensor<?x3000xf32>) -> tensor<?x16x192xf32> {
  // expected-error @below {{a 20x50 image does not split into 8x8 patches}}
  %0 = fathom.patchify %pixels {channels = 3 : i64, height = 20 : i64, width = 50 : i64, patch_size = 8 : i64} : tensor<?x3000xf32> -> tensor<?x16x192xf32>
  return %0 : tensor<?x16x192xf32>
}

// -----

func.func @patches(%pixels: tensor<?x3072xf32>) -> tensor<?x8x192xf32> {
  // expected-error @below {{result must be [n, 16, 192]}}
  %0 = fathom.patchify %pixels {channels = 3 : i64, height = 32 : i64, width = 32 : i64, patch_size = 8 : i64} : tensor<?x3072xf32> -> tensor<?x8x192xf32>
  return %0 : tensor<?x8x192xf32>
}

// -----

fathom.param @w : tensor<32xf32>
fathom.param @b : tensor<16xf32>

func.func @bias(%x: tensor<?x?x32xf32>) -> tensor<?x?x32xf32> {
  // expected-error @below {{bias @b must be [32], got [16]}}
  %0 = fathom.layer_norm %x, @w, @b eps 1.0e-6 : tensor<?x?x32xf32>
  return %0 : tensor<?x?x32xf32>
}

// -----

fathom.param @w : tensor<32xf32>

func.func @epsilon(%x: tensor<?x?x32xf32>) -> tensor<?x?x32xf32> {
  // expected-error @below {{epsilon must be positive}}
  %0 = fathom.layer_norm %x, @w, @w eps 0.0 : tensor<?x?x32xf32>
  return %0 : tensor<?x?x32xf32>
}

// -----

func.func @scatter_width(%x: tensor<?x?x64xf32>, %ids: tensor<?x?xi64>, %rows: tensor<?x32xf32>) -> tensor<?x?x64xf32> {
  // expected-error @below {{source rows of 32 do not fit input rows of 64}}
  %0 = fathom.masked_scatter %x, %ids, %rows token 7 : tensor<?x?x64xf32>, tensor<?x?xi64>, tensor<?x32xf32>
  return %0 : tensor<?x?x64xf32>
}
