// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @rank1(%a: tensor<32xf32>, %b: tensor<32xf32>) -> tensor<1xf32> {
  // expected-error @below {{multiplies tensors of the same rank >= 2}}
  %0 = fathom.weight_matmul %a, %b : tensor<32xf32>, tensor<32xf32> -> tensor<1xf32>
  return %0 : tensor<1xf32>
}

// -----

func.func @mixed_rank(%a: tensor<4x16x32xf32>, %b: tensor<32x24xf32>) -> tensor<4x16x24xf32> {
  // expected-error @below {{multiplies tensors of the same rank >= 2}}
  %0 = fathom.weight_matmul %a, %b : tensor<4x16x32xf32>, tensor<32x24xf32> -> tensor<4x16x24xf32>
  return %0 : tensor<4x16x24xf32>
}

// -----

func.func @batch(%a: tensor<4x16x32xf32>, %b: tensor<2x32x24xf32>) -> tensor<4x16x24xf32> {
  // expected-error @below {{batch dimension 0 differs}}
  %0 = fathom.weight_matmul %a, %b : tensor<4x16x32xf32>, tensor<2x32x24xf32> -> tensor<4x16x24xf32>
  return %0 : tensor<4x16x24xf32>
}

// -----

func.func @result_batch(%a: tensor<4x16x32xf32>, %b: tensor<4x32x24xf32>) -> tensor<2x16x24xf32> {
  // expected-error @below {{batch dimension 0 differs}}
  %0 = fathom.weight_matmul %a, %b : tensor<4x16x32xf32>, tensor<4x32x24xf32> -> tensor<2x16x24xf32>
  return %0 : tensor<2x16x24xf32>
}

// -----

func.func @inner(%a: tensor<64x32xf32>, %b: tensor<16x32xf32>) -> tensor<64x32xf32> {
  // expected-error @below {{shapes 'tensor<64x32xf32>' @ 'tensor<16x32xf32>' -> 'tensor<64x32xf32>' do not chain}}
  %0 = fathom.weight_matmul %a, %b : tensor<64x32xf32>, tensor<16x32xf32> -> tensor<64x32xf32>
  return %0 : tensor<64x32xf32>
}

// -----

func.func @result(%a: tensor<64x32xf32>, %b: tensor<32x16xf32>) -> tensor<64x32xf32> {
  // expected-error @below {{shapes 'tensor<64x32xf32>' @ 'tensor<32x16xf32>' -> 'tensor<64x32xf32>' do not chain}}
  %0 = fathom.weight_matmul %a, %b : tensor<64x32xf32>, tensor<32x16xf32> -> tensor<64x32xf32>
  return %0 : tensor<64x32xf32>
}
