// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @odd_size(%w: tensor<96x32xbf16>) -> tensor<96x32xbf16> {
  // expected-error @below {{window (offset 16, size 7, period 24) must be even-sized, repeat no closer than its size and start inside the 96 rows}}
  %0 = fathom.weight_deinterleave_rows %w window(16, 7, 24) : tensor<96x32xbf16>
  return %0 : tensor<96x32xbf16>
}

// -----

func.func @size_zero(%w: tensor<96x32xbf16>) -> tensor<96x32xbf16> {
  // expected-error @below {{window (offset 16, size 0, period 24) must be even-sized, repeat no closer than its size and start inside the 96 rows}}
  %0 = fathom.weight_deinterleave_rows %w window(16, 0, 24) : tensor<96x32xbf16>
  return %0 : tensor<96x32xbf16>
}

// -----

func.func @overlapping(%w: tensor<96x32xbf16>) -> tensor<96x32xbf16> {
  // expected-error @below {{window (offset 0, size 8, period 4) must be even-sized, repeat no closer than its size and start inside the 96 rows}}
  %0 = fathom.weight_deinterleave_rows %w window(0, 8, 4) : tensor<96x32xbf16>
  return %0 : tensor<96x32xbf16>
}

// -----

func.func @outside(%w: tensor<40x64xbf16>) -> tensor<40x64xbf16> {
  // expected-error @below {{window (offset 36, size 8, period 40) must be even-sized, repeat no closer than its size and start inside the 40 rows}}
  %0 = fathom.weight_deinterleave_rows %w window(36, 8, 40) : tensor<40x64xbf16>
  return %0 : tensor<40x64xbf16>
}

// -----

func.func @negative_offset(%w: tensor<40x64xbf16>) -> tensor<40x64xbf16> {
  // expected-error @below {{window (offset -2, size 8, period 40) must be even-sized, repeat no closer than its size and start inside the 40 rows}}
  %0 = fathom.weight_deinterleave_rows %w window(-2, 8, 40) : tensor<40x64xbf16>
  return %0 : tensor<40x64xbf16>
}

// -----

func.func @result_type(%w: tensor<40x64xbf16>) -> tensor<40x64xf32> {
  // expected-error @below {{'fathom.weight_deinterleave_rows' op failed to verify that all of {input, result} have same type}}
  %0 = "fathom.weight_deinterleave_rows"(%w) <{offset = 32 : i64, size = 8 : i64, period = 40 : i64}> : (tensor<40x64xbf16>) -> tensor<40x64xf32>
  return %0 : tensor<40x64xf32>
}

// -----

func.func @rank0(%w: tensor<bf16>) -> tensor<bf16> {
  // expected-error @below {{permutes rows of a tensor of rank >= 1}}
  %0 = fathom.weight_deinterleave_rows %w window(0, 2, 2) : tensor<bf16>
  return %0 : tensor<bf16>
}
