// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @shape(%w: tensor<96x64xbf16>) -> tensor<64x96xf32> {
  // expected-error @below {{keeps the shape}}
  %0 = fathom.weight_convert %w : tensor<96x64xbf16> -> tensor<64x96xf32>
  return %0 : tensor<64x96xf32>
}

// -----

// FP8 goes through weight_dequantize / weight_quantize, not weight_convert.
func.func @fp8_result(%w: tensor<96x64xbf16>) -> tensor<96x64xf8E4M3FN> {
  // expected-error @below {{converts between f32, bf16 and f16}}
  %0 = fathom.weight_convert %w : tensor<96x64xbf16> -> tensor<96x64xf8E4M3FN>
  return %0 : tensor<96x64xf8E4M3FN>
}

// -----

func.func @int_input(%w: tensor<96x64xi8>) -> tensor<96x64xf32> {
  // expected-error @below {{converts between f32, bf16 and f16}}
  %0 = fathom.weight_convert %w : tensor<96x64xi8> -> tensor<96x64xf32>
  return %0 : tensor<96x64xf32>
}
