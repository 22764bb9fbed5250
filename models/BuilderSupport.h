#pragma once
// What every model builder shares: dtype mapping, the params a module declares for checkpoint
// tensors, and the #fathom.rope attribute of a RoPE config.
#include "dialects/fathom/FathomDialect.h"
#include "fathom/frontend/DeepseekTensors.h"
#include "fathom/frontend/Fp8Dequant.h"
#include "fathom/frontend/ModelConfig.h"
#include "fathom/frontend/RopeConfig.h"
#include "fathom/frontend/WeightCatalog.h"
#include "fathom/runtime/DType.h"
#include "fathom/runtime/Error.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>
#include <unordered_map>

namespace fathom::models {

struct BuildOptions {
  // Activations and non-quantized weights; FP8 weights stay FP8 with their block scales.
  DType compute = DType::F32;
  // The limits the module is compiled for (module attributes the passes and the planner read).
  int64_t maxSeqLen = 4096;
  int64_t maxBatch = 1;
};

// An empty module with the attributes every builder sets (model type, max_seq_len, max_batch);
// throws when the limits are not positive.
mlir::OwningOpRef<mlir::ModuleOp> createModelModule(mlir::MLIRContext& context,
                                                    const frontend::ModelConfig& config,
                                                    const BuildOptions& options);

// The MLIR element type of a compute or weight dtype (F32, BF16, F8E4M3); throws otherwise.
mlir::Type elementType(mlir::MLIRContext& context, DType dtype);
mlir::fathom::DType dialectDType(DType dtype);

// HF's rope parameters as the #fathom.rope the passes compute cos/sin tables from: `dim` rotated
// dimensions, `maxPositions` the config's max_position_embeddings (YaRN's original context when
// the config has none), `maxSeqLen` the positions the module is compiled for (module's
// max_seq_len), which rope type dynamic must not exceed.
mlir::fathom::RopeAttr ropeAttr(mlir::MLIRContext& context, const frontend::RopeConfig& rope,
                                int64_t dim, int64_t maxPositions, int64_t maxSeqLen);

// The max_seq_len createModelModule set on `module`.
int64_t compiledMaxSeqLen(mlir::ModuleOp module);

// HF's YaRN magnitude correction: 0.1 * mscale * ln(factor) + 1 for factor > 1, else 1.
double yarnMscale(double factor, double mscale = 1.0);

// Declares each checkpoint tensor as a fathom.param the first time an op refers to it.
class ParamTable {
public:
  ParamTable(mlir::ModuleOp module, const frontend::WeightCatalog& weights, DType compute)
      : module_(module), weights_(weights), compute_(compute) {}

  // `keepDtype`: the weight keeps its checkpoint dtype (the fp32 router bias of V3).
  mlir::FlatSymbolRefAttr get(const std::string& name, bool keepDtype = false) {
    if (auto found = declared_.find(name); found != declared_.end())
      return found->second;
    frontend::WeightInfo info = weights_.get(name);
    mlir::OpBuilder builder = declarationBuilder();
    mlir::MLIRContext& context = *module_.getContext();
    llvm::SmallVector<int64_t> shape(info.shape.begin(), info.shape.end());
    mlir::FlatSymbolRefAttr symbol = mlir::FlatSymbolRefAttr::get(&context, name);
    auto loc = builder.getUnknownLoc();
    if (info.dtype == DType::F8E4M3) {
      mlir::FlatSymbolRefAttr scale = get(frontend::fp8ScaleName(name), /*keepDtype=*/true);
      auto quant =
          mlir::fathom::BlockQuantAttr::get(&context, mlir::fathom::DType::f8e4m3, kBlock, kBlock);
      auto type = mlir::RankedTensorType::get(shape, elementType(context, DType::F8E4M3));
      mlir::fathom::ParamOp::create(builder, loc, name, type, builder.getStringAttr(name), nullptr,
                                    quant, scale, nullptr, nullptr);
    } else {
      DType stored = keepDtype ? info.dtype : compute_;
      auto type = mlir::RankedTensorType::get(shape, elementType(context, stored));
      mlir::fathom::DTypeAttr sourceDtype;
      if (stored != info.dtype)
        sourceDtype = mlir::fathom::DTypeAttr::get(&context, dialectDType(info.dtype));
      mlir::fathom::ParamOp::create(builder, loc, name, type, builder.getStringAttr(name),
                                    sourceDtype, nullptr, nullptr, nullptr, nullptr);
    }
    declared_.emplace(name, symbol);
    return symbol;
  }

  // A bias, or null when the layer has none.
  mlir::FlatSymbolRefAttr bias(const frontend::ProjectionNames& names) {
    return names.bias.empty() ? nullptr : get(names.bias);
  }

  // A weight stored contiguously inside `source` from element `offset` on, with `shape`: one
  // expert's slice of a fused expert tensor. Declared under its per-expert hub name.
  mlir::FlatSymbolRefAttr getSlice(const std::string& name, const std::string& source,
                                   int64_t offset, llvm::ArrayRef<int64_t> shape) {
    frontend::WeightInfo info = weights_.get(source);
    if (info.dtype == DType::F8E4M3)
      throw Error("model builder: " + source +
                  ": FP8 fused expert tensors are not supported yet (use the per-expert layout)");
    int64_t count = 1, available = 1;
    for (int64_t dim : shape)
      count *= dim;
    for (int64_t dim : info.shape)
      available *= dim;
    if (offset < 0 || offset + count > available)
      throw Error("model builder: " + name + " would lie outside " + source + " " +
                  frontend::formatShape(info.shape));
    mlir::OpBuilder builder = declarationBuilder();
    mlir::MLIRContext& context = *module_.getContext();
    auto type = mlir::RankedTensorType::get(shape, elementType(context, compute_));
    mlir::fathom::DTypeAttr sourceDtype;
    if (compute_ != info.dtype)
      sourceDtype = mlir::fathom::DTypeAttr::get(&context, dialectDType(info.dtype));
    mlir::fathom::ParamOp::create(builder, builder.getUnknownLoc(), name, type,
                                  builder.getStringAttr(source), sourceDtype, nullptr, nullptr,
                                  builder.getI64IntegerAttr(offset), nullptr);
    auto symbol = mlir::FlatSymbolRefAttr::get(&context, name);
    declared_.emplace(name, symbol);
    return symbol;
  }

  bool has(const std::string& name) const { return weights_.find(name).has_value(); }

  // Params are declared ahead of `function`, so the module reads top-down.
  void declareBefore(mlir::Operation* function) { anchor_ = function; }

private:
  mlir::OpBuilder declarationBuilder() {
    mlir::OpBuilder builder = mlir::OpBuilder::atBlockEnd(module_.getBody());
    if (anchor_)
      builder.setInsertionPoint(anchor_);
    return builder;
  }

  static constexpr int64_t kBlock = 128;
  mlir::ModuleOp module_;
  const frontend::WeightCatalog& weights_;
  DType compute_;
  std::unordered_map<std::string, mlir::FlatSymbolRefAttr> declared_;
  mlir::Operation* anchor_ = nullptr;
};

} // namespace fathom::models
