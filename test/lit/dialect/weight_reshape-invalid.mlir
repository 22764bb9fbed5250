// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @count(%w: tensor<128x32xbf16>) -> tensor<4x32x16xbf16> {
  // expected-error @below {{'tensor<128x32xbf16>' and 'tensor<4x32x16xbf16>' hold different element counts}}
  %0 = fathom.weight_reshape %w : tensor<128x32xbf16> -> tensor<4x32x16xbf16>
  return %0 : tensor<4x32x16xbf16>
}

// -----

func.func @dtype(%w: tensor<128x32xbf16>) -> tensor<4x32x32xf16> {
  // expected-error @below {{element types differ: 'bf16' vs 'f16'}}
  %0 = fathom.weight_reshape %w : tensor<128x32xbf16> -> tensor<4x32x32xf16>
  return %0 : tensor<4x32x32xf16>
}

// -----

func.func @dynamic(%w: tensor<128x32xbf16>) -> tensor<?x32x32xbf16> {
  // expected-error @below {{'fathom.weight_reshape' op result #0 must be statically shaped tensor of any type values, but got 'tensor<?x32x32xbf16>'}}
  %0 = fathom.weight_reshape %w : tensor<128x32xbf16> -> tensor<?x32x32xbf16>
  return %0 : tensor<?x32x32xbf16>
}
