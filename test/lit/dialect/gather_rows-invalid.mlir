// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @result_rank(%x: tensor<2x3x64xf32>, %rows: tensor<12xi32>) -> tensor<12x1x64xf32> {
  // expected-error @below {{gathers rows of 'tensor<2x3x64xf32>' into [rows, width], got 'tensor<12x1x64xf32>'}}
  %0 = fathom.gather_rows %x, %rows : tensor<2x3x64xf32>, tensor<12xi32> -> tensor<12x1x64xf32>
  return %0 : tensor<12x1x64xf32>
}

// -----

func.func @width(%x: tensor<2x3x64xf32>, %rows: tensor<12xi32>) -> tensor<12x32xf32> {
  // expected-error @below {{gathers rows of 'tensor<2x3x64xf32>' into [rows, width], got 'tensor<12x32xf32>'}}
  %0 = fathom.gather_rows %x, %rows : tensor<2x3x64xf32>, tensor<12xi32> -> tensor<12x32xf32>
  return %0 : tensor<12x32xf32>
}

// -----

func.func @dtype(%x: tensor<2x3x64xf32>, %rows: tensor<12xi32>) -> tensor<12x64xbf16> {
  // expected-error @below {{gathers rows of 'tensor<2x3x64xf32>' into [rows, width], got 'tensor<12x64xbf16>'}}
  %0 = fathom.gather_rows %x, %rows : tensor<2x3x64xf32>, tensor<12xi32> -> tensor<12x64xbf16>
  return %0 : tensor<12x64xbf16>
}

// -----

func.func @rows_rank(%x: tensor<2x3x64xf32>, %rows: tensor<6x2xi32>) -> tensor<12x64xf32> {
  // expected-error @below {{rows must be one-dimensional, got 'tensor<6x2xi32>'}}
  %0 = fathom.gather_rows %x, %rows : tensor<2x3x64xf32>, tensor<6x2xi32> -> tensor<12x64xf32>
  return %0 : tensor<12x64xf32>
}

// -----

func.func @rows_dtype(%x: tensor<2x3x64xf32>, %rows: tensor<12xi64>) -> tensor<12x64xf32> {
  // expected-error @below {{'fathom.gather_rows' op operand #1 must be ranked tensor of 32-bit signless integer values, but got 'tensor<12xi64>'}}
  %0 = fathom.gather_rows %x, %rows : tensor<2x3x64xf32>, tensor<12xi64> -> tensor<12x64xf32>
  return %0 : tensor<12x64xf32>
}

// -----

func.func @unranked_rows(%x: tensor<2x3x64xf32>, %rows: tensor<*xi32>) -> tensor<12x64xf32> {
  // expected-error @below {{custom op 'fathom.gather_rows' invalid kind of type specified: expected builtin.tensor, but found 'tensor<*xi32>'}}
  %0 = fathom.gather_rows %x, %rows : tensor<2x3x64xf32>, tensor<*xi32> -> tensor<12x64xf32>
  return %0 : tensor<12x64xf32>
}
