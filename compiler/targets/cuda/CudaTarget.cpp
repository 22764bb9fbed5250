#include "compiler/targets/cuda/CudaTarget.h"

#include "compiler/targets/KernelRules.h"
#include "dialects/fathom/FathomDialect.h"

namespace mlir::fathom {
namespace {

// runtime/backends/cuda: the attention kernels stage a query row and a value accumulator per
// warp in registers and shared memory, sized for MLA's absorbed latent (576-wide keys, 512-wide
// values); RoPE rotates up to a 256-wide head.
constexpr KernelLimits kCudaLimits{
    /*bf16Activations=*/true, /*fp8Weights=*/true,
    /*int4Weights=*/false,    /*maxQueryKeyDim=*/576,
    /*maxValueDim=*/512,      /*maxRopeDim=*/256};

// True when `weight` is FP8 E4M3 in DeepSeek's 128x128 blocks and fits the block GEMM.
bool fp8BlockGemmWeight(Operation* op, SymbolTableCollection& symbols, FlatSymbolRefAttr weight) {
  auto param = symbols.lookupNearestSymbolFrom<ParamOp>(op, weight);
  if (!param || !isa<Float8E4M3FNType>(param.getTensorType().getElementType()))
    return false;
  std::optional<BlockQuantAttr> blocks = param.getQuantization();
  ArrayRef<int64_t> shape = param.getTensorType().getShape();
  return blocks && shape.size() == 2 && blocks->getRows() == 128 && blocks->getCols() == 128 &&
         CudaTarget::fp8GemmFits(shape[0], shape[1]);
}

} // namespace

FailureOr<StringRef> CudaTarget::kernelFor(Operation* op, SymbolTableCollection& symbols) const {
  FailureOr<StringRef> kernel = standardKernelFor(op, symbols, *this, kCudaLimits);
  if (failed(kernel))
    return failure();
  if (auto linear = dyn_cast<LinearOp>(op);
      linear && arch_ == CudaArch::Sm90a && fp8BlockGemmWeight(op, symbols, linear.getWeightAttr()))
    return StringRef("linear_fp8");
  return kernel;
}

} // namespace mlir::fathom
