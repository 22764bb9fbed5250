// RUN: fathom-opt %s -split-input-file -verify-diagnostics

// The custom syntax cannot spell an empty input list; the generic form can.
func.func @no_inputs() -> tensor<4xbf16> {
  // expected-error @below {{needs at least one input}}
  %0 = "fathom.weight_concat"() <{dim = 0 : i64}> : () -> tensor<4xbf16>
  return %0 : tensor<4xbf16>
}

// -----

func.func @dim(%a: tensor<32x64xbf16>, %b: tensor<32x64xbf16>) -> tensor<64x64xbf16> {
  // expected-error @below {{dim 2 is not a dimension of 'tensor<32x64xbf16>'}}
  %0 = fathom.weight_concat %a, %b dim 2 : tensor<32x64xbf16>, tensor<32x64xbf16> -> tensor<64x64xbf16>
  return %0 : tensor<64x64xbf16>
}

// -----

func.func @rank(%a: tensor<32x64xbf16>, %b: tensor<64xbf16>) -> tensor<33x64xbf16> {
  // expected-error @below {{inputs must share rank and element type}}
  %0 = fathom.weight_concat %a, %b dim 0 : tensor<32x64xbf16>, tensor<64xbf16> -> tensor<33x64xbf16>
  return %0 : tensor<33x64xbf16>
}

// -----

func.func @input_dtype(%a: tensor<32x64xbf16>, %b: tensor<32x64xf32>) -> tensor<64x64xbf16> {
  // expected-error @below {{inputs must share rank and element type}}
  %0 = fathom.weight_concat %a, %b dim 0 : tensor<32x64xbf16>, tensor<32x64xf32> -> tensor<64x64xbf16>
  return %0 : tensor<64x64xbf16>
}

// -----

func.func @other_dim(%a: tensor<32x64xbf16>, %b: tensor<32x48xbf16>) -> tensor<64x64xbf16> {
  // expected-error @below {{inputs differ in dimension 1}}
  %0 = fathom.weight_concat %a, %b dim 0 : tensor<32x64xbf16>, tensor<32x48xbf16> -> tensor<64x64xbf16>
  return %0 : tensor<64x64xbf16>
}

// -----

func.func @result_shape(%a: tensor<32x64xbf16>, %b: tensor<16x64xbf16>) -> tensor<64x64xbf16> {
  // expected-error @below {{result must have the joined shape}}
  %0 = fathom.weight_concat %a, %b dim 0 : tensor<32x64xbf16>, tensor<16x64xbf16> -> tensor<64x64xbf16>
  return %0 : tensor<64x64xbf16>
}

// -----

func.func @result_dtype(%a: tensor<32x64xbf16>, %b: tensor<32x64xbf16>) -> tensor<64x64xf32> {
  // expected-error @below {{element types differ: 'bf16' vs 'f32'}}
  %0 = fathom.weight_concat %a, %b dim 0 : tensor<32x64xbf16>, tensor<32x64xbf16> -> tensor<64x64xf32>
  return %0 : tensor<64x64xf32>
}
