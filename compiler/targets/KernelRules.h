#pragma once
// The kernel ABI's op -> kernel mapping that every target shares (each kernel-level op has one
// kernel of the same name in every backend), checked against what one target's kernels accept.
// A target states its limits here and overrides only the ops it lowers differently.
#include "compiler/targets/Target.h"

namespace mlir::fathom {

struct KernelLimits {
  bool bf16Activations = true;
  // Weights stored block-quantized: FP8 E4M3 with 128x128 fp32 scales, INT4 with group scales.
  bool fp8Weights = true;
  bool int4Weights = true;
  // Attention: query/key width (nope + rope parts) and value width; RoPE: rotated width.
  int64_t maxQueryKeyDim = 0;
  int64_t maxValueDim = 0;
  int64_t maxRopeDim = 0;
};

FailureOr<StringRef> standardKernelFor(Operation* op, SymbolTableCollection& symbols,
                                       const Target& target, const KernelLimits& limits);

// Reports on `op` that `target` cannot run it, and why.
FailureOr<StringRef> unsupportedOn(Operation* op, const Target& target, const Twine& why);

} // namespace mlir::fathom
