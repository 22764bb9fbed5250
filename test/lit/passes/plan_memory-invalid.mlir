// RUN: fathom-opt %s -fathom-plan-memory -split-input-file -verify-diagnostics

// The plan needs the kernels chosen first.
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 4 : i64} {
  fathom.param @norm : tensor<8xf32>
  func.func @decode(%ids: tensor<?x?xi64> {fathom.input = "ids"}, %x: tensor<?x?x8xf32> {fathom.input = "positions"}) -> tensor<?x?x8xf32> attributes {fathom.entry_point = "decode"} {
    // expected-error @below {{has no kernel: run fathom-lower-to-kernels first}}
    %0 = fathom.rms_norm %x, @norm eps 1.0e-6 : tensor<?x?x8xf32>
    return %0 : tensor<?x?x8xf32>
  }
}

// -----

// And the limits the builder sets.
// expected-error @below {{needs positive fathom.max_batch and fathom.max_seq_len}}
module {
  func.func @decode(%x: tensor<2xf32>) -> tensor<2xf32> attributes {fathom.entry_point = "decode"} {
    return %x : tensor<2xf32>
  }
}

// -----

// Every argument of an entry point is a named run-time input.
module attributes {fathom.max_batch = 1 : i64, fathom.max_seq_len = 4 : i64} {
  // expected-error @below {{argument 0 is not a named entry input (fathom.input)}}
  func.func @decode(%x: tensor<?x8xf32>) -> tensor<?x8xf32> attributes {fathom.entry_point = "decode"} {
    return %x : tensor<?x8xf32>
  }
}
