// RUN: fathom-opt %s | fathom-opt | FileCheck %s

// CHECK-LABEL: func.func @yarn
func.func @yarn(%q: tensor<?x?x4x8xf32>, %pos: tensor<?x?xi64>) -> tensor<?x?x4x8xf32> {
  // CHECK: fathom.rope %{{.*}}, %{{.*}} <theta = 1.000000e+04, dim = 8, interleaved = true, scaling = yarn, factor = 4.000000e+01, original_max_positions = 4096, beta_fast = 3.200000e+01, beta_slow = 1.000000e+00, attention_factor = 1.000000e+00> : tensor<?x?x4x8xf32>, tensor<?x?xi64>
  %0 = fathom.rope %q, %pos <theta = 10000.0, dim = 8, interleaved = true, scaling = yarn, factor = 40.0, original_max_positions = 4096, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0> : tensor<?x?x4x8xf32>, tensor<?x?xi64>
  return %0 : tensor<?x?x4x8xf32>
}

// CHECK-LABEL: func.func @plain
func.func @plain(%k: tensor<2x5x16xbf16>, %pos: tensor<2x5xi32>) -> tensor<2x5x16xbf16> {
  // CHECK: fathom.rope %{{.*}}, %{{.*}} <theta = 5.000000e+05, dim = 16, interleaved = false, scaling = none
  %0 = fathom.rope %k, %pos <theta = 500000.0, dim = 16, interleaved = false, scaling = none, factor = 1.0, original_max_positions = 0, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0> : tensor<2x5x16xbf16>, tensor<2x5xi32>
  return %0 : tensor<2x5x16xbf16>
}
