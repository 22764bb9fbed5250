// RUN: fathom-opt %s | fathom-opt | FileCheck %s

// CHECK-LABEL: module
// The MLA-absorbed cache: latent (32) and rope key (8).
// CHECK: fathom.cache @layer0.latent_cache : tensor<40xbf16>
fathom.cache @layer0.latent_cache : tensor<40xbf16>
// The naive cache: 4 heads of keys (24) and values (16).
// CHECK: fathom.cache @model.layers.1.self_attn.cache : tensor<160xf32>
fathom.cache @model.layers.1.self_attn.cache : tensor<160xf32>
