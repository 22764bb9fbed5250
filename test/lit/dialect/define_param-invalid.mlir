// RUN: fathom-opt %s -split-input-file -verify-diagnostics

// A param with a source comes from the checkpoint and cannot be defined.
fathom.param @w : tensor<96x32xbf16> {source = "w"}
fathom.initializer {
  %0 = fathom.param_value @w : tensor<96x32xbf16>
  // expected-error @below {{@w comes from the checkpoint; only a param without a source is derived}}
  fathom.define_param @w = %0 : tensor<96x32xbf16>
}

// -----

fathom.param @w : tensor<96x32xbf16> {source = "w"}
fathom.param @d : tensor<96x32xf32>
fathom.initializer {
  %0 = fathom.param_value @w : tensor<96x32xbf16>
  // expected-error @below {{value 'tensor<96x32xbf16>' must be @d's type 'tensor<96x32xf32>'}}
  fathom.define_param @d = %0 : tensor<96x32xbf16>
}

// -----

fathom.param @w : tensor<96x32xbf16> {source = "w"}
fathom.initializer {
  %0 = fathom.param_value @w : tensor<96x32xbf16>
  // expected-error @below {{param @missing does not name a fathom.param}}
  fathom.define_param @missing = %0 : tensor<96x32xbf16>
}

// -----

// A param is defined only inside fathom.initializer.
fathom.param @d : tensor<4xf32>
func.func @in_function(%x: tensor<4xf32>) {
  // expected-error @below {{'fathom.define_param' op expects parent op 'fathom.initializer'}}
  fathom.define_param @d = %x : tensor<4xf32>
  return
}

// -----

fathom.param @d : tensor<4xf32>
%x = arith.constant dense<1.0> : tensor<4xf32>
// expected-error @below {{'fathom.define_param' op expects parent op 'fathom.initializer'}}
fathom.define_param @d = %x : tensor<4xf32>

// -----

fathom.param @w : tensor<4xf32> {source = "w"}
fathom.param @d : tensor<4xf32>
fathom.param @e : tensor<4xf32>
fathom.initializer {
  %0 = fathom.param_value @w : tensor<4xf32>
  fathom.define_param @d = %0 : tensor<4xf32>
  fathom.define_param @e = %0 : tensor<4xf32>
  // expected-error @below {{'fathom.define_param' op @d is defined twice}}
  fathom.define_param @d = %0 : tensor<4xf32>
}
