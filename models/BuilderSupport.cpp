#include "models/BuilderSupport.h"

#include "dialects/fathom/FathomConventions.h"
#include "fathom/runtime/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <cmath>

namespace fathom::models {

mlir::Type elementType(mlir::MLIRContext& context, DType dtype) {
  switch (dtype) {
  case DType::F32:
    return mlir::Float32Type::get(&context);
  case DType::BF16:
    return mlir::BFloat16Type::get(&context);
  case DType::F8E4M3:
    return mlir::Float8E4M3FNType::get(&context);
  default:
    throw Error("model builder: compute dtype " + std::string(dtypeName(dtype)) +
                " is not supported (use F32 or BF16)");
  }
}

mlir::fathom::DType dialectDType(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return mlir::fathom::DType::f32;
  case DType::F16:
    return mlir::fathom::DType::f16;
  case DType::BF16:
    return mlir::fathom::DType::bf16;
  case DType::F8E4M3:
    return mlir::fathom::DType::f8e4m3;
  case DType::F8E5M2:
    return mlir::fathom::DType::f8e5m2;
  default:
    throw Error("model builder: weights of dtype " + std::string(dtypeName(dtype)) +
                " are not supported");
  }
}

mlir::fathom::RopeAttr ropeAttr(mlir::MLIRContext& context, const frontend::RopeConfig& rope,
                                int64_t dim, int64_t maxPositions, int64_t maxSeqLen) {
  mlir::fathom::RopeScaling scaling = mlir::fathom::RopeScaling::none;
  double attentionFactor = 1.0;
  std::vector<float> divisors; // longrope, as torch.tensor(short_factor, dtype=float32) holds them
  switch (rope.type) {
  case frontend::RopeType::Default:
    break;
  case frontend::RopeType::Dynamic:
    // HF's dynamic_rope_update recomputes the frequencies from a call's longest position only
    // once that exceeds max_position_embeddings; below it they are the default ones.
    if (maxSeqLen > maxPositions)
      throw Error("model builder: rope type dynamic rescales its frequencies per call beyond "
                  "max_position_embeddings (" +
                  std::to_string(maxPositions) + "), which a compiled table cannot do; compile " +
                  "with a max sequence length of at most " + std::to_string(maxPositions) +
                  " (got " + std::to_string(maxSeqLen) + ")");
    break;
  case frontend::RopeType::Linear:
    scaling = mlir::fathom::RopeScaling::linear;
    break;
  case frontend::RopeType::Llama3:
    scaling = mlir::fathom::RopeScaling::llama3;
    break;
  case frontend::RopeType::LongRope:
    // longrope_frequency_update switches every frequency to long_factor for a call whose longest
    // position passes original_max_position_embeddings; below it short_factor holds.
    if (maxSeqLen > rope.originalMaxPositionEmbeddings)
      throw Error("model builder: rope type longrope switches to long_factor per call beyond "
                  "original_max_position_embeddings (" +
                  std::to_string(rope.originalMaxPositionEmbeddings) +
                  "), which a compiled table cannot do; compile with a max sequence length of " +
                  "at most " + std::to_string(rope.originalMaxPositionEmbeddings) + " (got " +
                  std::to_string(maxSeqLen) + ")");
    if (int64_t(rope.shortFactor.size()) != dim / 2)
      throw Error("model builder: longrope short_factor has " +
                  std::to_string(rope.shortFactor.size()) + " entries for " +
                  std::to_string(dim / 2) + " rotary frequencies");
    scaling = mlir::fathom::RopeScaling::longrope;
    attentionFactor = rope.attentionFactor.value_or(
        rope.factor <= 1.0
            ? 1.0
            : std::sqrt(1.0 + std::log(rope.factor) /
                                  std::log(double(rope.originalMaxPositionEmbeddings))));
    divisors.assign(rope.shortFactor.begin(), rope.shortFactor.end());
    break;
  case frontend::RopeType::Yarn:
    scaling = mlir::fathom::RopeScaling::yarn;
    // HF _compute_yarn_parameters: an explicit attention_factor wins; else the ratio of the two
    // mscales when both are set (1.0 for V3); else get_mscale(factor).
    if (rope.attentionFactor)
      attentionFactor = *rope.attentionFactor;
    else if (rope.mscale && rope.mscaleAllDim && *rope.mscale != 0 && *rope.mscaleAllDim != 0)
      attentionFactor =
          yarnMscale(rope.factor, *rope.mscale) / yarnMscale(rope.factor, *rope.mscaleAllDim);
    else
      attentionFactor = yarnMscale(rope.factor);
    break;
  }
  int64_t original =
      rope.originalMaxPositionEmbeddings > 0 ? rope.originalMaxPositionEmbeddings : maxPositions;
  return mlir::fathom::RopeAttr::get(
      &context, llvm::APFloat(rope.theta), dim, scaling, llvm::APFloat(rope.factor), original,
      llvm::APFloat(rope.betaFast), llvm::APFloat(rope.betaSlow), llvm::APFloat(attentionFactor),
      rope.truncate, llvm::APFloat(rope.lowFreqFactor), llvm::APFloat(rope.highFreqFactor),
      divisors.empty() ? mlir::DenseF32ArrayAttr()
                       : mlir::DenseF32ArrayAttr::get(&context, divisors));
}

int64_t compiledMaxSeqLen(mlir::ModuleOp module) {
  auto limit = module->getAttrOfType<mlir::IntegerAttr>(mlir::fathom::kMaxSeqLenAttr);
  if (!limit)
    throw Error("model builder: the module has no max_seq_len");
  return limit.getInt();
}

double yarnMscale(double factor, double mscale) {
  return factor <= 1.0 ? 1.0 : 0.1 * mscale * std::log(factor) + 1.0;
}

mlir::OwningOpRef<mlir::ModuleOp> createModelModule(mlir::MLIRContext& context,
                                                    const frontend::ModelConfig& config,
                                                    const BuildOptions& options) {
  if (options.maxSeqLen < 1 || options.maxBatch < 1)
    throw Error("model builder: max sequence length and max batch must be at least 1");
  context.loadDialect<mlir::fathom::FathomDialect, mlir::func::FuncDialect>();
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::ModuleOp::create(mlir::UnknownLoc::get(&context));
  mlir::Builder builder(&context);
  (*module)->setAttr(mlir::fathom::kModelTypeAttr,
                     builder.getStringAttr(frontend::modelTypeName(config.modelType)));
  (*module)->setAttr(mlir::fathom::kMaxSeqLenAttr, builder.getI64IntegerAttr(options.maxSeqLen));
  (*module)->setAttr(mlir::fathom::kMaxBatchAttr, builder.getI64IntegerAttr(options.maxBatch));
  return module;
}

} // namespace fathom::models
