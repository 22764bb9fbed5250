// The DeepSeek-V3 / V2 network as fathom ops, reading like DeepSeek's inference/model.py:
// embedding, then per layer rms_norm -> MLA -> residual -> rms_norm -> dense MLP or MoE ->
// residual, then the final norm and the head. Numerics follow shared/reference/model-spec.md.
#include "models/DeepseekBuilder.h"

#include "models/BuilderSupport.h"

#include "dialects/fathom/FathomConventions.h"
#include "dialects/fathom/FathomDialect.h"
#include "fathom/frontend/DeepseekTensors.h"
#include "fathom/frontend/Fp8Dequant.h"
#include "fathom/runtime/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <cmath>
#include <unordered_map>

namespace fathom::models {
namespace {

using frontend::DeepseekConfig;
using frontend::ModelConfig;
using frontend::ProjectionNames;
using frontend::RopeType;

// qk_head_dim^-0.5, times mscale(factor, mscale_all_dim)^2 for YaRN. transformers 5.23 applies
// the correction in deepseek_v2 too (test/reference/README.md), unlike the older port.
double softmaxScale(const DeepseekConfig& config) {
  double scale = 1.0 / std::sqrt(double(config.qkHeadDim()));
  const frontend::RopeConfig& rope = config.rope;
  if (rope.type == RopeType::Yarn && rope.mscaleAllDim && *rope.mscaleAllDim != 0) {
    double m = yarnMscale(rope.factor, *rope.mscaleAllDim);
    scale *= m * m;
  }
  return scale;
}

class DeepseekEmitter {
public:
  DeepseekEmitter(mlir::ModuleOp module, const ModelConfig& model, const DeepseekConfig& config,
                  const frontend::WeightCatalog& weights, DType compute)
      : context_(*module.getContext()), builder_(&context_), model_(model), config_(config),
        names_(frontend::deepseekModelNames(model)), params_(module, weights, compute),
        act_(elementType(context_, compute)), maxSeqLen_(compiledMaxSeqLen(module)) {}

  void emitModel(mlir::ModuleOp module) {
    auto dyn = mlir::ShapedType::kDynamic;
    auto i64 = builder_.getI64Type();
    bool causal = model_.head == frontend::HeadKind::CausalLM;
    std::vector<std::pair<const char*, mlir::Type>> inputs = {
        {mlir::fathom::kIdsInput, mlir::RankedTensorType::get({dyn, dyn}, i64)},
        {mlir::fathom::kPositionsInput, mlir::RankedTensorType::get({dyn, dyn}, i64)},
        {mlir::fathom::kKeyMaskInput,
         mlir::RankedTensorType::get({dyn, dyn}, builder_.getI1Type())}};
    if (causal) {
      inputs.push_back({mlir::fathom::kCacheStartInput, mlir::RankedTensorType::get({dyn}, i64)});
      inputs.push_back({mlir::fathom::kHeadRowsInput, mlir::RankedTensorType::get({dyn}, i64)});
    }
    llvm::SmallVector<mlir::Type> argumentTypes;
    for (auto& input : inputs)
      argumentTypes.push_back(input.second);
    builder_.setInsertionPointToEnd(module.getBody());
    auto func = mlir::func::FuncOp::create(builder_, loc(), mlir::fathom::kModelFunction,
                                           builder_.getFunctionType(argumentTypes, {}));
    std::vector<llvm::StringRef> entries =
        causal ? std::vector<llvm::StringRef>{mlir::fathom::kPrefill, mlir::fathom::kDecode}
               : std::vector<llvm::StringRef>{mlir::fathom::kClassify};
    func->setAttr(mlir::fathom::kEntryPointsAttr, builder_.getStrArrayAttr(entries));
    params_.declareBefore(func);
    for (size_t i = 0; i < inputs.size(); ++i)
      func.setArgAttr(unsigned(i), mlir::fathom::kInputAttr,
                      builder_.getStringAttr(inputs[i].first));
    mlir::Block* body = func.addEntryBlock();
    builder_.setInsertionPointToStart(body);
    ids_ = body->getArgument(0);
    positions_ = body->getArgument(1);
    keyMask_ = body->getArgument(2);
    if (causal) {
      cacheStart_ = body->getArgument(3);
      headRows_ = body->getArgument(4);
    }

    mlir::Value hidden = mlir::fathom::EmbeddingOp::create(
        builder_, loc(), tensor3(config_.hiddenSize), ids_, params_.get(names_.embedding),
        /*vocab_start=*/nullptr, /*vocab_size=*/nullptr);
    for (int64_t layer = 0; layer < config_.numHiddenLayers; ++layer)
      hidden = emitDecoderLayer(hidden, layer);
    hidden = rmsNorm(hidden, names_.finalNorm, config_.rmsNormEps);
    mlir::Value out = emitHead(hidden);
    mlir::func::ReturnOp::create(builder_, loc(), out);
    func.setType(builder_.getFunctionType(argumentTypes, {out.getType()}));
  }

private:
  mlir::Location loc() { return builder_.getUnknownLoc(); }
  mlir::RankedTensorType tensor3(int64_t width) {
    auto dyn = mlir::ShapedType::kDynamic;
    return mlir::RankedTensorType::get({dyn, dyn, width}, act_);
  }
  mlir::RankedTensorType rows(int64_t width) {
    return mlir::RankedTensorType::get({mlir::ShapedType::kDynamic, width}, act_);
  }

  mlir::Value rmsNorm(mlir::Value input, const std::string& weight, double eps) {
    return mlir::fathom::RmsNormOp::create(builder_, loc(), input, params_.get(weight),
                                           builder_.getF32FloatAttr(float(eps)));
  }

  mlir::Value linear(mlir::Value input, const ProjectionNames& names, mlir::Type resultType) {
    return mlir::fathom::LinearOp::create(builder_, loc(), resultType, input,
                                          params_.get(names.weight), params_.bias(names));
  }

  mlir::Value add(mlir::Value lhs, mlir::Value rhs) {
    return mlir::fathom::AddOp::create(builder_, loc(), lhs, rhs);
  }

  // down(silu(gate(x)) * up(x)): the dense MLP and the shared experts (V2 may give them biases).
  mlir::Value gatedMlp(mlir::Value input, const frontend::GatedMlpNames& names, int64_t width) {
    mlir::Value gate = linear(input, names.gate, tensor3(width));
    mlir::Value up = linear(input, names.up, tensor3(width));
    mlir::Value activated = mlir::fathom::SiluMulOp::create(builder_, loc(), gate, up);
    return linear(activated, names.down, tensor3(config_.hiddenSize));
  }

  mlir::Value attention(mlir::Value input, int64_t layer, const frontend::MlaNames& names) {
    auto sym = [&](const std::string& name) { return params_.get(name); };
    bool lora = !names.qProj;
    auto i64 = [&](int64_t value) { return builder_.getI64IntegerAttr(value); };
    return mlir::fathom::MlaAttentionOp::create(
        builder_, loc(), input.getType(), input, positions_, keyMask_, cacheStart_, i64(layer),
        i64(config_.numAttentionHeads), i64(config_.qkNopeHeadDim), i64(config_.qkRopeHeadDim),
        i64(config_.vHeadDim), i64(config_.kvLoraRank),
        builder_.getF32FloatAttr(float(softmaxScale(config_))),
        // HF builds q_a_layernorm and kv_a_layernorm without passing eps: 1e-6 always.
        builder_.getF32FloatAttr(1e-6f),
        ropeAttr(context_, config_.rope, config_.qkRopeHeadDim, config_.maxPositionEmbeddings,
                 maxSeqLen_),
        ropeMode(), lora ? nullptr : sym(names.qProj->weight),
        lora ? sym(names.qAProj.weight) : nullptr, lora ? sym(names.qALayernorm) : nullptr,
        lora ? sym(names.qBProj.weight) : nullptr, sym(names.kvAProj.weight),
        sym(names.kvALayernorm), sym(names.kvBProj.weight), sym(names.oProj.weight),
        lora ? params_.bias(names.qAProj) : nullptr, params_.bias(names.kvAProj),
        params_.bias(names.oProj));
  }

  // How HF rotates: V2's apply_rotary_emb multiplies complex pairs in fp32; V3 rotates halves,
  // after de-interleaving pairs when rope_interleave is set.
  mlir::fathom::RopeModeAttr ropeMode() {
    mlir::fathom::RopeMode mode = mlir::fathom::RopeMode::rotate_half;
    if (model_.modelType == frontend::ModelType::DeepseekV2)
      mode = mlir::fathom::RopeMode::complex;
    else if (config_.ropeInterleave)
      mode = mlir::fathom::RopeMode::interleaved;
    return mlir::fathom::RopeModeAttr::get(&context_, mode);
  }

  mlir::Value moe(mlir::Value input, const frontend::MoeNames& names) {
    bool fused = !params_.has(names.experts.front().gate.weight);
    int64_t topK = config_.numExpertsPerTok;
    auto dyn = mlir::ShapedType::kDynamic;
    auto weightsType = mlir::RankedTensorType::get({dyn, dyn, topK}, builder_.getF32Type());
    auto indicesType = mlir::RankedTensorType::get({dyn, dyn, topK}, builder_.getI32Type());
    bool sigmoid = config_.scoringFunc == "sigmoid";
    bool greedy = config_.topkMethod == "greedy";
    auto router = mlir::fathom::MoeRouterOp::create(
        builder_, loc(), weightsType, indicesType, input, params_.get(names.router),
        names.scoreBias.empty() ? nullptr : params_.get(names.scoreBias, /*keepDtype=*/true),
        mlir::fathom::RouterScoringAttr::get(&context_, sigmoid
                                                            ? mlir::fathom::RouterScoring::sigmoid
                                                            : mlir::fathom::RouterScoring::softmax),
        builder_.getI64IntegerAttr(topK),
        builder_.getI64IntegerAttr(greedy ? 1 : config_.nGroup.value_or(1)),
        builder_.getI64IntegerAttr(greedy ? 1 : config_.topkGroup.value_or(1)),
        // HF's V2 router never renormalizes, whatever the config says.
        builder_.getBoolAttr(model_.modelType != frontend::ModelType::DeepseekV2 &&
                             config_.normTopkProb),
        builder_.getF32FloatAttr(float(config_.routedScalingFactor)));
    llvm::SmallVector<mlir::Attribute> gates, ups, downs;
    int64_t hidden = config_.hiddenSize, inter = config_.moeIntermediateSize;
    for (int64_t e = 0; e < config_.nRoutedExperts; ++e) {
      const frontend::GatedMlpNames& expert = names.experts[size_t(e)];
      if (fused) {
        // Each expert's matrices are contiguous slices of the fused tensors.
        gates.push_back(params_.getSlice(expert.gate.weight, names.fusedGateUp,
                                         e * 2 * inter * hidden, {inter, hidden}));
        ups.push_back(params_.getSlice(expert.up.weight, names.fusedGateUp,
                                       e * 2 * inter * hidden + inter * hidden, {inter, hidden}));
        downs.push_back(params_.getSlice(expert.down.weight, names.fusedDown, e * hidden * inter,
                                         {hidden, inter}));
        continue;
      }
      gates.push_back(params_.get(expert.gate.weight));
      ups.push_back(params_.get(expert.up.weight));
      downs.push_back(params_.get(expert.down.weight));
    }
    mlir::Value routed = mlir::fathom::ExpertFfnOp::create(
        builder_, loc(), input.getType(), input, router.getWeights(), router.getIndices(),
        builder_.getArrayAttr(gates), builder_.getArrayAttr(ups), builder_.getArrayAttr(downs),
        /*expert_start=*/nullptr);
    if (!names.shared)
      return routed;
    mlir::Value shared = gatedMlp(input, *names.shared, inter * config_.nSharedExperts);
    return add(routed, shared);
  }

  mlir::Value emitDecoderLayer(mlir::Value hidden, int64_t layer) {
    frontend::DeepseekLayerNames names = frontend::deepseekLayerNames(model_, layer);
    mlir::Value normed = rmsNorm(hidden, names.inputNorm, config_.rmsNormEps);
    hidden = add(hidden, attention(normed, layer, names.attention));
    normed = rmsNorm(hidden, names.postAttentionNorm, config_.rmsNormEps);
    mlir::Value ffn = names.moe ? moe(normed, *names.moe)
                                : gatedMlp(normed, *names.mlp, config_.intermediateSize);
    return add(hidden, ffn);
  }

  mlir::Value selectRows(mlir::Value hidden, mlir::Value rowIndices) {
    return mlir::fathom::SelectRowsOp::create(builder_, loc(), rows(config_.hiddenSize), hidden,
                                              rowIndices);
  }

  mlir::Value emitHead(mlir::Value hidden) {
    switch (model_.head) {
    case frontend::HeadKind::CausalLM: {
      // Only the rows the caller asks for (each prompt's last position, or all) reach the head.
      mlir::Value selected = selectRows(hidden, headRows_);
      std::string weight = model_.tieWordEmbeddings ? names_.embedding : names_.lmHead;
      return mlir::fathom::LmHeadOp::create(builder_, loc(), rows(config_.vocabSize), selected,
                                            params_.get(weight));
    }
    case frontend::HeadKind::SequenceClassification: {
      // HF GenericForSequenceClassification pools each sequence's last non-pad token (the last
      // position when the config has no pad id).
      auto rowsType =
          mlir::RankedTensorType::get({mlir::ShapedType::kDynamic}, builder_.getI64Type());
      mlir::Value last = mlir::fathom::LastTokenRowsOp::create(
          builder_, loc(), rowsType, ids_,
          builder_.getI64IntegerAttr(model_.tokens.pad.value_or(-1)));
      return linear(selectRows(hidden, last), names_.score, rows(model_.numLabels));
    }
    case frontend::HeadKind::TokenClassification:
      return linear(hidden, names_.score, tensor3(model_.numLabels));
    case frontend::HeadKind::VisionLanguage:
      break;
    }
    throw Error("model builder: a DeepSeek text model cannot have a vision-language head");
  }

  mlir::MLIRContext& context_;
  mlir::OpBuilder builder_;
  const ModelConfig& model_;
  const DeepseekConfig& config_;
  frontend::DeepseekModelNames names_;
  ParamTable params_;
  mlir::Type act_;
  int64_t maxSeqLen_;
  mlir::Value ids_, positions_, keyMask_, cacheStart_, headRows_;
};

} // namespace

mlir::OwningOpRef<mlir::ModuleOp> buildDeepseek(mlir::MLIRContext& context,
                                                const frontend::ModelConfig& config,
                                                const frontend::WeightCatalog& weights,
                                                const BuildOptions& options) {
  const DeepseekConfig* deepseek = config.deepseek();
  if (!deepseek)
    throw Error("model builder: " + std::string(frontend::modelTypeName(config.modelType)) +
                " is not a deepseek_v3/deepseek_v2 model");
  mlir::OwningOpRef<mlir::ModuleOp> module = createModelModule(context, config, options);
  DeepseekEmitter(*module, config, *deepseek, weights, options.compute).emitModel(*module);
  return module;
}

} // namespace fathom::models
