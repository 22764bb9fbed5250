// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @head_dims(%q: tensor<1x3x4x24xf32>, %qr: tensor<1x3x4x8xf32>, %k: tensor<1x5x4x16xf32>, %kr: tensor<1x5x1x8xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{query and key head dims differ: 24 vs 16}}
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%m) scale 0.2 : (tensor<1x3x4x24xf32>, tensor<1x3x4x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5x1x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @heads(%q: tensor<1x3x6x16xf32>, %qr: tensor<1x3x6x8xf32>, %k: tensor<1x5x4x16xf32>, %kr: tensor<1x5x1x8xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>) -> tensor<1x3x6x16xf32> {
  // expected-error @below {{query heads must be a multiple of the key heads: 6 vs 4}}
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%m) scale 0.2 : (tensor<1x3x6x16xf32>, tensor<1x3x6x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5x1x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>) -> tensor<1x3x6x16xf32>
  return %0 : tensor<1x3x6x16xf32>
}

// -----

func.func @value_heads(%q: tensor<1x3x4x16xf32>, %qr: tensor<1x3x4x8xf32>, %k: tensor<1x5x4x16xf32>, %kr: tensor<1x5x1x8xf32>, %v: tensor<1x5x3x16xf32>, %m: tensor<1x5xi1>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{query heads must be a multiple of the value heads: 4 vs 3}}
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%m) scale 0.2 : (tensor<1x3x4x16xf32>, tensor<1x3x4x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5x1x8xf32>, tensor<1x5x3x16xf32>, tensor<1x5xi1>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @key_rope_heads(%q: tensor<1x3x4x16xf32>, %qr: tensor<1x3x4x8xf32>, %k: tensor<1x5x4x16xf32>, %kr: tensor<1x5x3x8xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{query heads must be a multiple of the key_rope heads: 4 vs 3}}
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%m) scale 0.2 : (tensor<1x3x4x16xf32>, tensor<1x3x4x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5x3x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @dynamic_heads(%q: tensor<1x3x?x16xf32>, %qr: tensor<1x3x?x8xf32>, %k: tensor<1x5x4x16xf32>, %kr: tensor<1x5x1x8xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>) -> tensor<1x3x?x16xf32> {
  // expected-error @below {{the head count must be static}}
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%m) scale 0.2 : (tensor<1x3x?x16xf32>, tensor<1x3x?x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5x1x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>) -> tensor<1x3x?x16xf32>
  return %0 : tensor<1x3x?x16xf32>
}

// -----

func.func @kv_len(%q: tensor<1x3x4x16xf32>, %qr: tensor<1x3x4x8xf32>, %k: tensor<1x5x4x16xf32>, %kr: tensor<1x5x1x8xf32>, %v: tensor<1x6x4x16xf32>, %m: tensor<1x5xi1>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{key and value lengths differ: 5 vs 6}}
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%m) scale 0.2 : (tensor<1x3x4x16xf32>, tensor<1x3x4x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5x1x8xf32>, tensor<1x6x4x16xf32>, tensor<1x5xi1>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @result(%q: tensor<1x3x4x16xf32>, %qr: tensor<1x3x4x8xf32>, %k: tensor<1x5x4x16xf32>, %kr: tensor<1x5x1x8xf32>, %v: tensor<1x5x4x8xf32>, %m: tensor<1x5xi1>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{result must be [batch, query len, heads, value dim], got 'tensor<1x3x4x16xf32>'}}
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%m) scale 0.2 : (tensor<1x3x4x16xf32>, tensor<1x3x4x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5x1x8xf32>, tensor<1x5x4x8xf32>, tensor<1x5xi1>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @mask(%q: tensor<1x3x4x16xf32>, %qr: tensor<1x3x4x8xf32>, %k: tensor<1x5x4x16xf32>, %kr: tensor<1x5x1x8xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x3xi1>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{key_mask must be [batch, key len], got 'tensor<1x3xi1>'}}
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%m) scale 0.2 : (tensor<1x3x4x16xf32>, tensor<1x3x4x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5x1x8xf32>, tensor<1x5x4x16xf32>, tensor<1x3xi1>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @batch(%q: tensor<2x3x4x16xf32>, %qr: tensor<2x3x4x8xf32>, %k: tensor<1x5x4x16xf32>, %kr: tensor<1x5x1x8xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>) -> tensor<2x3x4x16xf32> {
  // expected-error @below {{batch sizes differ: 2 vs 1}}
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%m) scale 0.2 : (tensor<2x3x4x16xf32>, tensor<2x3x4x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5x1x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>) -> tensor<2x3x4x16xf32>
  return %0 : tensor<2x3x4x16xf32>
}

// -----

func.func @scale(%q: tensor<1x3x4x16xf32>, %qr: tensor<1x3x4x8xf32>, %k: tensor<1x5x4x16xf32>, %kr: tensor<1x5x1x8xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{scale must be positive}}
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%m) scale -1.0 : (tensor<1x3x4x16xf32>, tensor<1x3x4x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5x1x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @rank(%q: tensor<3x4x16xf32>, %qr: tensor<1x3x4x8xf32>, %k: tensor<1x5x4x16xf32>, %kr: tensor<1x5x1x8xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{query, key, value and result must be [batch, len, heads, dim]}}
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%m) scale 0.2 : (tensor<3x4x16xf32>, tensor<1x3x4x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5x1x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @rope_dims(%q: tensor<1x3x4x16xf32>, %qr: tensor<1x3x4x8xf32>, %k: tensor<1x5x4x16xf32>, %kr: tensor<1x5x1x4xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{query_rope 'tensor<1x3x4x8xf32>' and key_rope 'tensor<1x5x1x4xf32>' must match the query's and key's lengths and heads}}
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%m) scale 0.2 : (tensor<1x3x4x16xf32>, tensor<1x3x4x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5x1x4xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @rope_len(%q: tensor<1x3x4x16xf32>, %qr: tensor<1x2x4x8xf32>, %k: tensor<1x5x4x16xf32>, %kr: tensor<1x5x1x8xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{query_rope 'tensor<1x2x4x8xf32>' and key_rope 'tensor<1x5x1x8xf32>' must match the query's and key's lengths and heads}}
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%m) scale 0.2 : (tensor<1x3x4x16xf32>, tensor<1x2x4x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5x1x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @query_start(%q: tensor<1x3x4x16xf32>, %qr: tensor<1x3x4x8xf32>, %k: tensor<1x5x4x16xf32>, %kr: tensor<1x5x1x8xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>, %s: tensor<1x1xi64>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{query_start must be one-dimensional, got 'tensor<1x1xi64>'}}
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%m) start(%s) scale 0.2 : (tensor<1x3x4x16xf32>, tensor<1x3x4x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5x1x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>, tensor<1x1xi64>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

fathom.param @cos : tensor<16x4xf32>
fathom.param @sin : tensor<16x4xf32>
func.func @fused_rope_incomplete(%q: tensor<1x3x4x16xf32>, %qr: tensor<1x3x4x8xf32>, %k: tensor<1x5x4x16xf32>, %kr: tensor<1x5x1x8xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>, %s: tensor<1xi64>, %pos: tensor<1x3xi64>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{a fused rope needs rope positions, rope_cos, rope_sin and rope_mode}}
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%m) start(%s) rope(%pos) scale 0.2 {rope_cos = @cos, rope_sin = @sin} : (tensor<1x3x4x16xf32>, tensor<1x3x4x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5x1x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>, tensor<1xi64>, tensor<1x3xi64>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

fathom.param @cos : tensor<16x4xf32>
fathom.param @sin : tensor<16x4xf32>
func.func @rope_table_without_positions(%q: tensor<1x3x4x16xf32>, %qr: tensor<1x3x4x8xf32>, %k: tensor<1x5x4x16xf32>, %kr: tensor<1x5x1x8xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{a fused rope needs rope positions, rope_cos, rope_sin and rope_mode}}
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%m) scale 0.2 {rope_cos = @cos, rope_sin = @sin, rope_mode = #fathom.rope_mode<rotate_half>} : (tensor<1x3x4x16xf32>, tensor<1x3x4x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5x1x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

fathom.param @cos : tensor<16x4xbf16>
fathom.param @sin : tensor<16x4xf32>
func.func @fused_rope_table(%q: tensor<1x3x4x16xf32>, %qr: tensor<1x3x4x8xf32>, %k: tensor<1x5x4x16xf32>, %kr: tensor<1x5x1x8xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>, %s: tensor<1xi64>, %pos: tensor<1x3xi64>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{rope_cos @cos must be [positions, 4] of 'f32', got 'tensor<16x4xbf16>'}}
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%m) start(%s) rope(%pos) scale 0.2 {rope_cos = @cos, rope_sin = @sin, rope_mode = #fathom.rope_mode<rotate_half>} : (tensor<1x3x4x16xf32>, tensor<1x3x4x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5x1x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>, tensor<1xi64>, tensor<1x3xi64>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

fathom.param @cos : tensor<16x4xf32>
fathom.param @sin : tensor<16x4xbf16>
func.func @fused_rope_complex_table(%q: tensor<1x3x4x16xbf16>, %qr: tensor<1x3x4x8xbf16>, %k: tensor<1x5x4x16xbf16>, %kr: tensor<1x5x1x8xbf16>, %v: tensor<1x5x4x16xbf16>, %m: tensor<1x5xi1>, %s: tensor<1xi64>, %pos: tensor<1x3xi64>) -> tensor<1x3x4x16xbf16> {
  // expected-error @below {{rope_sin @sin must be [positions, 4] of 'f32', got 'tensor<16x4xbf16>'}}
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%m) start(%s) rope(%pos) scale 0.2 {rope_cos = @cos, rope_sin = @sin, rope_mode = #fathom.rope_mode<complex>} : (tensor<1x3x4x16xbf16>, tensor<1x3x4x8xbf16>, tensor<1x5x4x16xbf16>, tensor<1x5x1x8xbf16>, tensor<1x5x4x16xbf16>, tensor<1x5xi1>, tensor<1xi64>, tensor<1x3xi64>) -> tensor<1x3x4x16xbf16>
  return %0 : tensor<1x3x4x16xbf16>
}

// -----

fathom.param @cos : tensor<16x4xf32>
func.func @fused_rope_missing_table(%q: tensor<1x3x4x16xf32>, %qr: tensor<1x3x4x8xf32>, %k: tensor<1x5x4x16xf32>, %kr: tensor<1x5x1x8xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>, %s: tensor<1xi64>, %pos: tensor<1x3xi64>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{rope_sin @sin does not name a fathom.param}}
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%m) start(%s) rope(%pos) scale 0.2 {rope_cos = @cos, rope_sin = @sin, rope_mode = #fathom.rope_mode<rotate_half>} : (tensor<1x3x4x16xf32>, tensor<1x3x4x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5x1x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>, tensor<1xi64>, tensor<1x3xi64>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @rope_pair(%q: tensor<1x3x4x16xf32>, %qr: tensor<1x3x4x8xf32>, %k: tensor<1x5x4x16xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{query_rope and key_rope come together}}
  %0 = fathom.attention q(%q, %qr) k(%k) v(%v) mask(%m) scale 0.2 : (tensor<1x3x4x16xf32>, tensor<1x3x4x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

fathom.param @cos : tensor<16x8xf32>
fathom.param @sin : tensor<16x8xf32>
func.func @fused_rope_without_query_rope(%q: tensor<1x3x4x16xf32>, %k: tensor<1x5x4x16xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>, %pos: tensor<1x3xi64>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{a fused rope rotates query_rope, which is absent}}
  %0 = fathom.attention q(%q) k(%k) v(%v) mask(%m) rope(%pos) scale 0.2 {rope_cos = @cos, rope_sin = @sin, rope_mode = #fathom.rope_mode<rotate_half>} : (tensor<1x3x4x16xf32>, tensor<1x5x4x16xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>, tensor<1x3xi64>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @gqa_heads(%q: tensor<1x3x6x16xf32>, %k: tensor<1x5x4x16xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>) -> tensor<1x3x6x16xf32> {
  // expected-error @below {{query heads must be a multiple of the key heads: 6 vs 4}}
  %0 = fathom.attention q(%q) k(%k) v(%v) mask(%m) scale 0.2 : (tensor<1x3x6x16xf32>, tensor<1x5x4x16xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>) -> tensor<1x3x6x16xf32>
  return %0 : tensor<1x3x6x16xf32>
}

// -----

func.func @zero_key_heads(%q: tensor<1x3x4x16xf32>, %k: tensor<1x5x0x16xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{query heads must be a multiple of the key heads: 4 vs 0}}
  %0 = fathom.attention q(%q) k(%k) v(%v) mask(%m) scale 0.2 : (tensor<1x3x4x16xf32>, tensor<1x5x0x16xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @zero_value_heads(%q: tensor<1x3x4x16xf32>, %k: tensor<1x5x4x16xf32>, %v: tensor<1x5x0x16xf32>, %m: tensor<1x5xi1>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{query heads must be a multiple of the value heads: 4 vs 0}}
  %0 = fathom.attention q(%q) k(%k) v(%v) mask(%m) scale 0.2 : (tensor<1x3x4x16xf32>, tensor<1x5x4x16xf32>, tensor<1x5x0x16xf32>, tensor<1x5xi1>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @zero_query_heads(%q: tensor<1x3x0x16xf32>, %k: tensor<1x5x4x16xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>) -> tensor<1x3x0x16xf32> {
  // expected-error @below {{the head count must be static and positive}}
  %0 = fathom.attention q(%q) k(%k) v(%v) mask(%m) scale 0.2 : (tensor<1x3x0x16xf32>, tensor<1x5x4x16xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>) -> tensor<1x3x0x16xf32>
  return %0 : tensor<1x3x0x16xf32>
}

// -----

func.func @zero_key_rope_heads(%q: tensor<1x3x4x16xf32>, %qr: tensor<1x3x4x8xf32>, %k: tensor<1x5x4x16xf32>, %kr: tensor<1x5x0x8xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{query heads must be a multiple of the key_rope heads: 4 vs 0}}
  %0 = fathom.attention q(%q, %qr) k(%k, %kr) v(%v) mask(%m) scale 0.2 : (tensor<1x3x4x16xf32>, tensor<1x3x4x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5x0x8xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @integer_query(%q: tensor<1x3x4x16xi32>, %k: tensor<1x5x4x16xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{query, key, value and result must hold floats}}
  %0 = fathom.attention q(%q) k(%k) v(%v) mask(%m) scale 0.2 : (tensor<1x3x4x16xi32>, tensor<1x5x4x16xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @integer_value(%q: tensor<1x3x4x16xf32>, %k: tensor<1x5x4x16xf32>, %v: tensor<1x5x4x16xi8>, %m: tensor<1x5xi1>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{query, key, value and result must hold floats}}
  %0 = fathom.attention q(%q) k(%k) v(%v) mask(%m) scale 0.2 : (tensor<1x3x4x16xf32>, tensor<1x5x4x16xf32>, tensor<1x5x4x16xi8>, tensor<1x5xi1>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @integer_result(%q: tensor<1x3x4x16xf32>, %k: tensor<1x5x4x16xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>) -> tensor<1x3x4x16xi32> {
  // expected-error @below {{query, key, value and result must hold floats}}
  %0 = fathom.attention q(%q) k(%k) v(%v) mask(%m) scale 0.2 : (tensor<1x3x4x16xf32>, tensor<1x5x4x16xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>) -> tensor<1x3x4x16xi32>
  return %0 : tensor<1x3x4x16xi32>
}

// -----

func.func @unranked_mask(%q: tensor<1x3x4x16xf32>, %k: tensor<1x5x4x16xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<*xi1>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{operand #3 must be ranked tensor of 1-bit signless integer values}}
  %0 = fathom.attention q(%q) k(%k) v(%v) mask(%m) scale 0.2 : (tensor<1x3x4x16xf32>, tensor<1x5x4x16xf32>, tensor<1x5x4x16xf32>, tensor<*xi1>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @unranked_start(%q: tensor<1x3x4x16xf32>, %k: tensor<1x5x4x16xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>, %s: tensor<*xi64>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{operand #4 must be ranked tensor of signless integer values}}
  %0 = fathom.attention q(%q) k(%k) v(%v) mask(%m) start(%s) scale 0.2 : (tensor<1x3x4x16xf32>, tensor<1x5x4x16xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>, tensor<*xi64>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @float_start(%q: tensor<1x3x4x16xf32>, %k: tensor<1x5x4x16xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x5xi1>, %s: tensor<1xf32>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{operand #4 must be ranked tensor of signless integer values}}
  %0 = fathom.attention q(%q) k(%k) v(%v) mask(%m) start(%s) scale 0.2 : (tensor<1x3x4x16xf32>, tensor<1x5x4x16xf32>, tensor<1x5x4x16xf32>, tensor<1x5xi1>, tensor<1xf32>) -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}
