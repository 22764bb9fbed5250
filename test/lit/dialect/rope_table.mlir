// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @rope.cos.bf16 : tensor<16x4xbf16>
fathom.param @rope.sin.bf16 : tensor<16x4xbf16>
fathom.param @rope.cos.f32 : tensor<32x8xf32>
fathom.param @rope.sin.f32 : tensor<32x8xf32>
fathom.param @rope.cos.llama3 : tensor<32x8xf32>
fathom.param @rope.sin.longrope : tensor<16x4xf32>

// CHECK-LABEL: module
// CHECK: fathom.rope_table <cos> <theta = 1.000000e+04, dim = 8, scaling = yarn, factor = 4.000000e+00, original_max_positions = 64, beta_fast = 3.200000e+01, beta_slow = 1.000000e+00, attention_factor = 1.0249579607969668, truncate = true> : tensor<16x4xbf16>
// CHECK: fathom.rope_table <sin> <theta = 1.000000e+04, dim = 8, scaling = yarn, factor = 4.000000e+00, original_max_positions = 64, beta_fast = 3.200000e+01, beta_slow = 1.000000e+00, attention_factor = 1.0249579607969668, truncate = true> : tensor<16x4xbf16>
// CHECK: fathom.rope_table <cos> <theta = 5.000000e+05, dim = 16, scaling = linear, factor = 2.000000e+00, original_max_positions = 0, beta_fast = 3.200000e+01, beta_slow = 1.000000e+00, attention_factor = 1.000000e+00, truncate = false> : tensor<32x8xf32>
// CHECK: fathom.rope_table <sin> <theta = 5.000000e+05, dim = 16, scaling = none
// The low/high frequency factors are printed only where they are set (llama3).
// CHECK-SAME: truncate = false> : tensor<32x8xf32>
// CHECK: fathom.rope_table <cos> <theta = 5.000000e+05, dim = 16, scaling = llama3, factor = 8.000000e+00, original_max_positions = 8192, beta_fast = 3.200000e+01, beta_slow = 1.000000e+00, attention_factor = 1.000000e+00, truncate = false, low_freq_factor = 1.000000e+00, high_freq_factor = 4.000000e+00> : tensor<32x8xf32>
// CHECK: fathom.rope_table <sin> <theta = 1.000000e+04, dim = 8, scaling = longrope, factor = 4.000000e+00, original_max_positions = 64, beta_fast = 3.200000e+01, beta_slow = 1.000000e+00, attention_factor = 1.1547005383792517, truncate = false, divisors = [1.000000e+00, 1.500000e+00, 3.000000e+00, 7.000000e+00]> : tensor<16x4xf32>
fathom.initializer {
  %0 = fathom.rope_table <cos> <theta = 10000.0, dim = 8, scaling = yarn, factor = 4.0, original_max_positions = 64, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0249579607969668, truncate = true> : tensor<16x4xbf16>
  fathom.define_param @rope.cos.bf16 = %0 : tensor<16x4xbf16>
  %1 = fathom.rope_table <sin> <theta = 10000.0, dim = 8, scaling = yarn, factor = 4.0, original_max_positions = 64, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0249579607969668, truncate = true> : tensor<16x4xbf16>
  fathom.define_param @rope.sin.bf16 = %1 : tensor<16x4xbf16>
  %2 = fathom.rope_table <cos> <theta = 500000.0, dim = 16, scaling = linear, factor = 2.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false> : tensor<32x8xf32>
  fathom.define_param @rope.cos.f32 = %2 : tensor<32x8xf32>
  %3 = fathom.rope_table <sin> <theta = 500000.0, dim = 16, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false> : tensor<32x8xf32>
  fathom.define_param @rope.sin.f32 = %3 : tensor<32x8xf32>
  %4 = fathom.rope_table <cos> <theta = 500000.0, dim = 16, scaling = llama3, factor = 8.0, original_max_positions = 8192, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = false, low_freq_factor = 1.0, high_freq_factor = 4.0> : tensor<32x8xf32>
  fathom.define_param @rope.cos.llama3 = %4 : tensor<32x8xf32>
  %5 = fathom.rope_table <sin> <theta = 10000.0, dim = 8, scaling = longrope, factor = 4.0, original_max_positions = 64, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.1547005383792517, truncate = false, divisors = [1.0, 1.5, 3.0, 7.0]> : tensor<16x4xf32>
  fathom.define_param @rope.sin.longrope = %5 : tensor<16x4xf32>
}
