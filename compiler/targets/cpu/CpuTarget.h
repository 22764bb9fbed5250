#pragma once
// The CPU target: runtime/backends/cpu's kernels, fp32 and bf16 activations, weights in fp32,
// bf16 or FP8 (E4M3 with 128x128 block scales, dequantized in the GEMM).
#include "compiler/targets/Target.h"

namespace mlir::fathom {

class CpuTarget final : public Target {
public:
  llvm::StringRef name() const override { return "cpu"; }
  FailureOr<llvm::StringRef> kernelFor(Operation* op,
                                       SymbolTableCollection& symbols) const override;
};

} // namespace mlir::fathom
