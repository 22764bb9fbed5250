// RUN: fathom-opt %s -split-input-file -verify-diagnostics

fathom.param @table : tensor<512x64xbf16>
func.func @hidden_mismatch(%ids: tensor<2x3xi32>) -> tensor<2x3x32xbf16> {
  // expected-error @below {{result hidden size 32 does not match table @table hidden size 64}}
  %0 = fathom.embedding %ids, @table : tensor<2x3xi32> -> tensor<2x3x32xbf16>
  return %0 : tensor<2x3x32xbf16>
}

// -----

fathom.param @table : tensor<512xbf16>
func.func @table_rank(%ids: tensor<2x3xi32>) -> tensor<2x3x64xbf16> {
  // expected-error @below {{table @table must have rank 2 [vocab, hidden], got rank 1}}
  %0 = fathom.embedding %ids, @table : tensor<2x3xi32> -> tensor<2x3x64xbf16>
  return %0 : tensor<2x3x64xbf16>
}

// -----

fathom.param @table : tensor<512x64xbf16>
func.func @batch_mismatch(%ids: tensor<2x3xi32>) -> tensor<4x3x64xbf16> {
  // expected-error @below {{result dimension 0 is 4 but the ids' is 2}}
  %0 = fathom.embedding %ids, @table : tensor<2x3xi32> -> tensor<4x3x64xbf16>
  return %0 : tensor<4x3x64xbf16>
}

// -----

fathom.param @table : tensor<512x64xbf16>
func.func @dtype_mismatch(%ids: tensor<2x3xi32>) -> tensor<2x3x64xf32> {
  // expected-error @below {{result element type 'f32' differs from the table's 'bf16'}}
  %0 = fathom.embedding %ids, @table : tensor<2x3xi32> -> tensor<2x3x64xf32>
  return %0 : tensor<2x3x64xf32>
}

// -----

func.func @not_a_param(%ids: tensor<2x3xi32>) -> tensor<2x3x64xf32> {
  // expected-error @below {{table @nothing does not name a fathom.param}}
  %0 = fathom.embedding %ids, @nothing : tensor<2x3xi32> -> tensor<2x3x64xf32>
  return %0 : tensor<2x3x64xf32>
}
