// RUN: fathom-opt %s -split-input-file -verify-diagnostics

// expected-error @below {{scale @s must be 'tensor<2x2xf32>' (one per 128x128 block), got 'tensor<1x2xf32>'}}
fathom.param @w : tensor<200x160xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @s
fathom.param @s : tensor<1x2xf32>

// -----

// expected-error @below {{element type 'bf16' does not match the quantized storage f8e4m3}}
fathom.param @w : tensor<128x128xbf16> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @s
fathom.param @s : tensor<1x1xf32>

// -----

// expected-error @below {{scale @missing does not name a fathom.param}}
fathom.param @w : tensor<128x128xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @missing

// -----

// expected-error @below {{block quantization applies to matrices (rank >= 2), got rank 1}}
fathom.param @w : tensor<128xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @s
fathom.param @s : tensor<1x1xf32>

// -----

// expected-error @below {{source_dtype needs a source tensor name}}
fathom.param @w : tensor<4xf32> {source_dtype = #fathom.dtype<bf16>}

// -----

// expected-error @below {{expected ::mlir::fathom::DType to be one of: f32, f16, bf16, f8e4m3, f8e5m2, i64, i32, i8}}
// expected-error @below {{failed to parse Fathom_DTypeAttr parameter 'value' which is to be a `::mlir::fathom::DType`}}
fathom.param @w : tensor<4xf32> {source = "w", source_dtype = #fathom.dtype<bf17>}

// -----

// expected-error @below {{block quantization stores f8e4m3, f8e5m2, i8 or u4, not bf16}}
fathom.param @w : tensor<128x128xbf16> quantized <storage = bf16, rows = 128, cols = 128> scale @s

// -----

// expected-error @below {{block sizes must be positive, got 0x128}}
fathom.param @w : tensor<128x128xf8E4M3FN> quantized <storage = f8e4m3, rows = 0, cols = 128> scale @s

// -----

// expected-error @below {{'fathom.param' op attribute 'type' failed to satisfy constraint: type attribute of statically shaped tensor of any type values}}
fathom.param @w : tensor<?x4xf32>

// -----

// expected-error @below {{'fathom.param' op source_offset needs a source tensor name and must not be negative}}
fathom.param @w : tensor<4x4xf32> {source_offset = 16 : i64}

// -----

// expected-error @below {{'fathom.param' op source_offset needs a source tensor name and must not be negative}}
fathom.param @w : tensor<4x4xf32> {source = "fused", source_offset = -4 : i64}

// -----

// expected-error @below {{'fathom.param' op a block-quantized param cannot be a slice of its source}}
fathom.param @w : tensor<128x128xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @s {source = "fused", source_offset = 16384 : i64}
fathom.param @s : tensor<1x1xf32>

// -----

// expected-error @below {{'fathom.param' op a block-quantized param needs both `quantization` and `scale`}}
fathom.param @w : tensor<128x128xf8E4M3FN> {scale = @s}
fathom.param @s : tensor<1x1xf32>

// -----

// Stacked matrices (one per expert) keep one scale grid per matrix.
// expected-error @below {{scale @s must be 'tensor<4x2x1xf32>' (one per 128x128 block), got 'tensor<2x1xf32>'}}
fathom.param @w : tensor<4x200x64xf8E4M3FN> quantized <storage = f8e4m3, rows = 128, cols = 128> scale @s
fathom.param @s : tensor<2x1xf32>

// -----

// expected-error @below {{a `zero` param goes with u4 storage, and u4 storage needs one}}
fathom.param @w : tensor<4x256xui4> quantized <storage = u4, rows = 1, cols = 128> scale @s
fathom.param @s : tensor<4x2xf32>

// -----

// expected-error @below {{zero @z must be a fathom.param of type 'tensor<4x2xui4>'}}
fathom.param @w : tensor<4x256xui4> quantized <storage = u4, rows = 1, cols = 128> scale @s {zero = @z}
fathom.param @s : tensor<4x2xf32>
fathom.param @z : tensor<4x1xui4>
