// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @bad_scale(%w: tensor<3x300xf32>) {
  // expected-error @below {{scale must be 'tensor<3x3xf32>'}}
  %q, %s, %z = fathom.weight_group_quantize %w group(128) : tensor<3x300xf32> -> tensor<3x300xui4>, tensor<3x2xf32>, tensor<3x3xui4>
  return
}

// -----

func.func @bad_data(%w: tensor<3x300xf32>) {
  // expected-error @below {{quantizes a 2-D float tensor into ui4 data of the same shape}}
  %q, %s, %z = fathom.weight_group_quantize %w group(128) : tensor<3x300xf32> -> tensor<3x300xi8>, tensor<3x3xf32>, tensor<3x3xui4>
  return
}

// -----

func.func @no_zero(%q: tensor<3x300xui4>, %s: tensor<3x3xf32>) {
  // expected-error @below {{ui4 data comes with a zero point operand, and only ui4 data does}}
  %d = fathom.weight_dequantize %q, %s block(1, 128) : tensor<3x300xui4>, tensor<3x3xf32> -> tensor<3x300xf32>
  return
}

// -----

func.func @split_rows(%q: tensor<4x300xui4>) {
  // expected-error @below {{keeps the rows of packed ui4 data: the last dimension must stay}}
  %r = fathom.weight_reshape %q : tensor<4x300xui4> -> tensor<8x150xui4>
  return
}

// -----

func.func @concat_columns(%q: tensor<4x300xui4>) {
  // expected-error @below {{cannot split the rows of packed ui4 data (dimension 1 is the last)}}
  %j = fathom.weight_concat %q, %q dim 1 : tensor<4x300xui4>, tensor<4x300xui4> -> tensor<4x600xui4>
  return
}

// -----

func.func @transpose(%q: tensor<4x300xui4>) {
  // expected-error @below {{does not apply to packed ui4 data}}
  %t = fathom.weight_transpose %q : tensor<4x300xui4> -> tensor<300x4xui4>
  return
}
