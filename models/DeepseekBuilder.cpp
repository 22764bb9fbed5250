// The DeepSeek-V3 / V2 network as fathom ops, reading like DeepSeek's inference/model.py:
// embedding, then per layer rms_norm -> MLA -> residual -> rms_norm -> dense MLP or MoE ->
// residual, then the final norm and the head. Numerics follow shared/reference/model-spec.md.
#include "models/DeepseekBuilder.h"

#include "dialects/fathom/FathomDialect.h"
#include "fathom/runtime/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <cmath>
#include <unordered_map>

namespace fathom::models {
namespace {

using frontend::DeepseekConfig;
using frontend::ModelConfig;
using frontend::RopeType;

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

// Declares each checkpoint tensor as a fathom.param the first time an op refers to it.
class ParamTable {
public:
  ParamTable(mlir::ModuleOp module, const frontend::TensorStore& tensors, DType compute)
      : module_(module), tensors_(tensors), compute_(compute) {}

  // `keepDtype`: the weight keeps its checkpoint dtype (the fp32 router bias of V3).
  mlir::FlatSymbolRefAttr get(const std::string& name, bool keepDtype = false) {
    if (auto found = declared_.find(name); found != declared_.end())
      return found->second;
    frontend::TensorView view = tensors_.get(name);
    mlir::OpBuilder builder = mlir::OpBuilder::atBlockEnd(module_.getBody());
    mlir::MLIRContext& context = *module_.getContext();
    llvm::SmallVector<int64_t> shape(view.shape.begin(), view.shape.end());
    mlir::FlatSymbolRefAttr symbol = mlir::FlatSymbolRefAttr::get(&context, name);
    auto loc = builder.getUnknownLoc();
    if (view.dtype == DType::F8E4M3) {
      mlir::FlatSymbolRefAttr scale = get(name + "_scale_inv", /*keepDtype=*/true);
      auto quant =
          mlir::fathom::BlockQuantAttr::get(&context, mlir::fathom::DType::f8e4m3, kBlock, kBlock);
      auto type = mlir::RankedTensorType::get(shape, elementType(context, DType::F8E4M3));
      mlir::fathom::ParamOp::create(builder, loc, name, type, builder.getStringAttr(name), nullptr,
                                    quant, scale, nullptr);
    } else {
      DType stored = keepDtype ? view.dtype : compute_;
      auto type = mlir::RankedTensorType::get(shape, elementType(context, stored));
      mlir::fathom::DTypeAttr sourceDtype;
      if (stored != view.dtype)
        sourceDtype = mlir::fathom::DTypeAttr::get(&context, dialectDType(view.dtype));
      mlir::fathom::ParamOp::create(builder, loc, name, type, builder.getStringAttr(name),
                                    sourceDtype, nullptr, nullptr, nullptr);
    }
    declared_.emplace(name, symbol);
    return symbol;
  }

  // A weight stored contiguously inside `source` from element `offset` on, with `shape`: one
  // expert's slice of a fused expert tensor. Declared under its per-expert hub name.
  mlir::FlatSymbolRefAttr getSlice(const std::string& name, const std::string& source,
                                   int64_t offset, llvm::ArrayRef<int64_t> shape) {
    frontend::TensorView view = tensors_.get(source);
    if (view.dtype == DType::F8E4M3)
      throw Error("model builder: " + source +
                  ": FP8 fused expert tensors are not supported yet (use the per-expert layout)");
    int64_t count = 1;
    for (int64_t dim : shape)
      count *= dim;
    if (offset < 0 || offset + count > view.numel())
      throw Error("model builder: " + name + " would lie outside " + source + " " +
                  frontend::formatShape(view.shape));
    mlir::OpBuilder builder = mlir::OpBuilder::atBlockEnd(module_.getBody());
    mlir::MLIRContext& context = *module_.getContext();
    auto type = mlir::RankedTensorType::get(shape, elementType(context, compute_));
    mlir::fathom::DTypeAttr sourceDtype;
    if (compute_ != view.dtype)
      sourceDtype = mlir::fathom::DTypeAttr::get(&context, dialectDType(view.dtype));
    mlir::fathom::ParamOp::create(builder, builder.getUnknownLoc(), name, type,
                                  builder.getStringAttr(source), sourceDtype, nullptr, nullptr,
                                  builder.getI64IntegerAttr(offset));
    auto symbol = mlir::FlatSymbolRefAttr::get(&context, name);
    declared_.emplace(name, symbol);
    return symbol;
  }

  bool has(const std::string& name) const { return tensors_.find(name).has_value(); }

private:
  static constexpr int64_t kBlock = 128;
  mlir::ModuleOp module_;
  const frontend::TensorStore& tensors_;
  DType compute_;
  std::unordered_map<std::string, mlir::FlatSymbolRefAttr> declared_;
};

mlir::fathom::RopeAttr ropeAttr(mlir::MLIRContext& context, const DeepseekConfig& config) {
  const frontend::RopeConfig& rope = config.rope;
  mlir::fathom::RopeScaling scaling;
  double attentionFactor = 1.0;
  switch (rope.type) {
  case RopeType::Default:
    scaling = mlir::fathom::RopeScaling::none;
    break;
  case RopeType::Linear:
    scaling = mlir::fathom::RopeScaling::linear;
    break;
  case RopeType::Yarn:
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
  default:
    throw Error("model builder: rope type " + std::string(frontend::ropeTypeName(rope.type)) +
                " is not supported for DeepSeek models (default, linear or yarn)");
  }
  int64_t original = rope.originalMaxPositionEmbeddings > 0 ? rope.originalMaxPositionEmbeddings
                                                            : config.maxPositionEmbeddings;
  return mlir::fathom::RopeAttr::get(&context, llvm::APFloat(rope.theta), config.qkRopeHeadDim,
                                     config.ropeInterleave, scaling, llvm::APFloat(rope.factor),
                                     original, llvm::APFloat(rope.betaFast),
                                     llvm::APFloat(rope.betaSlow), llvm::APFloat(attentionFactor));
}

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
                  const frontend::TensorStore& tensors, DType compute)
      : context_(*module.getContext()), builder_(&context_), model_(model), config_(config),
        params_(module, tensors, compute), act_(elementType(context_, compute)) {}

  void emitForward(mlir::ModuleOp module) {
    auto dyn = mlir::ShapedType::kDynamic;
    auto ids = mlir::RankedTensorType::get({dyn, dyn}, builder_.getI32Type());
    auto positions = mlir::RankedTensorType::get({dyn, dyn}, builder_.getI64Type());
    auto keyMask = mlir::RankedTensorType::get({dyn, dyn}, builder_.getI1Type());
    auto outType = tensor3(headWidth());
    builder_.setInsertionPointToEnd(module.getBody());
    auto func = mlir::func::FuncOp::create(
        builder_, loc(), "forward", builder_.getFunctionType({ids, positions, keyMask}, {outType}));
    mlir::Block* body = func.addEntryBlock();
    builder_.setInsertionPointToStart(body);
    positions_ = body->getArgument(1);
    keyMask_ = body->getArgument(2);

    mlir::Value hidden = mlir::fathom::EmbeddingOp::create(
        builder_, loc(), tensor3(config_.hiddenSize), body->getArgument(0),
        params_.get("model.embed_tokens.weight"));
    for (int64_t layer = 0; layer < config_.numHiddenLayers; ++layer)
      hidden = emitDecoderLayer(hidden, layer);
    hidden = rmsNorm(hidden, "model.norm.weight", config_.rmsNormEps);
    mlir::func::ReturnOp::create(builder_, loc(), emitHead(hidden));
  }

private:
  mlir::Location loc() { return builder_.getUnknownLoc(); }
  mlir::RankedTensorType tensor3(int64_t width) {
    auto dyn = mlir::ShapedType::kDynamic;
    return mlir::RankedTensorType::get({dyn, dyn, width}, act_);
  }
  static std::string layerPrefix(int64_t layer) {
    return "model.layers." + std::to_string(layer) + ".";
  }

  int64_t headWidth() const {
    return model_.head == frontend::HeadKind::CausalLM ? config_.vocabSize : model_.numLabels;
  }

  mlir::Value rmsNorm(mlir::Value input, const std::string& weight, double eps) {
    return mlir::fathom::RmsNormOp::create(builder_, loc(), input, params_.get(weight),
                                           builder_.getF32FloatAttr(float(eps)));
  }

  mlir::Value linear(mlir::Value input, const std::string& weight, int64_t outWidth,
                     const std::string& bias = "") {
    mlir::FlatSymbolRefAttr biasSymbol = bias.empty() ? nullptr : params_.get(bias);
    return mlir::fathom::LinearOp::create(builder_, loc(), tensor3(outWidth), input,
                                          params_.get(weight), biasSymbol);
  }

  mlir::Value add(mlir::Value lhs, mlir::Value rhs) {
    return mlir::fathom::AddOp::create(builder_, loc(), lhs, rhs);
  }

  // down(silu(gate(x)) * up(x)): the dense MLP and the shared experts.
  mlir::Value gatedMlp(mlir::Value input, const std::string& prefix, int64_t width) {
    if (config_.mlpBias)
      throw Error("model builder: MLP biases (mlp_bias) are not supported yet");
    mlir::Value gate = linear(input, prefix + "gate_proj.weight", width);
    mlir::Value up = linear(input, prefix + "up_proj.weight", width);
    mlir::Value activated = mlir::fathom::SiluMulOp::create(builder_, loc(), gate, up);
    return linear(activated, prefix + "down_proj.weight", config_.hiddenSize);
  }

  mlir::Value attention(mlir::Value input, int64_t layer) {
    std::string p = layerPrefix(layer) + "self_attn.";
    auto sym = [&](const std::string& name) { return params_.get(p + name); };
    auto optionalBias = [&](const std::string& name) -> mlir::FlatSymbolRefAttr {
      return config_.attentionBias ? sym(name) : nullptr;
    };
    bool lora = config_.qLoraRank.has_value();
    auto i64 = [&](int64_t value) { return builder_.getI64IntegerAttr(value); };
    return mlir::fathom::MlaAttentionOp::create(
        builder_, loc(), input.getType(), input, positions_, keyMask_, i64(layer),
        i64(config_.numAttentionHeads), i64(config_.qkNopeHeadDim), i64(config_.qkRopeHeadDim),
        i64(config_.vHeadDim), i64(config_.kvLoraRank),
        builder_.getF32FloatAttr(float(softmaxScale(config_))),
        // HF builds q_a_layernorm and kv_a_layernorm without passing eps: 1e-6 always.
        builder_.getF32FloatAttr(1e-6f), ropeAttr(context_, config_),
        lora ? nullptr : sym("q_proj.weight"), lora ? sym("q_a_proj.weight") : nullptr,
        lora ? sym("q_a_layernorm.weight") : nullptr, lora ? sym("q_b_proj.weight") : nullptr,
        sym("kv_a_proj_with_mqa.weight"), sym("kv_a_layernorm.weight"), sym("kv_b_proj.weight"),
        sym("o_proj.weight"), lora ? optionalBias("q_a_proj.bias") : nullptr,
        optionalBias("kv_a_proj_with_mqa.bias"), optionalBias("o_proj.bias"));
  }

  mlir::Value moe(mlir::Value input, int64_t layer) {
    std::string p = layerPrefix(layer) + "mlp.";
    bool fused = !params_.has(p + "experts.0.gate_proj.weight");
    int64_t topK = config_.numExpertsPerTok;
    auto dyn = mlir::ShapedType::kDynamic;
    auto weightsType = mlir::RankedTensorType::get({dyn, dyn, topK}, builder_.getF32Type());
    auto indicesType = mlir::RankedTensorType::get({dyn, dyn, topK}, builder_.getI32Type());
    bool sigmoid = config_.scoringFunc == "sigmoid";
    auto router = mlir::fathom::MoeRouterOp::create(
        builder_, loc(), weightsType, indicesType, input, params_.get(p + "gate.weight"),
        config_.routerHasScoreBias ? params_.get(p + "gate.e_score_correction_bias", true)
                                   : nullptr,
        mlir::fathom::RouterScoringAttr::get(&context_, sigmoid
                                                            ? mlir::fathom::RouterScoring::sigmoid
                                                            : mlir::fathom::RouterScoring::softmax),
        builder_.getI64IntegerAttr(topK),
        builder_.getI64IntegerAttr(config_.topkMethod == "greedy" ? 1 : config_.nGroup.value_or(1)),
        builder_.getI64IntegerAttr(config_.topkMethod == "greedy" ? 1
                                                                  : config_.topkGroup.value_or(1)),
        builder_.getBoolAttr(config_.normTopkProb),
        builder_.getF32FloatAttr(float(config_.routedScalingFactor)));
    llvm::SmallVector<mlir::Attribute> gates, ups, downs;
    // transformers v5's fused layout: gate_up_proj [E, 2I, H] (gate rows, then up rows) and
    // down_proj [E, H, I]; each expert's matrices are contiguous slices of them.
    int64_t hidden = config_.hiddenSize, inter = config_.moeIntermediateSize;
    for (int64_t e = 0; e < config_.nRoutedExperts; ++e) {
      std::string expert = p + "experts." + std::to_string(e) + ".";
      if (fused) {
        std::string gateUp = p + "experts.gate_up_proj", down = p + "experts.down_proj";
        gates.push_back(params_.getSlice(expert + "gate_proj.weight", gateUp,
                                         e * 2 * inter * hidden, {inter, hidden}));
        ups.push_back(params_.getSlice(expert + "up_proj.weight", gateUp,
                                       e * 2 * inter * hidden + inter * hidden, {inter, hidden}));
        downs.push_back(params_.getSlice(expert + "down_proj.weight", down, e * hidden * inter,
                                         {hidden, inter}));
        continue;
      }
      gates.push_back(params_.get(expert + "gate_proj.weight"));
      ups.push_back(params_.get(expert + "up_proj.weight"));
      downs.push_back(params_.get(expert + "down_proj.weight"));
    }
    mlir::Value routed = mlir::fathom::ExpertFfnOp::create(
        builder_, loc(), input.getType(), input, router.getWeights(), router.getIndices(),
        builder_.getArrayAttr(gates), builder_.getArrayAttr(ups), builder_.getArrayAttr(downs));
    if (config_.nSharedExperts == 0)
      return routed;
    mlir::Value shared = gatedMlp(input, p + "shared_experts.",
                                  config_.moeIntermediateSize * config_.nSharedExperts);
    return add(routed, shared);
  }

  mlir::Value emitDecoderLayer(mlir::Value hidden, int64_t layer) {
    std::string p = layerPrefix(layer);
    mlir::Value normed = rmsNorm(hidden, p + "input_layernorm.weight", config_.rmsNormEps);
    hidden = add(hidden, attention(normed, layer));
    normed = rmsNorm(hidden, p + "post_attention_layernorm.weight", config_.rmsNormEps);
    mlir::Value ffn = config_.isMoeLayer(layer)
                          ? moe(normed, layer)
                          : gatedMlp(normed, p + "mlp.", config_.intermediateSize);
    return add(hidden, ffn);
  }

  mlir::Value emitHead(mlir::Value hidden) {
    switch (model_.head) {
    case frontend::HeadKind::CausalLM: {
      std::string weight =
          model_.tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight";
      return mlir::fathom::LmHeadOp::create(builder_, loc(), tensor3(config_.vocabSize), hidden,
                                            params_.get(weight));
    }
    case frontend::HeadKind::SequenceClassification:
    case frontend::HeadKind::TokenClassification:
      // Scores at every position; sequence classification pools the last non-pad row at run
      // time (HF GenericForSequenceClassification).
      return linear(hidden, "score.weight", model_.numLabels,
                    model_.scoreHasBias ? "score.bias" : "");
    case frontend::HeadKind::VisionLanguage:
      break;
    }
    throw Error("model builder: a DeepSeek text model cannot have a vision-language head");
  }

  mlir::MLIRContext& context_;
  mlir::OpBuilder builder_;
  const ModelConfig& model_;
  const DeepseekConfig& config_;
  ParamTable params_;
  mlir::Type act_;
  mlir::Value positions_;
  mlir::Value keyMask_;
};

} // namespace

double yarnMscale(double factor, double mscale) {
  return factor <= 1.0 ? 1.0 : 0.1 * mscale * std::log(factor) + 1.0;
}

mlir::OwningOpRef<mlir::ModuleOp> buildDeepseek(mlir::MLIRContext& context,
                                                const frontend::ModelConfig& config,
                                                const frontend::TensorStore& tensors,
                                                const BuildOptions& options) {
  const DeepseekConfig* deepseek = config.deepseek();
  if (!deepseek)
    throw Error("model builder: " + std::string(frontend::modelTypeName(config.modelType)) +
                " is not a deepseek_v3/deepseek_v2 model");
  context.loadDialect<mlir::fathom::FathomDialect, mlir::func::FuncDialect>();
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::ModuleOp::create(mlir::UnknownLoc::get(&context));
  // The lowering picks DeepSeek-V2's complex-pair RoPE by model type.
  (*module)->setAttr("fathom.model_type",
                     mlir::StringAttr::get(&context, frontend::modelTypeName(config.modelType)));
  DeepseekEmitter(*module, config, *deepseek, tensors, options.compute).emitForward(*module);
  return module;
}

} // namespace fathom::models
