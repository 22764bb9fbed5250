// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @bias : tensor<16xf32>

// DeepSeek-V3: sigmoid scores, a selection bias, 4 groups of which 2 are kept.
// CHECK-LABEL: func.func @v3
func.func @v3(%logits: tensor<?x?x16xf32>) -> (tensor<?x?x4xf32>, tensor<?x?x4xi32>) {
  // CHECK: %{{.*}}, %{{.*}} = fathom.moe_route %{{.*}} {n_group = 4 : i64, norm_topk_prob = true, routed_scaling_factor = 2.500000e+00 : f32, score_bias = @bias, scoring = #fathom.scoring<sigmoid>, top_k = 4 : i64, topk_group = 2 : i64} : tensor<?x?x16xf32> -> tensor<?x?x4xf32>, tensor<?x?x4xi32>
  %w, %i = fathom.moe_route %logits {n_group = 4 : i64, norm_topk_prob = true, routed_scaling_factor = 2.5 : f32, score_bias = @bias, scoring = #fathom.scoring<sigmoid>, top_k = 4 : i64, topk_group = 2 : i64} : tensor<?x?x16xf32> -> tensor<?x?x4xf32>, tensor<?x?x4xi32>
  return %w, %i : tensor<?x?x4xf32>, tensor<?x?x4xi32>
}

// DeepSeek-V2-Lite: softmax scores, no groups, no bias.
// CHECK-LABEL: func.func @v2_lite
func.func @v2_lite(%logits: tensor<2x3x16xf32>) -> (tensor<2x3x6xf32>, tensor<2x3x6xi32>) {
  // CHECK: fathom.moe_route %{{.*}} {n_group = 1 : i64, norm_topk_prob = false, routed_scaling_factor = 1.000000e+00 : f32, scoring = #fathom.scoring<softmax>, top_k = 6 : i64, topk_group = 1 : i64} : tensor<2x3x16xf32> -> tensor<2x3x6xf32>, tensor<2x3x6xi32>
  %w, %i = fathom.moe_route %logits {n_group = 1 : i64, norm_topk_prob = false, routed_scaling_factor = 1.0 : f32, scoring = #fathom.scoring<softmax>, top_k = 6 : i64, topk_group = 1 : i64} : tensor<2x3x16xf32> -> tensor<2x3x6xf32>, tensor<2x3x6xi32>
  return %w, %i : tensor<2x3x6xf32>, tensor<2x3x6xi32>
}
