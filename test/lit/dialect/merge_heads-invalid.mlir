// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @ranks(%x: tensor<2x3x4x16xf32>) -> tensor<6x64xf32> {
  // expected-error @below {{merges [batch, seq, heads, dim] into [batch, seq, heads * dim]}}
  %0 = fathom.merge_heads %x : tensor<2x3x4x16xf32> -> tensor<6x64xf32>
  return %0 : tensor<6x64xf32>
}

// -----

func.func @width(%x: tensor<2x3x4x16xf32>) -> tensor<2x3x32xf32> {
  // expected-error @below {{the width of 'tensor<2x3x32xf32>' must be heads x dim of 'tensor<2x3x4x16xf32>'}}
  %0 = fathom.merge_heads %x : tensor<2x3x4x16xf32> -> tensor<2x3x32xf32>
  return %0 : tensor<2x3x32xf32>
}

// -----

func.func @dynamic_dim(%x: tensor<2x3x4x?xf32>) -> tensor<2x3x64xf32> {
  // expected-error @below {{the width of 'tensor<2x3x64xf32>' must be heads x dim of 'tensor<2x3x4x?xf32>'}}
  %0 = fathom.merge_heads %x : tensor<2x3x4x?xf32> -> tensor<2x3x64xf32>
  return %0 : tensor<2x3x64xf32>
}

// -----

func.func @batch(%x: tensor<2x3x4x16xf32>) -> tensor<1x3x64xf32> {
  // expected-error @below {{batch, seq and element type must be kept}}
  %0 = fathom.merge_heads %x : tensor<2x3x4x16xf32> -> tensor<1x3x64xf32>
  return %0 : tensor<1x3x64xf32>
}

// -----

func.func @dtype(%x: tensor<2x3x4x16xf32>) -> tensor<2x3x64xf16> {
  // expected-error @below {{batch, seq and element type must be kept}}
  %0 = fathom.merge_heads %x : tensor<2x3x4x16xf32> -> tensor<2x3x64xf16>
  return %0 : tensor<2x3x64xf16>
}
