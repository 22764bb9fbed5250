// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.cache @latent : tensor<40xbf16>
fathom.cache @kv : tensor<64xf32>
fathom.param @rope.cos.bf16 : tensor<16x4xbf16>
fathom.param @rope.sin.bf16 : tensor<16x4xbf16>

// The latent and the rope key, the key rotated on its way in (fathom-rope-fusion).
// CHECK-LABEL: func.func @latent_fused_rope
func.func @latent_fused_rope(%c: tensor<?x?x32xbf16>, %kr: tensor<?x?x8xbf16>, %start: tensor<?xi64>, %pos: tensor<?x?xi64>) -> tensor<?x?x40xbf16> {
  // CHECK: fathom.cache_append @latent(%{{.*}}, %{{.*}}) start(%{{.*}}) rope(%{{.*}}) {rope_cos = @rope.cos.bf16, rope_mode = #fathom.rope_mode<rotate_half>, rope_piece = 1 : i64, rope_sin = @rope.sin.bf16} : (tensor<?x?x32xbf16>, tensor<?x?x8xbf16>, tensor<?xi64>, tensor<?x?xi64>) -> tensor<?x?x40xbf16>
  %0 = fathom.cache_append @latent(%c, %kr) start(%start) rope(%pos) {rope_piece = 1 : i64, rope_cos = @rope.cos.bf16, rope_sin = @rope.sin.bf16, rope_mode = #fathom.rope_mode<rotate_half>} : (tensor<?x?x32xbf16>, tensor<?x?x8xbf16>, tensor<?xi64>, tensor<?x?xi64>) -> tensor<?x?x40xbf16>
  return %0 : tensor<?x?x40xbf16>
}

// CHECK-LABEL: func.func @plain
func.func @plain(%k: tensor<2x1x48xf32>, %v: tensor<2x1x16xf32>, %start: tensor<2xi32>) -> tensor<2x9x64xf32> {
  // CHECK: fathom.cache_append @kv(%{{.*}}, %{{.*}}) start(%{{.*}}) : (tensor<2x1x48xf32>, tensor<2x1x16xf32>, tensor<2xi32>) -> tensor<2x9x64xf32>
  %0 = fathom.cache_append @kv(%k, %v) start(%start) : (tensor<2x1x48xf32>, tensor<2x1x16xf32>, tensor<2xi32>) -> tensor<2x9x64xf32>
  return %0 : tensor<2x9x64xf32>
}

// CHECK-LABEL: func.func @one_piece
func.func @one_piece(%row: tensor<?x?x40xbf16>, %start: tensor<?xi64>) -> tensor<?x?x40xbf16> {
  // CHECK: fathom.cache_append @latent(%{{.*}}) start(%{{.*}}) : (tensor<?x?x40xbf16>, tensor<?xi64>) -> tensor<?x?x40xbf16>
  %0 = fathom.cache_append @latent(%row) start(%start) : (tensor<?x?x40xbf16>, tensor<?xi64>) -> tensor<?x?x40xbf16>
  return %0 : tensor<?x?x40xbf16>
}
