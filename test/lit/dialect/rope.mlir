// RUN: fathom-opt %s | fathom-opt | FileCheck %s

// Tables are [max_positions, dim / 2] params of the activation dtype (rotate_half,
// interleaved) or f32 (complex, complex_halves).
fathom.param @cos.f32 : tensor<16x4xf32>
fathom.param @sin.f32 : tensor<16x4xf32>
fathom.param @cos.bf16 : tensor<32x8xbf16>
fathom.param @sin.bf16 : tensor<32x8xbf16>
fathom.param @cos.wide : tensor<32x8xf32>
fathom.param @sin.wide : tensor<32x8xf32>

// CHECK-LABEL: func.func @heads_rotate_half
func.func @heads_rotate_half(%q: tensor<?x?x4x8xf32>, %pos: tensor<?x?xi64>) -> tensor<?x?x4x8xf32> {
  // CHECK: fathom.rope %{{.*}}, %{{.*}}, @cos.f32, @sin.f32 <rotate_half> : tensor<?x?x4x8xf32>, tensor<?x?xi64>
  %0 = fathom.rope %q, %pos, @cos.f32, @sin.f32 <rotate_half> : tensor<?x?x4x8xf32>, tensor<?x?xi64>
  return %0 : tensor<?x?x4x8xf32>
}

// CHECK-LABEL: func.func @shared_key_interleaved
func.func @shared_key_interleaved(%k: tensor<2x5x16xbf16>, %pos: tensor<2x5xi32>) -> tensor<2x5x16xbf16> {
  // CHECK: fathom.rope %{{.*}}, %{{.*}}, @cos.bf16, @sin.bf16 <interleaved> : tensor<2x5x16xbf16>, tensor<2x5xi32>
  %0 = fathom.rope %k, %pos, @cos.bf16, @sin.bf16 <interleaved> : tensor<2x5x16xbf16>, tensor<2x5xi32>
  return %0 : tensor<2x5x16xbf16>
}

// The complex modes read f32 tables whatever the activation dtype.
// CHECK-LABEL: func.func @complex_modes
func.func @complex_modes(%k: tensor<?x?x2x16xbf16>, %pos: tensor<?x?xi64>) -> (tensor<?x?x2x16xbf16>, tensor<?x?x2x16xbf16>) {
  // CHECK: fathom.rope %{{.*}}, %{{.*}}, @cos.wide, @sin.wide <complex> : tensor<?x?x2x16xbf16>, tensor<?x?xi64>
  %0 = fathom.rope %k, %pos, @cos.wide, @sin.wide <complex> : tensor<?x?x2x16xbf16>, tensor<?x?xi64>
  // CHECK: fathom.rope %{{.*}}, %{{.*}}, @cos.wide, @sin.wide <complex_halves> : tensor<?x?x2x16xbf16>, tensor<?x?xi64>
  %1 = fathom.rope %k, %pos, @cos.wide, @sin.wide <complex_halves> : tensor<?x?x2x16xbf16>, tensor<?x?xi64>
  return %0, %1 : tensor<?x?x2x16xbf16>, tensor<?x?x2x16xbf16>
}
