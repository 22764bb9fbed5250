// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @dynamic_experts(%logits: tensor<2x3x?xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xi32>) {
  // expected-error @below {{the expert count (last logits dimension) must be static}}
  %w, %i = fathom.moe_route %logits {n_group = 4 : i64, norm_topk_prob = true, routed_scaling_factor = 2.5 : f32, scoring = #fathom.scoring<sigmoid>, top_k = 4 : i64, topk_group = 2 : i64} : tensor<2x3x?xf32> -> tensor<2x3x4xf32>, tensor<2x3x4xi32>
  return %w, %i : tensor<2x3x4xf32>, tensor<2x3x4xi32>
}

// -----

func.func @top_k_too_large(%logits: tensor<2x3x16xf32>) -> (tensor<2x3x9xf32>, tensor<2x3x9xi32>) {
  // expected-error @below {{top_k 9, n_group 4 and topk_group 2 do not fit 16 experts}}
  %w, %i = fathom.moe_route %logits {n_group = 4 : i64, norm_topk_prob = true, routed_scaling_factor = 2.5 : f32, scoring = #fathom.scoring<sigmoid>, top_k = 9 : i64, topk_group = 2 : i64} : tensor<2x3x16xf32> -> tensor<2x3x9xf32>, tensor<2x3x9xi32>
  return %w, %i : tensor<2x3x9xf32>, tensor<2x3x9xi32>
}

// -----

func.func @uneven_groups(%logits: tensor<2x3x16xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xi32>) {
  // expected-error @below {{top_k 4, n_group 3 and topk_group 2 do not fit 16 experts}}
  %w, %i = fathom.moe_route %logits {n_group = 3 : i64, norm_topk_prob = true, routed_scaling_factor = 2.5 : f32, scoring = #fathom.scoring<sigmoid>, top_k = 4 : i64, topk_group = 2 : i64} : tensor<2x3x16xf32> -> tensor<2x3x4xf32>, tensor<2x3x4xi32>
  return %w, %i : tensor<2x3x4xf32>, tensor<2x3x4xi32>
}

// -----

func.func @kept_groups(%logits: tensor<2x3x16xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xi32>) {
  // expected-error @below {{top_k 4, n_group 4 and topk_group 5 do not fit 16 experts}}
  %w, %i = fathom.moe_route %logits {n_group = 4 : i64, norm_topk_prob = true, routed_scaling_factor = 2.5 : f32, scoring = #fathom.scoring<sigmoid>, top_k = 4 : i64, topk_group = 5 : i64} : tensor<2x3x16xf32> -> tensor<2x3x4xf32>, tensor<2x3x4xi32>
  return %w, %i : tensor<2x3x4xf32>, tensor<2x3x4xi32>
}

// -----

func.func @zero_top_k(%logits: tensor<2x3x16xf32>) -> (tensor<2x3x0xf32>, tensor<2x3x0xi32>) {
  // expected-error @below {{top_k 0, n_group 4 and topk_group 2 do not fit 16 experts}}
  %w, %i = fathom.moe_route %logits {n_group = 4 : i64, norm_topk_prob = true, routed_scaling_factor = 2.5 : f32, scoring = #fathom.scoring<sigmoid>, top_k = 0 : i64, topk_group = 2 : i64} : tensor<2x3x16xf32> -> tensor<2x3x0xf32>, tensor<2x3x0xi32>
  return %w, %i : tensor<2x3x0xf32>, tensor<2x3x0xi32>
}

// -----

func.func @weights_width(%logits: tensor<2x3x16xf32>) -> (tensor<2x3x2xf32>, tensor<2x3x4xi32>) {
  // expected-error @below {{weights and indices must be [tokens..., 4]}}
  %w, %i = fathom.moe_route %logits {n_group = 4 : i64, norm_topk_prob = true, routed_scaling_factor = 2.5 : f32, scoring = #fathom.scoring<sigmoid>, top_k = 4 : i64, topk_group = 2 : i64} : tensor<2x3x16xf32> -> tensor<2x3x2xf32>, tensor<2x3x4xi32>
  return %w, %i : tensor<2x3x2xf32>, tensor<2x3x4xi32>
}

// -----

func.func @indices_rank(%logits: tensor<2x3x16xf32>) -> (tensor<2x3x4xf32>, tensor<6x4xi32>) {
  // expected-error @below {{weights and indices must be [tokens..., 4]}}
  %w, %i = fathom.moe_route %logits {n_group = 4 : i64, norm_topk_prob = true, routed_scaling_factor = 2.5 : f32, scoring = #fathom.scoring<sigmoid>, top_k = 4 : i64, topk_group = 2 : i64} : tensor<2x3x16xf32> -> tensor<2x3x4xf32>, tensor<6x4xi32>
  return %w, %i : tensor<2x3x4xf32>, tensor<6x4xi32>
}

// -----

fathom.param @bias : tensor<8xf32>
func.func @bias_shape(%logits: tensor<2x3x16xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xi32>) {
  // expected-error @below {{score_bias @bias must be [16], got [8]}}
  %w, %i = fathom.moe_route %logits {n_group = 4 : i64, norm_topk_prob = true, routed_scaling_factor = 2.5 : f32, score_bias = @bias, scoring = #fathom.scoring<sigmoid>, top_k = 4 : i64, topk_group = 2 : i64} : tensor<2x3x16xf32> -> tensor<2x3x4xf32>, tensor<2x3x4xi32>
  return %w, %i : tensor<2x3x4xf32>, tensor<2x3x4xi32>
}

// -----

func.func @bias_missing(%logits: tensor<2x3x16xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xi32>) {
  // expected-error @below {{score_bias @bias does not name a fathom.param}}
  %w, %i = fathom.moe_route %logits {n_group = 4 : i64, norm_topk_prob = true, routed_scaling_factor = 2.5 : f32, score_bias = @bias, scoring = #fathom.scoring<sigmoid>, top_k = 4 : i64, topk_group = 2 : i64} : tensor<2x3x16xf32> -> tensor<2x3x4xf32>, tensor<2x3x4xi32>
  return %w, %i : tensor<2x3x4xf32>, tensor<2x3x4xi32>
}

// -----

func.func @logits_dtype(%logits: tensor<2x3x16xbf16>) -> (tensor<2x3x4xf32>, tensor<2x3x4xi32>) {
  // expected-error @below {{'fathom.moe_route' op operand #0 must be ranked tensor of 32-bit float values, but got 'tensor<2x3x16xbf16>'}}
  %w, %i = fathom.moe_route %logits {n_group = 4 : i64, norm_topk_prob = true, routed_scaling_factor = 2.5 : f32, scoring = #fathom.scoring<sigmoid>, top_k = 4 : i64, topk_group = 2 : i64} : tensor<2x3x16xbf16> -> tensor<2x3x4xf32>, tensor<2x3x4xi32>
  return %w, %i : tensor<2x3x4xf32>, tensor<2x3x4xi32>
}

// -----

func.func @indices_dtype(%logits: tensor<2x3x16xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xi64>) {
  // expected-error @below {{'fathom.moe_route' op result #1 must be ranked tensor of 32-bit signless integer values, but got 'tensor<2x3x4xi64>'}}
  %w, %i = fathom.moe_route %logits {n_group = 4 : i64, norm_topk_prob = true, routed_scaling_factor = 2.5 : f32, scoring = #fathom.scoring<sigmoid>, top_k = 4 : i64, topk_group = 2 : i64} : tensor<2x3x16xf32> -> tensor<2x3x4xf32>, tensor<2x3x4xi64>
  return %w, %i : tensor<2x3x4xf32>, tensor<2x3x4xi64>
}

// -----

func.func @zero_scaling(%logits: tensor<2x3x16xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xi32>) {
  // expected-error @below {{routed_scaling_factor must be positive}}
  %w, %i = fathom.moe_route %logits {n_group = 4 : i64, norm_topk_prob = true, routed_scaling_factor = 0.0 : f32, scoring = #fathom.scoring<sigmoid>, top_k = 4 : i64, topk_group = 2 : i64} : tensor<2x3x16xf32> -> tensor<2x3x4xf32>, tensor<2x3x4xi32>
  return %w, %i : tensor<2x3x4xf32>, tensor<2x3x4xi32>
}

// -----

func.func @negative_scaling(%logits: tensor<2x3x16xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xi32>) {
  // expected-error @below {{routed_scaling_factor must be positive}}
  %w, %i = fathom.moe_route %logits {n_group = 4 : i64, norm_topk_prob = true, routed_scaling_factor = -2.5 : f32, scoring = #fathom.scoring<sigmoid>, top_k = 4 : i64, topk_group = 2 : i64} : tensor<2x3x16xf32> -> tensor<2x3x4xf32>, tensor<2x3x4xi32>
  return %w, %i : tensor<2x3x4xf32>, tensor<2x3x4xi32>
}

// -----

func.func @weights_tokens(%logits: tensor<2x3x16xf32>) -> (tensor<2x4x4xf32>, tensor<2x3x4xi32>) {
  // expected-error @below {{weights and indices must have the logits' token dims}}
  %w, %i = fathom.moe_route %logits {n_group = 4 : i64, norm_topk_prob = true, routed_scaling_factor = 2.5 : f32, scoring = #fathom.scoring<sigmoid>, top_k = 4 : i64, topk_group = 2 : i64} : tensor<2x3x16xf32> -> tensor<2x4x4xf32>, tensor<2x3x4xi32>
  return %w, %i : tensor<2x4x4xf32>, tensor<2x3x4xi32>
}

// -----

func.func @indices_batch(%logits: tensor<2x3x16xf32>) -> (tensor<2x3x4xf32>, tensor<3x3x4xi32>) {
  // expected-error @below {{weights and indices must have the logits' token dims}}
  %w, %i = fathom.moe_route %logits {n_group = 4 : i64, norm_topk_prob = true, routed_scaling_factor = 2.5 : f32, scoring = #fathom.scoring<sigmoid>, top_k = 4 : i64, topk_group = 2 : i64} : tensor<2x3x16xf32> -> tensor<2x3x4xf32>, tensor<3x3x4xi32>
  return %w, %i : tensor<2x3x4xf32>, tensor<3x3x4xi32>
}

// -----

func.func @negative_n_group(%logits: tensor<2x3x16xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xi32>) {
  // expected-error @below {{top_k 4, n_group -4 and topk_group 2 do not fit 16 experts}}
  %w, %i = fathom.moe_route %logits {n_group = -4 : i64, norm_topk_prob = true, routed_scaling_factor = 2.5 : f32, scoring = #fathom.scoring<sigmoid>, top_k = 4 : i64, topk_group = 2 : i64} : tensor<2x3x16xf32> -> tensor<2x3x4xf32>, tensor<2x3x4xi32>
  return %w, %i : tensor<2x3x4xf32>, tensor<2x3x4xi32>
}
