// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @ranks(%x: tensor<2x96xf32>) -> tensor<2x4x24xf32> {
  // expected-error @below {{splits [batch, seq, heads * dim] into [batch, seq, heads, dim]}}
  %0 = fathom.split_heads %x : tensor<2x96xf32> -> tensor<2x4x24xf32>
  return %0 : tensor<2x4x24xf32>
}

// -----

func.func @width(%x: tensor<2x3x96xf32>) -> tensor<2x3x4x16xf32> {
  // expected-error @below {{heads x dim of 'tensor<2x3x4x16xf32>' must equal the width of 'tensor<2x3x96xf32>'}}
  %0 = fathom.split_heads %x : tensor<2x3x96xf32> -> tensor<2x3x4x16xf32>
  return %0 : tensor<2x3x4x16xf32>
}

// -----

func.func @dynamic_heads(%x: tensor<2x3x96xf32>) -> tensor<2x3x?x24xf32> {
  // expected-error @below {{heads x dim of 'tensor<2x3x?x24xf32>' must equal the width of 'tensor<2x3x96xf32>'}}
  %0 = fathom.split_heads %x : tensor<2x3x96xf32> -> tensor<2x3x?x24xf32>
  return %0 : tensor<2x3x?x24xf32>
}

// -----

func.func @seq(%x: tensor<2x3x96xf32>) -> tensor<2x5x4x24xf32> {
  // expected-error @below {{batch, seq and element type must be kept}}
  %0 = fathom.split_heads %x : tensor<2x3x96xf32> -> tensor<2x5x4x24xf32>
  return %0 : tensor<2x5x4x24xf32>
}

// -----

func.func @dtype(%x: tensor<2x3x96xf32>) -> tensor<2x3x4x24xbf16> {
  // expected-error @below {{batch, seq and element type must be kept}}
  %0 = fathom.split_heads %x : tensor<2x3x96xf32> -> tensor<2x3x4x24xbf16>
  return %0 : tensor<2x3x4x24xbf16>
}
