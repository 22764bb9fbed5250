// RUN: fathom-opt %s -split-input-file -verify-diagnostics

fathom.param @gate : tensor<16x64xf32>
func.func @groups(%x: tensor<5x64xf32>) -> (tensor<5x4xf32>, tensor<5x4xi32>) {
  // expected-error @below {{16 experts do not split into n_group = 3 equal groups}}
  %w, %i = fathom.moe_router %x, @gate {scoring = #fathom.scoring<softmax>, top_k = 4 : i64, n_group = 3 : i64, topk_group = 1 : i64, norm_topk_prob = false, routed_scaling_factor = 1.0 : f32} : tensor<5x64xf32> -> tensor<5x4xf32>, tensor<5x4xi32>
  return %w, %i : tensor<5x4xf32>, tensor<5x4xi32>
}

// -----

fathom.param @gate : tensor<16x64xf32>
func.func @top_k(%x: tensor<5x64xf32>) -> (tensor<5x6xf32>, tensor<5x6xi32>) {
  // expected-error @below {{top_k 6 exceeds the 4 experts in the kept groups}}
  %w, %i = fathom.moe_router %x, @gate {scoring = #fathom.scoring<sigmoid>, top_k = 6 : i64, n_group = 4 : i64, topk_group = 1 : i64, norm_topk_prob = true, routed_scaling_factor = 1.0 : f32} : tensor<5x64xf32> -> tensor<5x6xf32>, tensor<5x6xi32>
  return %w, %i : tensor<5x6xf32>, tensor<5x6xi32>
}

// -----

fathom.param @gate : tensor<16x64xf32>
func.func @result(%x: tensor<5x64xf32>) -> (tensor<5x3xf32>, tensor<5x4xi32>) {
  // expected-error @below {{weights last dimension must be top_k = 4}}
  %w, %i = fathom.moe_router %x, @gate {scoring = #fathom.scoring<sigmoid>, top_k = 4 : i64, n_group = 1 : i64, topk_group = 1 : i64, norm_topk_prob = true, routed_scaling_factor = 1.0 : f32} : tensor<5x64xf32> -> tensor<5x3xf32>, tensor<5x4xi32>
  return %w, %i : tensor<5x3xf32>, tensor<5x4xi32>
}

// -----

fathom.param @gate : tensor<16x32xf32>
func.func @hidden(%x: tensor<5x64xf32>) -> (tensor<5x4xf32>, tensor<5x4xi32>) {
  // expected-error @below {{gate @gate must be [experts, 64], got 'tensor<16x32xf32>'}}
  %w, %i = fathom.moe_router %x, @gate {scoring = #fathom.scoring<sigmoid>, top_k = 4 : i64, n_group = 1 : i64, topk_group = 1 : i64, norm_topk_prob = true, routed_scaling_factor = 1.0 : f32} : tensor<5x64xf32> -> tensor<5x4xf32>, tensor<5x4xi32>
  return %w, %i : tensor<5x4xf32>, tensor<5x4xi32>
}

// -----

fathom.param @gate : tensor<16x64xf32>
fathom.param @bias : tensor<8xf32>
func.func @bias_shape(%x: tensor<5x64xf32>) -> (tensor<5x4xf32>, tensor<5x4xi32>) {
  // expected-error @below {{score_bias @bias must be [16], got [8]}}
  %w, %i = fathom.moe_router %x, @gate {score_bias = @bias, scoring = #fathom.scoring<sigmoid>, top_k = 4 : i64, n_group = 1 : i64, topk_group = 1 : i64, norm_topk_prob = true, routed_scaling_factor = 1.0 : f32} : tensor<5x64xf32> -> tensor<5x4xf32>, tensor<5x4xi32>
  return %w, %i : tensor<5x4xf32>, tensor<5x4xi32>
}

// -----

fathom.param @gate : tensor<16x64xf32>
func.func @topk_group(%x: tensor<5x64xf32>) -> (tensor<5x4xf32>, tensor<5x4xi32>) {
  // expected-error @below {{needs top_k >= 1 and 1 <= topk_group <= n_group, got top_k 4, n_group 2, topk_group 3}}
  %w, %i = fathom.moe_router %x, @gate {scoring = #fathom.scoring<sigmoid>, top_k = 4 : i64, n_group = 2 : i64, topk_group = 3 : i64, norm_topk_prob = true, routed_scaling_factor = 1.0 : f32} : tensor<5x64xf32> -> tensor<5x4xf32>, tensor<5x4xi32>
  return %w, %i : tensor<5x4xf32>, tensor<5x4xi32>
}
