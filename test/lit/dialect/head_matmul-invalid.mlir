// RUN: fathom-opt %s -split-input-file -verify-diagnostics

fathom.param @w : tensor<4x32x16xbf16>
func.func @rank(%q: tensor<2x3x64xbf16>) -> tensor<2x3x4x32xbf16> {
  // expected-error @below {{maps [batch, seq, heads, in] to [batch, seq, heads, out]}}
  %0 = fathom.head_matmul %q, @w : tensor<2x3x64xbf16> -> tensor<2x3x4x32xbf16>
  return %0 : tensor<2x3x4x32xbf16>
}

// -----

fathom.param @w : tensor<4x32x16xbf16>
func.func @heads(%q: tensor<2x3x4x16xbf16>) -> tensor<2x3x2x32xbf16> {
  // expected-error @below {{result dimension 2 must be the input's}}
  %0 = fathom.head_matmul %q, @w : tensor<2x3x4x16xbf16> -> tensor<2x3x2x32xbf16>
  return %0 : tensor<2x3x2x32xbf16>
}

// -----

fathom.param @w : tensor<4x32x16xbf16>
func.func @batch(%q: tensor<2x3x4x16xbf16>) -> tensor<1x3x4x32xbf16> {
  // expected-error @below {{result dimension 0 must be the input's}}
  %0 = fathom.head_matmul %q, @w : tensor<2x3x4x16xbf16> -> tensor<1x3x4x32xbf16>
  return %0 : tensor<1x3x4x32xbf16>
}

// -----

fathom.param @w : tensor<4x16x32xbf16>
func.func @weight_layout(%q: tensor<2x3x4x16xbf16>) -> tensor<2x3x4x32xbf16> {
  // expected-error @below {{weight @w must be [4, 32, 16], got [4, 16, 32]}}
  %0 = fathom.head_matmul %q, @w : tensor<2x3x4x16xbf16> -> tensor<2x3x4x32xbf16>
  return %0 : tensor<2x3x4x32xbf16>
}

// -----

func.func @weight_missing(%q: tensor<2x3x4x16xbf16>) -> tensor<2x3x4x32xbf16> {
  // expected-error @below {{weight @w does not name a fathom.param}}
  %0 = fathom.head_matmul %q, @w : tensor<2x3x4x16xbf16> -> tensor<2x3x4x32xbf16>
  return %0 : tensor<2x3x4x32xbf16>
}

// -----

fathom.param @w : tensor<4x32x16xbf16>
func.func @dynamic_heads(%q: tensor<2x3x?x16xbf16>) -> tensor<2x3x?x32xbf16> {
  // expected-error @below {{heads and head dims must be static}}
  %0 = fathom.head_matmul %q, @w : tensor<2x3x?x16xbf16> -> tensor<2x3x?x32xbf16>
  return %0 : tensor<2x3x?x32xbf16>
}

// -----

fathom.param @w : tensor<4x32x16xbf16>
func.func @dynamic_in(%q: tensor<2x3x4x?xbf16>) -> tensor<2x3x4x32xbf16> {
  // expected-error @below {{heads and head dims must be static}}
  %0 = fathom.head_matmul %q, @w : tensor<2x3x4x?xbf16> -> tensor<2x3x4x32xbf16>
  return %0 : tensor<2x3x4x32xbf16>
}

// -----

fathom.param @w : tensor<4x32x16xbf16>
func.func @dynamic_out(%q: tensor<2x3x4x16xbf16>) -> tensor<2x3x4x?xbf16> {
  // expected-error @below {{heads and head dims must be static}}
  %0 = fathom.head_matmul %q, @w : tensor<2x3x4x16xbf16> -> tensor<2x3x4x?xbf16>
  return %0 : tensor<2x3x4x?xbf16>
}
