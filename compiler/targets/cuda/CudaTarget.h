#pragma once
// The CUDA target (runtime/backends/cuda), for one device generation:
//   sm_90a (Hopper): FP8 E4M3 math; a linear whose weight is FP8 in 128x128 blocks, with
//     in % 128 == 0 and out % 16 == 0 (cuBLASLt's block-scaled tiles and 16-byte rows), runs
//     as `linear_fp8`: activations quantized per token per 128 channels at run time, one
//     block-scaled FP8 GEMM. Other FP8 linears take the dequantizing path.
//   sm_80 (Ampere): no FP8 math; FP8 weights are dequantized to bf16 inside the GEMM (W8A16).
// Activations f32 or bf16; INT4 weights have no CUDA kernel yet. Buffers are planned 256-byte
// aligned (cuBLASLt and vectorized loads want 16; 256 keeps every row block on its own
// transaction boundary).
#include "compiler/targets/Target.h"

namespace mlir::fathom {

enum class CudaArch { Sm80, Sm90a };

class CudaTarget final : public Target {
public:
  explicit CudaTarget(CudaArch arch) : arch_(arch) {}
  llvm::StringRef name() const override { return "cuda"; }
  llvm::StringRef arch() const override { return arch_ == CudaArch::Sm90a ? "sm_90a" : "sm_80"; }
  uint64_t bufferAlignment() const override { return 256; }
  FailureOr<llvm::StringRef> kernelFor(Operation* op,
                                       SymbolTableCollection& symbols) const override;

  // The FP8 block GEMM's shape rule (sm_90a): weight [out, in].
  static bool fp8GemmFits(int64_t out, int64_t in) { return in % 128 == 0 && out % 16 == 0; }

private:
  CudaArch arch_;
};

} // namespace mlir::fathom
