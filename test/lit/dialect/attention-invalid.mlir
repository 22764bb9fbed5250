// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @head_dims(%q: tensor<1x3x4x24xf32>, %k: tensor<1x3x4x16xf32>, %v: tensor<1x3x4x16xf32>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{query and key head dims differ: 24 vs 16}}
  %0 = fathom.attention %q, %k, %v scale 0.2 : tensor<1x3x4x24xf32>, tensor<1x3x4x16xf32>, tensor<1x3x4x16xf32> -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @heads(%q: tensor<1x3x6x16xf32>, %k: tensor<1x3x4x16xf32>, %v: tensor<1x3x4x16xf32>) -> tensor<1x3x6x16xf32> {
  // expected-error @below {{query heads must be a multiple of key/value heads: 6 vs 4}}
  %0 = fathom.attention %q, %k, %v scale 0.2 : tensor<1x3x6x16xf32>, tensor<1x3x4x16xf32>, tensor<1x3x4x16xf32> -> tensor<1x3x6x16xf32>
  return %0 : tensor<1x3x6x16xf32>
}

// -----

func.func @kv_len(%q: tensor<1x3x4x16xf32>, %k: tensor<1x5x4x16xf32>, %v: tensor<1x6x4x16xf32>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{key and value lengths differ: 5 vs 6}}
  %0 = fathom.attention %q, %k, %v scale 0.2 : tensor<1x3x4x16xf32>, tensor<1x5x4x16xf32>, tensor<1x6x4x16xf32> -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @result(%q: tensor<1x3x4x16xf32>, %k: tensor<1x5x4x16xf32>, %v: tensor<1x5x4x8xf32>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{result must be [batch, query len, heads, value dim], got 'tensor<1x3x4x16xf32>'}}
  %0 = fathom.attention %q, %k, %v scale 0.2 : tensor<1x3x4x16xf32>, tensor<1x5x4x16xf32>, tensor<1x5x4x8xf32> -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @mask(%q: tensor<1x3x4x16xf32>, %k: tensor<1x5x4x16xf32>, %v: tensor<1x5x4x16xf32>, %m: tensor<1x3xi1>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{key_mask must be [batch, key len], got 'tensor<1x3xi1>'}}
  %0 = fathom.attention %q, %k, %v mask %m scale 0.2 : tensor<1x3x4x16xf32>, tensor<1x5x4x16xf32>, tensor<1x5x4x16xf32>, tensor<1x3xi1> -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}

// -----

func.func @batch(%q: tensor<2x3x4x16xf32>, %k: tensor<1x5x4x16xf32>, %v: tensor<1x5x4x16xf32>) -> tensor<2x3x4x16xf32> {
  // expected-error @below {{batch sizes differ: 2 vs 1}}
  %0 = fathom.attention %q, %k, %v scale 0.2 : tensor<2x3x4x16xf32>, tensor<1x5x4x16xf32>, tensor<1x5x4x16xf32> -> tensor<2x3x4x16xf32>
  return %0 : tensor<2x3x4x16xf32>
}

// -----

func.func @scale(%q: tensor<1x3x4x16xf32>, %k: tensor<1x5x4x16xf32>, %v: tensor<1x5x4x16xf32>) -> tensor<1x3x4x16xf32> {
  // expected-error @below {{scale must be positive}}
  %0 = fathom.attention %q, %k, %v scale -1.0 : tensor<1x3x4x16xf32>, tensor<1x5x4x16xf32>, tensor<1x5x4x16xf32> -> tensor<1x3x4x16xf32>
  return %0 : tensor<1x3x4x16xf32>
}
