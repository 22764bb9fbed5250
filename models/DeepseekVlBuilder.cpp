// DeepSeek-VL as fathom ops, reading like HF's DeepseekVLForConditionalGeneration: the LLaMA text
// model (embedding with the image embeddings scattered into the image tokens, per layer rms_norm
// -> attention -> residual -> rms_norm -> SwiGLU MLP -> residual, final norm, head) and the
// SigLIP vision tower with its aligner. Numerics follow shared/reference/model-spec.md part B.
#include "models/DeepseekVlBuilder.h"

#include "dialects/fathom/FathomConventions.h"
#include "fathom/frontend/DeepseekVlTensors.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <cmath>

namespace fathom::models {
namespace {

using frontend::DeepseekVlConfig;
using frontend::LlamaConfig;
using frontend::ModelConfig;
using frontend::ProjectionNames;

// SigLIP's MLP activation (vision_config.hidden_act); the aligner's GELU is always exact.
mlir::fathom::GeluApproximation visionGeluApproximation(frontend::Activation activation) {
  switch (activation) {
  case frontend::Activation::Gelu:
    return mlir::fathom::GeluApproximation::erf;
  case frontend::Activation::GeluTanh:
    return mlir::fathom::GeluApproximation::tanh;
  case frontend::Activation::GeluNew:
    return mlir::fathom::GeluApproximation::tanh_unfused;
  default:
    throw Error("model builder: vision_config.hidden_act \"" +
                std::string(frontend::activationName(activation)) +
                "\" is not supported (gelu, gelu_pytorch_tanh or gelu_new)");
  }
}

class DeepseekVlEmitter {
public:
  DeepseekVlEmitter(mlir::ModuleOp module, const ModelConfig& model,
                    const frontend::WeightCatalog& weights, DType compute)
      : context_(*module.getContext()), builder_(&context_), model_(model),
        config_(*model.deepseekVl()), text_(config_.text),
        visionPrefix_(frontend::deepseekVlVisionPrefix(
            [&](const std::string& name) { return weights.find(name).has_value(); })),
        names_(frontend::deepseekVlModelNames(visionPrefix_)), params_(module, weights, compute),
        act_(elementType(context_, compute)), maxSeqLen_(compiledMaxSeqLen(module)) {}

  void emitTextModel(mlir::ModuleOp module) {
    auto dyn = mlir::ShapedType::kDynamic;
    auto i64 = builder_.getI64Type();
    std::vector<std::pair<const char*, mlir::Type>> inputs = {
        {mlir::fathom::kIdsInput, mlir::RankedTensorType::get({dyn, dyn}, i64)},
        {mlir::fathom::kPositionsInput, mlir::RankedTensorType::get({dyn, dyn}, i64)},
        {mlir::fathom::kKeyMaskInput,
         mlir::RankedTensorType::get({dyn, dyn}, builder_.getI1Type())},
        {mlir::fathom::kCacheStartInput, mlir::RankedTensorType::get({dyn}, i64)},
        {mlir::fathom::kHeadRowsInput, mlir::RankedTensorType::get({dyn}, i64)},
        {mlir::fathom::kImageEmbeddingsInput,
         mlir::RankedTensorType::get({dyn, text_.hiddenSize}, builder_.getF32Type())}};
    mlir::Block* body = beginFunction(module, mlir::fathom::kModelFunction, inputs,
                                      {mlir::fathom::kPrefill, mlir::fathom::kDecode});
    positions_ = body->getArgument(1);
    keyMask_ = body->getArgument(2);
    cacheStart_ = body->getArgument(3);
    mlir::Value hidden = mlir::fathom::EmbeddingOp::create(
        builder_, loc(), tensor3(text_.hiddenSize), body->getArgument(0),
        params_.get(names_.embedding), nullptr, nullptr);
    // Each image's embeddings (encode_image's output) replace its image tokens' rows.
    hidden = mlir::fathom::MaskedScatterOp::create(
        builder_, loc(), hidden.getType(), hidden, body->getArgument(0), body->getArgument(5),
        builder_.getI64IntegerAttr(config_.imageTokenId));
    for (int64_t layer = 0; layer < text_.numHiddenLayers; ++layer)
      hidden = emitDecoderLayer(hidden, layer);
    hidden = rmsNorm(hidden, names_.finalNorm);
    mlir::Value selected = mlir::fathom::SelectRowsOp::create(
        builder_, loc(), rows(text_.hiddenSize), hidden, body->getArgument(4));
    std::string head = model_.tieWordEmbeddings ? names_.embedding : names_.lmHead;
    mlir::Value logits = mlir::fathom::LmHeadOp::create(builder_, loc(), rows(text_.vocabSize),
                                                        selected, params_.get(head));
    endFunction(logits);
  }

  // The vision tower and the aligner as `@vision` (entry point encode_image): one image per
  // sequence, its patches the tokens. pixel_values [images, channels * size * size] f32,
  // positions [images, patches] (0..patches - 1: the position embedding's rows), key_mask
  // [images, patches] -> image embeddings [images, patches, text hidden].
  void emitVisionTower(mlir::ModuleOp module) {
    const frontend::SiglipVisionConfig& vision = config_.vision;
    auto dyn = mlir::ShapedType::kDynamic;
    auto i64 = builder_.getI64Type();
    const int64_t size = vision.imageSize, patch = vision.patchSize, channels = vision.numChannels;
    const int64_t patches = vision.numPatches(), width = vision.hiddenSize;
    std::vector<std::pair<const char*, mlir::Type>> inputs = {
        {mlir::fathom::kPixelValuesInput,
         mlir::RankedTensorType::get({dyn, channels * size * size}, builder_.getF32Type())},
        {mlir::fathom::kPositionsInput, mlir::RankedTensorType::get({dyn, dyn}, i64)},
        {mlir::fathom::kKeyMaskInput,
         mlir::RankedTensorType::get({dyn, dyn}, builder_.getI1Type())}};
    mlir::Block* body = beginFunction(module, "vision", inputs, {mlir::fathom::kEncodeImage});
    function_->setAttr(mlir::fathom::kMaxTokensAttr, builder_.getI64IntegerAttr(patches));
    // --quantize is for the text model's decode; the tower's GEMMs stay in the compute dtype.
    function_->setAttr(mlir::fathom::kUnquantizedAttr, builder_.getUnitAttr());
    mlir::Value keyMask = body->getArgument(2);
    auto i64Attr = [&](int64_t value) { return builder_.getI64IntegerAttr(value); };
    mlir::Value cut = mlir::fathom::PatchifyOp::create(
        builder_, loc(),
        mlir::RankedTensorType::get({dyn, patches, channels * patch * patch}, act_),
        body->getArgument(0), i64Attr(channels), i64Attr(size), i64Attr(size), i64Attr(patch));
    // Conv2d(stride = patch) is a linear over the patches with its weight [out, c, p, p] read
    // as the [out, c * p * p] matrix it already is in memory.
    auto kernel = params_.getSlice(names_.patchEmbedding, names_.patchEmbedding, 0,
                                   {width, channels * patch * patch});
    mlir::Value x = mlir::fathom::LinearOp::create(builder_, loc(), tensor3(width), cut, kernel,
                                                   params_.get(names_.patchEmbeddingBias));
    mlir::Value positions =
        mlir::fathom::EmbeddingOp::create(builder_, loc(), tensor3(width), body->getArgument(1),
                                          params_.get(names_.positionEmbedding), nullptr, nullptr);
    x = mlir::fathom::AddOp::create(builder_, loc(), x, positions);
    for (int64_t layer = 0; layer < vision.numHiddenLayers; ++layer)
      x = emitEncoderLayer(x, keyMask, layer);
    x = layerNorm(x, names_.postLayernorm);
    // The aligner: Linear, exact GELU, Linear into the text model's width.
    x = linear(x, names_.alignerLinear1, text_.hiddenSize);
    x = mlir::fathom::GeluOp::create(builder_, loc(), x);
    endFunction(linear(x, names_.alignerLinear2, text_.hiddenSize));
  }

private:
  mlir::Location loc() { return builder_.getUnknownLoc(); }

  mlir::Value layerNorm(mlir::Value input, const frontend::LayerNormNames& names) {
    return mlir::fathom::LayerNormOp::create(
        builder_, loc(), input, params_.get(names.weight), params_.get(names.bias),
        builder_.getF32FloatAttr(float(config_.vision.layerNormEps)));
  }

  // HF SiglipEncoderLayer: pre-LN attention (every projection biased, not causal, no RoPE) and
  // pre-LN MLP fc1 -> GELU -> fc2, each added to the residual.
  mlir::Value emitEncoderLayer(mlir::Value x, mlir::Value keyMask, int64_t layer) {
    const frontend::SiglipVisionConfig& vision = config_.vision;
    frontend::SiglipLayerNames names = frontend::siglipLayerNames(visionPrefix_, layer);
    const int64_t heads = vision.numAttentionHeads, headDim = vision.hiddenSize / heads;
    auto i64 = [&](int64_t value) { return builder_.getI64IntegerAttr(value); };
    mlir::Value attended = mlir::fathom::MultiHeadAttentionOp::create(
        builder_, loc(), x.getType(), layerNorm(x, names.layerNorm1), /*positions=*/mlir::Value(),
        keyMask, /*cache_start=*/mlir::Value(), i64(layer), i64(heads), i64(heads), i64(headDim),
        builder_.getF32FloatAttr(float(1.0 / std::sqrt(double(headDim)))), nullptr, nullptr,
        nullptr, params_.get(names.qProj.weight), params_.get(names.kProj.weight),
        params_.get(names.vProj.weight), params_.get(names.outProj.weight), bias(names.qProj),
        bias(names.kProj), bias(names.vProj), bias(names.outProj));
    x = mlir::fathom::AddOp::create(builder_, loc(), x, attended);
    mlir::Value h = linear(layerNorm(x, names.layerNorm2), names.fc1, vision.intermediateSize);
    h = mlir::fathom::GeluOp::create(builder_, loc(), h,
                                     visionGeluApproximation(config_.vision.hiddenAct));
    return mlir::fathom::AddOp::create(builder_, loc(), x, linear(h, names.fc2, vision.hiddenSize));
  }
  mlir::RankedTensorType tensor3(int64_t width) {
    auto dyn = mlir::ShapedType::kDynamic;
    return mlir::RankedTensorType::get({dyn, dyn, width}, act_);
  }
  mlir::RankedTensorType rows(int64_t width) {
    return mlir::RankedTensorType::get({mlir::ShapedType::kDynamic, width}, act_);
  }

  // A function whose arguments are the named run-time inputs; the body is built at its start.
  mlir::Block* beginFunction(mlir::ModuleOp module, llvm::StringRef name,
                             const std::vector<std::pair<const char*, mlir::Type>>& inputs,
                             const std::vector<llvm::StringRef>& entries) {
    llvm::SmallVector<mlir::Type> types;
    for (auto& input : inputs)
      types.push_back(input.second);
    builder_.setInsertionPointToEnd(module.getBody());
    function_ =
        mlir::func::FuncOp::create(builder_, loc(), name, builder_.getFunctionType(types, {}));
    function_->setAttr(mlir::fathom::kEntryPointsAttr, builder_.getStrArrayAttr(entries));
    params_.declareBefore(function_);
    for (size_t i = 0; i < inputs.size(); ++i)
      function_.setArgAttr(unsigned(i), mlir::fathom::kInputAttr,
                           builder_.getStringAttr(inputs[i].first));
    mlir::Block* body = function_.addEntryBlock();
    builder_.setInsertionPointToStart(body);
    return body;
  }

  void endFunction(mlir::Value result) {
    mlir::func::ReturnOp::create(builder_, loc(), result);
    function_.setType(builder_.getFunctionType(function_.getArgumentTypes(), {result.getType()}));
  }

  mlir::Value rmsNorm(mlir::Value input, const std::string& weight) {
    return mlir::fathom::RmsNormOp::create(builder_, loc(), input, params_.get(weight),
                                           builder_.getF32FloatAttr(float(text_.rmsNormEps)));
  }

  mlir::Value linear(mlir::Value input, const ProjectionNames& names, int64_t width) {
    return mlir::fathom::LinearOp::create(builder_, loc(), tensor3(width), input,
                                          params_.get(names.weight),
                                          names.bias.empty() ? nullptr : params_.get(names.bias));
  }

  mlir::FlatSymbolRefAttr bias(const ProjectionNames& names) { return params_.bias(names); }

  // HF LlamaAttention: whole-head rotate_half RoPE, scale head_dim^-0.5, causal, GQA groups.
  mlir::Value attention(mlir::Value input, int64_t layer, const frontend::LlamaLayerNames& names) {
    auto i64 = [&](int64_t value) { return builder_.getI64IntegerAttr(value); };
    auto rope =
        ropeAttr(context_, text_.rope, text_.headDim, text_.maxPositionEmbeddings, maxSeqLen_);
    auto mode = mlir::fathom::RopeModeAttr::get(&context_, mlir::fathom::RopeMode::rotate_half);
    return mlir::fathom::MultiHeadAttentionOp::create(
        builder_, loc(), input.getType(), input, positions_, keyMask_, cacheStart_, i64(layer),
        i64(text_.numAttentionHeads), i64(text_.numKeyValueHeads), i64(text_.headDim),
        builder_.getF32FloatAttr(float(1.0 / std::sqrt(double(text_.headDim)))),
        builder_.getUnitAttr(), rope, mode, params_.get(names.qProj.weight),
        params_.get(names.kProj.weight), params_.get(names.vProj.weight),
        params_.get(names.oProj.weight), bias(names.qProj), bias(names.kProj), bias(names.vProj),
        bias(names.oProj));
  }

  mlir::Value emitDecoderLayer(mlir::Value hidden, int64_t layer) {
    frontend::LlamaLayerNames names = frontend::llamaLayerNames(model_, layer);
    hidden = mlir::fathom::AddOp::create(builder_, loc(), hidden,
                                         attention(rmsNorm(hidden, names.inputNorm), layer, names));
    mlir::Value normed = rmsNorm(hidden, names.postAttentionNorm);
    mlir::Value gate = linear(normed, names.mlp.gate, text_.intermediateSize);
    mlir::Value up = linear(normed, names.mlp.up, text_.intermediateSize);
    mlir::Value activated = mlir::fathom::SiluMulOp::create(builder_, loc(), gate, up);
    return mlir::fathom::AddOp::create(builder_, loc(), hidden,
                                       linear(activated, names.mlp.down, text_.hiddenSize));
  }

  mlir::MLIRContext& context_;
  mlir::OpBuilder builder_;
  const ModelConfig& model_;
  const DeepseekVlConfig& config_;
  const LlamaConfig& text_;
  std::string visionPrefix_;
  frontend::DeepseekVlModelNames names_;
  ParamTable params_;
  mlir::Type act_;
  int64_t maxSeqLen_;
  mlir::func::FuncOp function_;
  mlir::Value positions_, keyMask_, cacheStart_;
};

} // namespace

mlir::OwningOpRef<mlir::ModuleOp> buildDeepseekVl(mlir::MLIRContext& context,
                                                  const frontend::ModelConfig& config,
                                                  const frontend::WeightCatalog& weights,
                                                  const BuildOptions& options) {
  const DeepseekVlConfig* vl = config.deepseekVl();
  if (!vl)
    throw Error("model builder: " + std::string(frontend::modelTypeName(config.modelType)) +
                " is not a deepseek_vl model");
  if (vl->text.hiddenAct != frontend::Activation::Silu)
    throw Error("model builder: text_config.hidden_act must be silu (LLaMA's SwiGLU MLP)");
  const frontend::SiglipVisionConfig& vision = vl->vision;
  visionGeluApproximation(vision.hiddenAct); // refuses what is not a GELU before building
  if (vision.visionUseHead)
    throw Error("model builder: vision_config.vision_use_head must be false (DeepSeek-VL uses the "
                "post-LayerNorm patch states, not the pooling head)");
  if (vision.patchSize < 1 || vision.imageSize % vision.patchSize != 0 ||
      vision.hiddenSize % vision.numAttentionHeads != 0)
    throw Error("model builder: vision_config: image_size must be a multiple of patch_size and "
                "hidden_size of num_attention_heads");
  mlir::OwningOpRef<mlir::ModuleOp> module = createModelModule(context, config, options);
  DeepseekVlEmitter emitter(*module, config, weights, options.compute);
  emitter.emitTextModel(*module);
  emitter.emitVisionTower(*module);
  return module;
}

} // namespace fathom::models
