// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @past_end(%x: tensor<2x5x40xf32>) -> tensor<2x5x16xf32> {
  // expected-error @below {{window of 16 at 32 lies outside the last dimension of size 40}}
  %0 = fathom.slice %x[32, 16] : tensor<2x5x40xf32> -> tensor<2x5x16xf32>
  return %0 : tensor<2x5x16xf32>
}

// -----

func.func @negative_offset(%x: tensor<2x5x40xf32>) -> tensor<2x5x8xf32> {
  // expected-error @below {{window of 8 at -1 lies outside the last dimension of size 40}}
  %0 = fathom.slice %x[-1, 8] : tensor<2x5x40xf32> -> tensor<2x5x8xf32>
  return %0 : tensor<2x5x8xf32>
}

// -----

func.func @empty(%x: tensor<2x5x40xf32>) -> tensor<2x5x0xf32> {
  // expected-error @below {{window of 0 at 4 lies outside the last dimension of size 40}}
  %0 = fathom.slice %x[4, 0] : tensor<2x5x40xf32> -> tensor<2x5x0xf32>
  return %0 : tensor<2x5x0xf32>
}

// -----

func.func @dynamic_width(%x: tensor<2x5x?xf32>) -> tensor<2x5x8xf32> {
  // expected-error @below {{the sliced (last) dimension must be static}}
  %0 = fathom.slice %x[0, 8] : tensor<2x5x?xf32> -> tensor<2x5x8xf32>
  return %0 : tensor<2x5x8xf32>
}

// -----

func.func @result_width(%x: tensor<2x5x40xf32>) -> tensor<2x5x16xf32> {
  // expected-error @below {{result must be the input with last dimension 8, got 'tensor<2x5x16xf32>'}}
  %0 = fathom.slice %x[0, 8] : tensor<2x5x40xf32> -> tensor<2x5x16xf32>
  return %0 : tensor<2x5x16xf32>
}

// -----

func.func @result_dtype(%x: tensor<2x5x40xf32>) -> tensor<2x5x8xbf16> {
  // expected-error @below {{result must be the input with last dimension 8, got 'tensor<2x5x8xbf16>'}}
  %0 = fathom.slice %x[0, 8] : tensor<2x5x40xf32> -> tensor<2x5x8xbf16>
  return %0 : tensor<2x5x8xbf16>
}

// -----

func.func @result_rank(%x: tensor<2x5x40xf32>) -> tensor<10x8xf32> {
  // expected-error @below {{slices the last dimension of a tensor of rank >= 1 into one of the same rank, got 'tensor<2x5x40xf32>' -> 'tensor<10x8xf32>'}}
  %0 = fathom.slice %x[0, 8] : tensor<2x5x40xf32> -> tensor<10x8xf32>
  return %0 : tensor<10x8xf32>
}

// -----

func.func @leading_dims(%x: tensor<2x5x40xf32>) -> tensor<2x6x8xf32> {
  // expected-error @below {{result dimension 1 is 6 but the input's is 5}}
  %0 = fathom.slice %x[0, 8] : tensor<2x5x40xf32> -> tensor<2x6x8xf32>
  return %0 : tensor<2x6x8xf32>
}

// -----

func.func @rank0(%x: tensor<f32>) -> tensor<f32> {
  // expected-error @below {{slices the last dimension of a tensor of rank >= 1 into one of the same rank, got 'tensor<f32>' -> 'tensor<f32>'}}
  %0 = fathom.slice %x[0, 1] : tensor<f32> -> tensor<f32>
  return %0 : tensor<f32>
}
