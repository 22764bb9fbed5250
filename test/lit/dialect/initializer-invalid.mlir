// RUN: fathom-opt %s -split-input-file -verify-diagnostics

fathom.param @d : tensor<4x4xf32>
// expected-error @below {{'fathom.initializer' op region should have no arguments}}
fathom.initializer {
^bb0(%a: tensor<4x4xf32>):
  fathom.define_param @d = %a : tensor<4x4xf32>
}

// -----

// expected-error @below {{'fathom.initializer' op expects region #0 to have 0 or 1 blocks}}
"fathom.initializer"() ({
^bb0:
  "func.return"() : () -> ()
^bb1:
  "func.return"() : () -> ()
}) : () -> ()

// -----

// expected-error @below {{'fathom.initializer' op region #0 ('body') failed to verify constraint: region with 1 blocks}}
"fathom.initializer"() ({}) : () -> ()

// -----

// The initializer is isolated from above: it reads weights through fathom.param_value only.
fathom.param @d : tensor<4xf32>
%x = arith.constant dense<1.0> : tensor<4xf32>
// expected-note @below {{required by region isolation constraints}}
fathom.initializer {
  // expected-error @below {{'fathom.define_param' op using value defined outside the region}}
  fathom.define_param @d = %x : tensor<4xf32>
}

// -----

// The initializer sits directly in a module, not in a function.
fathom.param @d : tensor<4xf32>
func.func @nested() {
  // expected-error @below {{'fathom.initializer' op expects parent op 'builtin.module'}}
  fathom.initializer {
  }
  return
}

// -----

fathom.param @w : tensor<4xf32> {source = "w"}
fathom.param @d : tensor<4xf32>
fathom.param @e : tensor<4xf32>
fathom.initializer {
  %0 = fathom.param_value @w : tensor<4xf32>
  fathom.define_param @d = %0 : tensor<4xf32>
}
// expected-error @below {{'fathom.initializer' op a module holds at most one initializer}}
fathom.initializer {
  %0 = fathom.param_value @w : tensor<4xf32>
  fathom.define_param @e = %0 : tensor<4xf32>
}

// -----

// Two empty initializers are still two.
fathom.initializer {
}
// expected-error @below {{'fathom.initializer' op a module holds at most one initializer}}
fathom.initializer {
}

// -----

fathom.param @w : tensor<4xf32> {source = "w"}
fathom.param @d : tensor<4xf32>
fathom.initializer {
  %0 = fathom.param_value @w : tensor<4xf32>
  fathom.define_param @d = %0 : tensor<4xf32>
  // expected-error @below {{'fathom.define_param' op @d is defined twice}}
  fathom.define_param @d = %0 : tensor<4xf32>
}
