// RUN: fathom-opt %s -split-input-file -verify-diagnostics

fathom.param @g : tensor<32x64xf32>
fathom.param @u : tensor<32x64xf32>
fathom.param @d : tensor<64x32xf32>
func.func @counts(%x: tensor<5x64xf32>, %w: tensor<5x2xf32>, %i: tensor<5x2xi32>) -> tensor<5x64xf32> {
  // expected-error @below {{gate_proj, up_proj and down_proj must list the same non-zero number of experts, got 2, 1, 1}}
  %0 = fathom.expert_ffn %x, %w, %i {gate_proj = [@g, @g], up_proj = [@u], down_proj = [@d]} : tensor<5x64xf32>, tensor<5x2xf32>, tensor<5x2xi32>
  return %0 : tensor<5x64xf32>
}

// -----

fathom.param @g : tensor<32x64xf32>
fathom.param @u : tensor<32x64xf32>
fathom.param @d : tensor<64x16xf32>
func.func @down_shape(%x: tensor<5x64xf32>, %w: tensor<5x2xf32>, %i: tensor<5x2xi32>) -> tensor<5x64xf32> {
  // expected-error @below {{down_proj @d must be [64, 32], got [64, 16]}}
  %0 = fathom.expert_ffn %x, %w, %i {gate_proj = [@g], up_proj = [@u], down_proj = [@d]} : tensor<5x64xf32>, tensor<5x2xf32>, tensor<5x2xi32>
  return %0 : tensor<5x64xf32>
}

// -----

fathom.param @g : tensor<32x64xf32>
fathom.param @u : tensor<32x64xf32>
fathom.param @d : tensor<64x32xf32>
func.func @routing(%x: tensor<5x64xf32>, %w: tensor<5x2xf32>, %i: tensor<5x3xi32>) -> tensor<5x64xf32> {
  // expected-error @below {{weights and indices must have the same shape}}
  %0 = fathom.expert_ffn %x, %w, %i {gate_proj = [@g], up_proj = [@u], down_proj = [@d]} : tensor<5x64xf32>, tensor<5x2xf32>, tensor<5x3xi32>
  return %0 : tensor<5x64xf32>
}
