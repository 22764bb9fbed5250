// RUN: fathom-opt %s -split-input-file -verify-diagnostics

fathom.param @q : tensor<16x8xf32>
fathom.param @kv : tensor<8x8xf32>
fathom.param @o : tensor<8x16xf32>

func.func @groups(%x: tensor<?x?x8xf32>, %mask: tensor<?x?xi1>) -> tensor<?x?x8xf32> {
  // expected-error @below {{num_heads 4 must be a multiple of num_kv_heads 3}}
  %0 = fathom.multi_head_attention %x mask(%mask) {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 3 : i64, head_dim = 4 : i64, scale = 0.5 : f32, q_proj = @q, k_proj = @kv, v_proj = @kv, o_proj = @o} : (tensor<?x?x8xf32>, tensor<?x?xi1>) -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

fathom.param @q : tensor<16x8xf32>
fathom.param @kv : tensor<8x8xf32>
fathom.param @o : tensor<8x16xf32>

func.func @kv_width(%x: tensor<?x?x8xf32>, %mask: tensor<?x?xi1>) -> tensor<?x?x8xf32> {
  // expected-error @below {{k_proj @kv must be [4, 8], got [8, 8]}}
  %0 = fathom.multi_head_attention %x mask(%mask) {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f32, q_proj = @q, k_proj = @kv, v_proj = @kv, o_proj = @o} : (tensor<?x?x8xf32>, tensor<?x?xi1>) -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

fathom.param @q : tensor<16x8xf32>
fathom.param @kv : tensor<8x8xf32>
fathom.param @o : tensor<8x16xf32>

func.func @rope_without_positions(%x: tensor<?x?x8xf32>, %mask: tensor<?x?xi1>) -> tensor<?x?x8xf32> {
  // expected-error @below {{rope, rope_mode and positions go together}}
  %0 = fathom.multi_head_attention %x mask(%mask) {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f32, rope = #fathom.rope<theta = 1.0e4, dim = 4, scaling = none, factor = 1.0, original_max_positions = 16, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = true>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, k_proj = @kv, v_proj = @kv, o_proj = @o} : (tensor<?x?x8xf32>, tensor<?x?xi1>) -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

fathom.param @q : tensor<16x8xf32>
fathom.param @kv : tensor<8x8xf32>
fathom.param @o : tensor<8x16xf32>

func.func @rope_dim(%x: tensor<?x?x8xf32>, %pos: tensor<?x?xi64>, %mask: tensor<?x?xi1>) -> tensor<?x?x8xf32> {
  // expected-error @below {{rope dim 4 must equal head_dim 2}}
  %0 = fathom.multi_head_attention %x positions(%pos) mask(%mask) {layer = 0 : i64, num_heads = 8 : i64, num_kv_heads = 4 : i64, head_dim = 2 : i64, scale = 0.5 : f32, rope = #fathom.rope<theta = 1.0e4, dim = 4, scaling = none, factor = 1.0, original_max_positions = 16, beta_fast = 32.0, beta_slow = 1.0, attention_factor = 1.0, truncate = true>, rope_mode = #fathom.rope_mode<rotate_half>, q_proj = @q, k_proj = @kv, v_proj = @kv, o_proj = @o} : (tensor<?x?x8xf32>, tensor<?x?xi64>, tensor<?x?xi1>) -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

fathom.param @q : tensor<16x8xf32>
fathom.param @kv : tensor<8x8xf32>
fathom.param @o : tensor<8x16xf32>

func.func @cached_not_causal(%x: tensor<?x?x8xf32>, %mask: tensor<?x?xi1>, %start: tensor<?xi64>) -> tensor<?x?x8xf32> {
  // expected-error @below {{a cached layer must be causal}}
  %0 = fathom.multi_head_attention %x mask(%mask) cache_start(%start) {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f32, q_proj = @q, k_proj = @kv, v_proj = @kv, o_proj = @o} : (tensor<?x?x8xf32>, tensor<?x?xi1>, tensor<?xi64>) -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}
