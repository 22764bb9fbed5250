// RUN: fathom-opt %s -split-input-file -verify-diagnostics

fathom.cache @c : tensor<40xbf16>
func.func @no_pieces(%s: tensor<?xi64>) -> tensor<?x?x40xbf16> {
  // expected-error @below {{needs at least one piece}}
  %0 = fathom.cache_append @c() start(%s) : (tensor<?xi64>) -> tensor<?x?x40xbf16>
  return %0 : tensor<?x?x40xbf16>
}

// -----

fathom.cache @c : tensor<40xbf16>
func.func @no_pieces_generic(%s: tensor<?xi64>) -> tensor<?x?x40xbf16> {
  // expected-error @below {{needs at least one piece}}
  %0 = "fathom.cache_append"(%s) <{cache = @c, operandSegmentSizes = array<i32: 0, 1, 0>}> : (tensor<?xi64>) -> tensor<?x?x40xbf16>
  return %0 : tensor<?x?x40xbf16>
}

// -----

fathom.cache @c : tensor<40xbf16>
func.func @result_rank(%a: tensor<?x?x32xbf16>, %b: tensor<?x?x8xbf16>, %s: tensor<?xi64>) -> tensor<?x40xbf16> {
  // expected-error @below {{yields the cache as [batch, keys, row]}}
  %0 = fathom.cache_append @c(%a, %b) start(%s) : (tensor<?x?x32xbf16>, tensor<?x?x8xbf16>, tensor<?xi64>) -> tensor<?x40xbf16>
  return %0 : tensor<?x40xbf16>
}

// -----

fathom.cache @c : tensor<40xbf16>
func.func @piece_dtype(%a: tensor<?x?x32xbf16>, %b: tensor<?x?x8xf32>, %s: tensor<?xi64>) -> tensor<?x?x40xbf16> {
  // expected-error @below {{piece 'tensor<?x?x8xf32>' must be [batch, seq, width] of 'bf16'}}
  %0 = fathom.cache_append @c(%a, %b) start(%s) : (tensor<?x?x32xbf16>, tensor<?x?x8xf32>, tensor<?xi64>) -> tensor<?x?x40xbf16>
  return %0 : tensor<?x?x40xbf16>
}

// -----

fathom.cache @c : tensor<40xbf16>
func.func @piece_rank(%a: tensor<?x?x32xbf16>, %b: tensor<?x?x1x8xbf16>, %s: tensor<?xi64>) -> tensor<?x?x40xbf16> {
  // expected-error @below {{piece 'tensor<?x?x1x8xbf16>' must be [batch, seq, width] of 'bf16'}}
  %0 = fathom.cache_append @c(%a, %b) start(%s) : (tensor<?x?x32xbf16>, tensor<?x?x1x8xbf16>, tensor<?xi64>) -> tensor<?x?x40xbf16>
  return %0 : tensor<?x?x40xbf16>
}

// -----

fathom.cache @c : tensor<40xbf16>
func.func @piece_batch(%a: tensor<2x1x32xbf16>, %b: tensor<2x1x8xbf16>, %s: tensor<2xi64>) -> tensor<3x9x40xbf16> {
  // expected-error @below {{piece 'tensor<2x1x32xbf16>' must be [batch, seq, width] of 'bf16'}}
  %0 = fathom.cache_append @c(%a, %b) start(%s) : (tensor<2x1x32xbf16>, tensor<2x1x8xbf16>, tensor<2xi64>) -> tensor<3x9x40xbf16>
  return %0 : tensor<3x9x40xbf16>
}

// -----

fathom.cache @c : tensor<40xbf16>
func.func @start_rank(%a: tensor<?x?x32xbf16>, %b: tensor<?x?x8xbf16>, %s: tensor<?x1xi64>) -> tensor<?x?x40xbf16> {
  // expected-error @below {{cache_start must be one-dimensional, got 'tensor<?x1xi64>'}}
  %0 = fathom.cache_append @c(%a, %b) start(%s) : (tensor<?x?x32xbf16>, tensor<?x?x8xbf16>, tensor<?x1xi64>) -> tensor<?x?x40xbf16>
  return %0 : tensor<?x?x40xbf16>
}

// -----

fathom.cache @c : tensor<40xbf16>
fathom.param @cos : tensor<16x4xbf16>
fathom.param @sin : tensor<16x4xbf16>
func.func @rope_piece_range(%a: tensor<?x?x32xbf16>, %b: tensor<?x?x8xbf16>, %s: tensor<?xi64>, %p: tensor<?x?xi64>) -> tensor<?x?x40xbf16> {
  // expected-error @below {{rope_piece 2 is not one of the 2 pieces}}
  %0 = fathom.cache_append @c(%a, %b) start(%s) rope(%p) {rope_piece = 2 : i64, rope_cos = @cos, rope_sin = @sin, rope_mode = #fathom.rope_mode<rotate_half>} : (tensor<?x?x32xbf16>, tensor<?x?x8xbf16>, tensor<?xi64>, tensor<?x?xi64>) -> tensor<?x?x40xbf16>
  return %0 : tensor<?x?x40xbf16>
}

// -----

fathom.cache @c : tensor<40xbf16>
fathom.param @cos : tensor<16x4xbf16>
fathom.param @sin : tensor<16x4xbf16>
func.func @rope_without_piece(%a: tensor<?x?x32xbf16>, %b: tensor<?x?x8xbf16>, %s: tensor<?xi64>, %p: tensor<?x?xi64>) -> tensor<?x?x40xbf16> {
  // expected-error @below {{a fused rope needs rope positions, rope_piece, rope_cos, rope_sin and rope_mode}}
  %0 = fathom.cache_append @c(%a, %b) start(%s) rope(%p) {rope_cos = @cos, rope_sin = @sin, rope_mode = #fathom.rope_mode<rotate_half>} : (tensor<?x?x32xbf16>, tensor<?x?x8xbf16>, tensor<?xi64>, tensor<?x?xi64>) -> tensor<?x?x40xbf16>
  return %0 : tensor<?x?x40xbf16>
}

// -----

fathom.param @c : tensor<40xbf16>
func.func @not_a_cache(%a: tensor<?x?x32xbf16>, %b: tensor<?x?x8xbf16>, %s: tensor<?xi64>) -> tensor<?x?x40xbf16> {
  // expected-error @below {{@c does not name a fathom.cache}}
  %0 = fathom.cache_append @c(%a, %b) start(%s) : (tensor<?x?x32xbf16>, tensor<?x?x8xbf16>, tensor<?xi64>) -> tensor<?x?x40xbf16>
  return %0 : tensor<?x?x40xbf16>
}

// -----

fathom.cache @c : tensor<40xbf16>
func.func @width(%a: tensor<?x?x32xbf16>, %b: tensor<?x?x4xbf16>, %s: tensor<?xi64>) -> tensor<?x?x40xbf16> {
  // expected-error @below {{pieces of total width 36 and result 'tensor<?x?x40xbf16>' must fill cache @c rows of 'tensor<40xbf16>'}}
  %0 = fathom.cache_append @c(%a, %b) start(%s) : (tensor<?x?x32xbf16>, tensor<?x?x4xbf16>, tensor<?xi64>) -> tensor<?x?x40xbf16>
  return %0 : tensor<?x?x40xbf16>
}

// -----

fathom.cache @c : tensor<40xf32>
func.func @row_dtype(%a: tensor<?x?x32xbf16>, %b: tensor<?x?x8xbf16>, %s: tensor<?xi64>) -> tensor<?x?x40xbf16> {
  // expected-error @below {{pieces of total width 40 and result 'tensor<?x?x40xbf16>' must fill cache @c rows of 'tensor<40xf32>'}}
  %0 = fathom.cache_append @c(%a, %b) start(%s) : (tensor<?x?x32xbf16>, tensor<?x?x8xbf16>, tensor<?xi64>) -> tensor<?x?x40xbf16>
  return %0 : tensor<?x?x40xbf16>
}

// -----

fathom.cache @c : tensor<40xbf16>
fathom.param @cos : tensor<16x4xbf16>
fathom.param @sin : tensor<16x4xbf16>
func.func @rope_incomplete(%a: tensor<?x?x32xbf16>, %b: tensor<?x?x8xbf16>, %s: tensor<?xi64>, %p: tensor<?x?xi64>) -> tensor<?x?x40xbf16> {
  // expected-error @below {{a fused rope needs rope positions, rope_piece, rope_cos, rope_sin and rope_mode}}
  %0 = fathom.cache_append @c(%a, %b) start(%s) rope(%p) {rope_piece = 1 : i64, rope_cos = @cos, rope_sin = @sin} : (tensor<?x?x32xbf16>, tensor<?x?x8xbf16>, tensor<?xi64>, tensor<?x?xi64>) -> tensor<?x?x40xbf16>
  return %0 : tensor<?x?x40xbf16>
}

// -----

// The tables are sized for the rotated piece (width 8), not the row.
fathom.cache @c : tensor<40xbf16>
fathom.param @cos : tensor<16x20xbf16>
fathom.param @sin : tensor<16x20xbf16>
func.func @rope_table(%a: tensor<?x?x32xbf16>, %b: tensor<?x?x8xbf16>, %s: tensor<?xi64>, %p: tensor<?x?xi64>) -> tensor<?x?x40xbf16> {
  // expected-error @below {{rope_cos @cos must be [positions, 4] of 'bf16', got 'tensor<16x20xbf16>'}}
  %0 = fathom.cache_append @c(%a, %b) start(%s) rope(%p) {rope_piece = 1 : i64, rope_cos = @cos, rope_sin = @sin, rope_mode = #fathom.rope_mode<rotate_half>} : (tensor<?x?x32xbf16>, tensor<?x?x8xbf16>, tensor<?xi64>, tensor<?x?xi64>) -> tensor<?x?x40xbf16>
  return %0 : tensor<?x?x40xbf16>
}

// -----

fathom.cache @c : tensor<40xbf16>
fathom.param @cos : tensor<16x4xbf16>
fathom.param @sin : tensor<16x4xbf16>
func.func @rope_piece_alone(%a: tensor<?x?x32xbf16>, %b: tensor<?x?x8xbf16>, %s: tensor<?xi64>) -> tensor<?x?x40xbf16> {
  // expected-error @below {{a fused rope needs rope positions, rope_piece, rope_cos, rope_sin and rope_mode}}
  %0 = fathom.cache_append @c(%a, %b) start(%s) {rope_piece = 1 : i64} : (tensor<?x?x32xbf16>, tensor<?x?x8xbf16>, tensor<?xi64>) -> tensor<?x?x40xbf16>
  return %0 : tensor<?x?x40xbf16>
}

// -----

fathom.cache @c : tensor<40xbf16>
fathom.param @cos : tensor<16x4xbf16>
fathom.param @sin : tensor<16x4xbf16>
func.func @rope_positions_alone(%a: tensor<?x?x32xbf16>, %b: tensor<?x?x8xbf16>, %s: tensor<?xi64>, %p: tensor<?x?xi64>) -> tensor<?x?x40xbf16> {
  // expected-error @below {{a fused rope needs rope positions, rope_piece, rope_cos, rope_sin and rope_mode}}
  %0 = fathom.cache_append @c(%a, %b) start(%s) rope(%p) : (tensor<?x?x32xbf16>, tensor<?x?x8xbf16>, tensor<?xi64>, tensor<?x?xi64>) -> tensor<?x?x40xbf16>
  return %0 : tensor<?x?x40xbf16>
}

// -----

fathom.cache @c : tensor<40xbf16>
fathom.param @cos : tensor<16x4xbf16>
fathom.param @sin : tensor<16x4xbf16>
func.func @rope_tables_without_positions(%a: tensor<?x?x32xbf16>, %b: tensor<?x?x8xbf16>, %s: tensor<?xi64>) -> tensor<?x?x40xbf16> {
  // expected-error @below {{a fused rope needs rope positions, rope_piece, rope_cos, rope_sin and rope_mode}}
  %0 = fathom.cache_append @c(%a, %b) start(%s) {rope_piece = 1 : i64, rope_cos = @cos, rope_sin = @sin, rope_mode = #fathom.rope_mode<rotate_half>} : (tensor<?x?x32xbf16>, tensor<?x?x8xbf16>, tensor<?xi64>) -> tensor<?x?x40xbf16>
  return %0 : tensor<?x?x40xbf16>
}

// -----

fathom.cache @c : tensor<40xbf16>
fathom.param @cos : tensor<16x4xbf16>
fathom.param @sin : tensor<16x4xbf16>
func.func @rope_mode_alone(%a: tensor<?x?x32xbf16>, %b: tensor<?x?x8xbf16>, %s: tensor<?xi64>) -> tensor<?x?x40xbf16> {
  // expected-error @below {{a fused rope needs rope positions, rope_piece, rope_cos, rope_sin and rope_mode}}
  %0 = fathom.cache_append @c(%a, %b) start(%s) {rope_mode = #fathom.rope_mode<rotate_half>} : (tensor<?x?x32xbf16>, tensor<?x?x8xbf16>, tensor<?xi64>) -> tensor<?x?x40xbf16>
  return %0 : tensor<?x?x40xbf16>
}

// -----

fathom.cache @c : tensor<40xbf16>
fathom.param @cos : tensor<16x4xbf16>
fathom.param @sin : tensor<16x4xbf16>
func.func @rope_without_sin(%a: tensor<?x?x32xbf16>, %b: tensor<?x?x8xbf16>, %s: tensor<?xi64>, %p: tensor<?x?xi64>) -> tensor<?x?x40xbf16> {
  // expected-error @below {{a fused rope needs rope positions, rope_piece, rope_cos, rope_sin and rope_mode}}
  %0 = fathom.cache_append @c(%a, %b) start(%s) rope(%p) {rope_piece = 1 : i64, rope_cos = @cos, rope_mode = #fathom.rope_mode<rotate_half>} : (tensor<?x?x32xbf16>, tensor<?x?x8xbf16>, tensor<?xi64>, tensor<?x?xi64>) -> tensor<?x?x40xbf16>
  return %0 : tensor<?x?x40xbf16>
}

// -----

fathom.cache @c : tensor<40xbf16>
fathom.param @cos : tensor<16x4xbf16>
fathom.param @sin : tensor<16x4xbf16>
func.func @rope_piece_negative(%a: tensor<?x?x32xbf16>, %b: tensor<?x?x8xbf16>, %s: tensor<?xi64>, %p: tensor<?x?xi64>) -> tensor<?x?x40xbf16> {
  // expected-error @below {{rope_piece -1 is not one of the 2 pieces}}
  %0 = fathom.cache_append @c(%a, %b) start(%s) rope(%p) {rope_piece = -1 : i64, rope_cos = @cos, rope_sin = @sin, rope_mode = #fathom.rope_mode<rotate_half>} : (tensor<?x?x32xbf16>, tensor<?x?x8xbf16>, tensor<?xi64>, tensor<?x?xi64>) -> tensor<?x?x40xbf16>
  return %0 : tensor<?x?x40xbf16>
}

// -----

fathom.cache @c : tensor<40xbf16>
func.func @unranked_start(%a: tensor<?x?x32xbf16>, %b: tensor<?x?x8xbf16>, %s: tensor<*xi64>) -> tensor<?x?x40xbf16> {
  // expected-error @below {{operand #2 must be ranked tensor of signless integer values}}
  %0 = fathom.cache_append @c(%a, %b) start(%s) : (tensor<?x?x32xbf16>, tensor<?x?x8xbf16>, tensor<*xi64>) -> tensor<?x?x40xbf16>
  return %0 : tensor<?x?x40xbf16>
}

// -----

fathom.cache @c : tensor<40xbf16>
func.func @float_start(%a: tensor<?x?x32xbf16>, %b: tensor<?x?x8xbf16>, %s: tensor<?xf32>) -> tensor<?x?x40xbf16> {
  // expected-error @below {{operand #2 must be ranked tensor of signless integer values}}
  %0 = fathom.cache_append @c(%a, %b) start(%s) : (tensor<?x?x32xbf16>, tensor<?x?x8xbf16>, tensor<?xf32>) -> tensor<?x?x40xbf16>
  return %0 : tensor<?x?x40xbf16>
}
