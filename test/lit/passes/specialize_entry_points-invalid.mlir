// RUN: fathom-opt %s -fathom-specialize-entry-points -split-input-file -verify-diagnostics

// expected-error @below {{needs a non-empty fathom.entry_points and the module's fathom.max_seq_len}}
func.func @model(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}

// -----

module attributes {fathom.max_seq_len = 8 : i64} {
  // expected-error @below {{entry point "model" is not a fresh name}}
  func.func @model(%x: tensor<2xf32>) -> tensor<2xf32> attributes {fathom.entry_points = ["model"]} {
    return %x : tensor<2xf32>
  }
}
