// RUN: fathom-opt %s -split-input-file -verify-diagnostics

// expected-error @below {{a cache row is a non-empty vector, got 'tensor<4x40xbf16>'}}
fathom.cache @c : tensor<4x40xbf16>

// -----

// expected-error @below {{a cache row is a non-empty vector, got 'tensor<0xbf16>'}}
fathom.cache @c : tensor<0xbf16>

// -----

// expected-error @below {{'fathom.cache' op attribute 'row' failed to satisfy constraint: type attribute of statically shaped tensor of any type values}}
fathom.cache @c : tensor<?xbf16>
