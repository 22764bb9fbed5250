// RUN: fathom-opt %s -split-input-file -verify-diagnostics

fathom.param @w : tensor<96x32xbf16> {source = "w"}
fathom.initializer {
  // expected-error @below {{result 'tensor<96x32xf32>' must be @w's type 'tensor<96x32xbf16>'}}
  %0 = fathom.param_value @w : tensor<96x32xf32>
}

// -----

fathom.param @w : tensor<96x32xbf16> {source = "w"}
fathom.initializer {
  // expected-error @below {{result 'tensor<32x96xbf16>' must be @w's type 'tensor<96x32xbf16>'}}
  %0 = fathom.param_value @w : tensor<32x96xbf16>
}

// -----

fathom.cache @w : tensor<40xbf16>
fathom.initializer {
  // expected-error @below {{param @w does not name a fathom.param}}
  %0 = fathom.param_value @w : tensor<40xbf16>
}

// -----

fathom.param @w : tensor<96x32xbf16> {source = "w"}
fathom.initializer {
  // expected-error @below {{'fathom.param_value' op result #0 must be statically shaped tensor of any type values, but got 'tensor<?x32xbf16>'}}
  %0 = fathom.param_value @w : tensor<?x32xbf16>
}

// -----

// Entry points read params through the ops that take them by symbol, not param_value.
fathom.param @w : tensor<4xf32> {source = "w"}
func.func @in_function() -> tensor<4xf32> {
  // expected-error @below {{'fathom.param_value' op expects parent op 'fathom.initializer'}}
  %0 = fathom.param_value @w : tensor<4xf32>
  return %0 : tensor<4xf32>
}
