#include "compiler/targets/cpu/CpuTarget.h"

#include "compiler/targets/KernelRules.h"

namespace mlir::fathom {

FailureOr<StringRef> CpuTarget::kernelFor(Operation* op, SymbolTableCollection& symbols) const {
  // runtime/backends/cpu: attention keeps a query and a value row on the stack, RoPE half a
  // rotated row; FP8 and INT4 weights are dequantized inside the GEMM.
  static const KernelLimits limits{
      /*bf16Activations=*/true, /*fp8Weights=*/true,
      /*int4Weights=*/true,     /*maxQueryKeyDim=*/1024,
      /*maxValueDim=*/1024,     /*maxRopeDim=*/512};
  return standardKernelFor(op, symbols, *this, limits);
}

} // namespace mlir::fathom
