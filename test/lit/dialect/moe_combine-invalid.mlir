// RUN: fathom-opt %s -split-input-file -verify-diagnostics

func.func @result_rank(%out: tensor<?x64xf32>, %slot_row: tensor<?xi32>, %indices: tensor<?x?x4xi32>, %weights: tensor<?x?x4xf32>) -> tensor<?x64xf32> {
  // expected-error @below {{combines grouped rows [rows, width] into [batch, seq, width]}}
  %0 = fathom.moe_combine %out, %slot_row, %indices, %weights <eager> : tensor<?x64xf32>, tensor<?xi32>, tensor<?x?x4xi32>, tensor<?x?x4xf32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

func.func @width(%out: tensor<?x64xf32>, %slot_row: tensor<?xi32>, %indices: tensor<?x?x4xi32>, %weights: tensor<?x?x4xf32>) -> tensor<?x?x32xf32> {
  // expected-error @below {{combines grouped rows [rows, width] into [batch, seq, width]}}
  %0 = fathom.moe_combine %out, %slot_row, %indices, %weights <eager> : tensor<?x64xf32>, tensor<?xi32>, tensor<?x?x4xi32>, tensor<?x?x4xf32> -> tensor<?x?x32xf32>
  return %0 : tensor<?x?x32xf32>
}

// -----

func.func @dtype(%out: tensor<?x64xbf16>, %slot_row: tensor<?xi32>, %indices: tensor<?x?x4xi32>, %weights: tensor<?x?x4xf32>) -> tensor<?x?x64xf32> {
  // expected-error @below {{combines grouped rows [rows, width] into [batch, seq, width]}}
  %0 = fathom.moe_combine %out, %slot_row, %indices, %weights <grouped> : tensor<?x64xbf16>, tensor<?xi32>, tensor<?x?x4xi32>, tensor<?x?x4xf32> -> tensor<?x?x64xf32>
  return %0 : tensor<?x?x64xf32>
}

// -----

func.func @routing_shapes(%out: tensor<?x64xf32>, %slot_row: tensor<?xi32>, %indices: tensor<?x?x4xi32>, %weights: tensor<?x?x2xf32>) -> tensor<?x?x64xf32> {
  // expected-error @below {{indices and weights must have the same shape}}
  %0 = fathom.moe_combine %out, %slot_row, %indices, %weights <eager> : tensor<?x64xf32>, tensor<?xi32>, tensor<?x?x4xi32>, tensor<?x?x2xf32> -> tensor<?x?x64xf32>
  return %0 : tensor<?x?x64xf32>
}

// -----

func.func @slot_row_rank(%out: tensor<?x64xf32>, %slot_row: tensor<?x4xi32>, %indices: tensor<?x?x4xi32>, %weights: tensor<?x?x4xf32>) -> tensor<?x?x64xf32> {
  // expected-error @below {{slot_row must be one-dimensional, got 'tensor<?x4xi32>'}}
  %0 = fathom.moe_combine %out, %slot_row, %indices, %weights <eager> : tensor<?x64xf32>, tensor<?x4xi32>, tensor<?x?x4xi32>, tensor<?x?x4xf32> -> tensor<?x?x64xf32>
  return %0 : tensor<?x?x64xf32>
}

// -----

func.func @bad_order(%out: tensor<?x64xf32>, %slot_row: tensor<?xi32>, %indices: tensor<?x?x4xi32>, %weights: tensor<?x?x4xf32>) -> tensor<?x?x64xf32> {
  // expected-error @below {{expected ::mlir::fathom::CombineOrder to be one of: eager, grouped}}
  // expected-error @below {{failed to parse Fathom_CombineOrderAttr parameter 'value' which is to be a `::mlir::fathom::CombineOrder`}}
  %0 = fathom.moe_combine %out, %slot_row, %indices, %weights <lazy> : tensor<?x64xf32>, tensor<?xi32>, tensor<?x?x4xi32>, tensor<?x?x4xf32> -> tensor<?x?x64xf32>
  return %0 : tensor<?x?x64xf32>
}
