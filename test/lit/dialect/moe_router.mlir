// RUN: fathom-opt %s | fathom-opt | FileCheck %s

fathom.param @gate : tensor<16x64xbf16>
fathom.param @bias : tensor<16xf32>
// CHECK-LABEL: func.func @v3_routing
func.func @v3_routing(%x: tensor<?x64xbf16>) -> (tensor<?x4xf32>, tensor<?x4xi32>) {
  // CHECK: fathom.moe_router %{{.*}}, @gate {n_group = 4 : i64, norm_topk_prob = true, routed_scaling_factor = 2.500000e+00 : f32, score_bias = @bias, scoring = #fathom.scoring<sigmoid>, top_k = 4 : i64, topk_group = 2 : i64} : tensor<?x64xbf16> -> tensor<?x4xf32>, tensor<?x4xi32>
  %w, %i = fathom.moe_router %x, @gate {score_bias = @bias, scoring = #fathom.scoring<sigmoid>, top_k = 4 : i64, n_group = 4 : i64, topk_group = 2 : i64, norm_topk_prob = true, routed_scaling_factor = 2.5 : f32} : tensor<?x64xbf16> -> tensor<?x4xf32>, tensor<?x4xi32>
  return %w, %i : tensor<?x4xf32>, tensor<?x4xi32>
}
