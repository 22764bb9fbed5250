// RUN: fathom-opt %s | fathom-opt | FileCheck %s

// CHECK-LABEL: func.func @mla_prefill
func.func @mla_prefill(%q: tensor<?x?x4x24xbf16>, %k: tensor<?x?x4x24xbf16>, %v: tensor<?x?x4x16xbf16>, %mask: tensor<?x?xi1>) -> tensor<?x?x4x16xbf16> {
  // CHECK: fathom.attention %{{.*}}, %{{.*}}, %{{.*}} mask %{{.*}} scale 2.000000e-01 {causal} : tensor<?x?x4x24xbf16>, tensor<?x?x4x24xbf16>, tensor<?x?x4x16xbf16>, tensor<?x?xi1> -> tensor<?x?x4x16xbf16>
  %0 = fathom.attention %q, %k, %v mask %mask scale 0.2 {causal} : tensor<?x?x4x24xbf16>, tensor<?x?x4x24xbf16>, tensor<?x?x4x16xbf16>, tensor<?x?xi1> -> tensor<?x?x4x16xbf16>
  return %0 : tensor<?x?x4x16xbf16>
}

// CHECK-LABEL: func.func @gqa
func.func @gqa(%q: tensor<1x3x8x16xf32>, %k: tensor<1x7x2x16xf32>, %v: tensor<1x7x2x16xf32>) -> tensor<1x3x8x16xf32> {
  // CHECK: fathom.attention %{{.*}}, %{{.*}}, %{{.*}} scale 2.500000e-01 : tensor<1x3x8x16xf32>, tensor<1x7x2x16xf32>, tensor<1x7x2x16xf32> -> tensor<1x3x8x16xf32>
  %0 = fathom.attention %q, %k, %v scale 0.25 : tensor<1x3x8x16xf32>, tensor<1x7x2x16xf32>, tensor<1x7x2x16xf32> -> tensor<1x3x8x16xf32>
  return %0 : tensor<1x3x8x16xf32>
}
