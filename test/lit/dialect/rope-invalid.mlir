// RUN: fathom-opt %s -split-input-file -verify-diagnostics

// The tables' width is dim / 2 of the rotated dimension.
fathom.param @cos : tensor<16x8xf32>
fathom.param @sin : tensor<16x8xf32>
func.func @dim_mismatch(%q: tensor<2x3x4x8xf32>, %pos: tensor<2x3xi64>) -> tensor<2x3x4x8xf32> {
  // expected-error @below {{cos @cos must be [positions, 4] of 'f32', got 'tensor<16x8xf32>'}}
  %0 = fathom.rope %q, %pos, @cos, @sin <rotate_half> : tensor<2x3x4x8xf32>, tensor<2x3xi64>
  return %0 : tensor<2x3x4x8xf32>
}

// -----

fathom.param @cos : tensor<16x4xf32>
fathom.param @sin : tensor<16x4xf32>
func.func @positions_shape(%q: tensor<2x3x4x8xf32>, %pos: tensor<2x5xi64>) -> tensor<2x3x4x8xf32> {
  // expected-error @below {{positions dimension 1 is 5 but the input's is 3}}
  %0 = fathom.rope %q, %pos, @cos, @sin <rotate_half> : tensor<2x3x4x8xf32>, tensor<2x5xi64>
  return %0 : tensor<2x3x4x8xf32>
}

// -----

fathom.param @cos : tensor<16x4xf32>
fathom.param @sin : tensor<16x4xf32>
func.func @positions_rank(%q: tensor<2x3x4x8xf32>, %pos: tensor<6xi64>) -> tensor<2x3x4x8xf32> {
  // expected-error @below {{positions must be [batch, seq]}}
  %0 = fathom.rope %q, %pos, @cos, @sin <rotate_half> : tensor<2x3x4x8xf32>, tensor<6xi64>
  return %0 : tensor<2x3x4x8xf32>
}

// -----

fathom.param @cos : tensor<16x4xf32>
fathom.param @sin : tensor<16x4xf32>
func.func @input_rank(%q: tensor<8xf32>, %pos: tensor<2x5xi64>) -> tensor<8xf32> {
  // expected-error @below {{input must be [batch, seq, dim] or [batch, seq, heads, dim], got rank 1}}
  %0 = fathom.rope %q, %pos, @cos, @sin <rotate_half> : tensor<8xf32>, tensor<2x5xi64>
  return %0 : tensor<8xf32>
}

// -----

fathom.param @cos : tensor<16x4xf32>
fathom.param @sin : tensor<16x4xf32>
func.func @odd_dim(%q: tensor<2x3x7xf32>, %pos: tensor<2x3xi64>) -> tensor<2x3x7xf32> {
  // expected-error @below {{the rotated dimension must be even, got 7}}
  %0 = fathom.rope %q, %pos, @cos, @sin <rotate_half> : tensor<2x3x7xf32>, tensor<2x3xi64>
  return %0 : tensor<2x3x7xf32>
}

// -----

fathom.param @cos : tensor<16x4xf32>
fathom.param @sin : tensor<16x4xf32>
func.func @dynamic_dim(%q: tensor<2x3x?xf32>, %pos: tensor<2x3xi64>) -> tensor<2x3x?xf32> {
  // expected-error @below {{the rotated (last) dimension must be static}}
  %0 = fathom.rope %q, %pos, @cos, @sin <rotate_half> : tensor<2x3x?xf32>, tensor<2x3xi64>
  return %0 : tensor<2x3x?xf32>
}

// -----

fathom.param @cos : tensor<16x4xf32>
func.func @missing_table(%q: tensor<2x3x8xf32>, %pos: tensor<2x3xi64>) -> tensor<2x3x8xf32> {
  // expected-error @below {{sin @sin does not name a fathom.param}}
  %0 = fathom.rope %q, %pos, @cos, @sin <rotate_half> : tensor<2x3x8xf32>, tensor<2x3xi64>
  return %0 : tensor<2x3x8xf32>
}

// -----

// rotate_half rounds in the activation dtype, so its tables are bf16 for a bf16 input.
fathom.param @cos : tensor<16x4xbf16>
fathom.param @sin : tensor<16x4xf32>
func.func @table_dtype(%q: tensor<2x3x8xbf16>, %pos: tensor<2x3xi64>) -> tensor<2x3x8xbf16> {
  // expected-error @below {{sin @sin must be [positions, 4] of 'bf16', got 'tensor<16x4xf32>'}}
  %0 = fathom.rope %q, %pos, @cos, @sin <rotate_half> : tensor<2x3x8xbf16>, tensor<2x3xi64>
  return %0 : tensor<2x3x8xbf16>
}

// -----

// The complex modes compute in fp32 and need f32 tables.
fathom.param @cos : tensor<16x4xbf16>
fathom.param @sin : tensor<16x4xbf16>
func.func @complex_table_dtype(%q: tensor<2x3x8xbf16>, %pos: tensor<2x3xi64>) -> tensor<2x3x8xbf16> {
  // expected-error @below {{cos @cos must be [positions, 4] of 'f32', got 'tensor<16x4xbf16>'}}
  %0 = fathom.rope %q, %pos, @cos, @sin <complex> : tensor<2x3x8xbf16>, tensor<2x3xi64>
  return %0 : tensor<2x3x8xbf16>
}

// -----

fathom.param @cos : tensor<64xf32>
fathom.param @sin : tensor<16x4xf32>
func.func @table_rank(%q: tensor<2x3x8xf32>, %pos: tensor<2x3xi64>) -> tensor<2x3x8xf32> {
  // expected-error @below {{cos @cos must be [positions, 4] of 'f32', got 'tensor<64xf32>'}}
  %0 = fathom.rope %q, %pos, @cos, @sin <interleaved> : tensor<2x3x8xf32>, tensor<2x3xi64>
  return %0 : tensor<2x3x8xf32>
}

// -----

fathom.param @cos : tensor<16x4xf32>
fathom.param @sin : tensor<16x4xf32>
func.func @bad_mode(%q: tensor<2x3x8xf32>, %pos: tensor<2x3xi64>) -> tensor<2x3x8xf32> {
  // expected-error @below {{expected ::mlir::fathom::RopeMode to be one of: rotate_half, interleaved, complex, complex_halves}}
  // expected-error @below {{failed to parse Fathom_RopeModeAttr parameter 'value' which is to be a `::mlir::fathom::RopeMode`}}
  %0 = fathom.rope %q, %pos, @cos, @sin <rotate_quarter> : tensor<2x3x8xf32>, tensor<2x3xi64>
  return %0 : tensor<2x3x8xf32>
}

// -----

fathom.param @cos : tensor<16x4xf32>
fathom.param @sin : tensor<16x4xf32>
func.func @input_rank0(%q: tensor<f32>, %pos: tensor<2x5xi64>) -> tensor<f32> {
  // expected-error @below {{input must be [batch, seq, dim] or [batch, seq, heads, dim], got rank 0}}
  %0 = fathom.rope %q, %pos, @cos, @sin <rotate_half> : tensor<f32>, tensor<2x5xi64>
  return %0 : tensor<f32>
}

// -----

fathom.param @cos : tensor<16x4xf32>
fathom.param @sin : tensor<16x4xf32>
func.func @float_positions(%q: tensor<2x3x8xf32>, %pos: tensor<2x3xf32>) -> tensor<2x3x8xf32> {
  // expected-error @below {{'fathom.rope' op operand #1 must be ranked tensor of signless integer values, but got 'tensor<2x3xf32>'}}
  %0 = fathom.rope %q, %pos, @cos, @sin <rotate_half> : tensor<2x3x8xf32>, tensor<2x3xf32>
  return %0 : tensor<2x3x8xf32>
}

// -----

fathom.param @cos : tensor<16x4xf32>
fathom.param @sin : tensor<16x4xf32>
func.func @unranked_positions(%q: tensor<2x3x8xf32>, %pos: tensor<*xi64>) -> tensor<2x3x8xf32> {
  // expected-error @below {{custom op 'fathom.rope' invalid kind of type specified: expected builtin.tensor, but found 'tensor<*xi64>'}}
  %0 = fathom.rope %q, %pos, @cos, @sin <rotate_half> : tensor<2x3x8xf32>, tensor<*xi64>
  return %0 : tensor<2x3x8xf32>
}
