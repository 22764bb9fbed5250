#include "fathom/frontend/ExpectedTensors.h"

#include "fathom/frontend/DeepseekTensors.h"
#include "fathom/frontend/DeepseekVlTensors.h"

namespace fathom::frontend {
namespace {
class TensorList {
public:
  explicit TensorList(std::vector<ExpectedTensor>& tensors) : tensors_(tensors) {}

  void add(std::string name, std::vector<int64_t> shape, const char* rule) {
    tensors_.push_back({std::move(name), std::move(shape), rule});
  }
  // A linear layer [out, in] and, when `bias`, its bias [out].
  void linear(const std::string& prefix, int64_t out, int64_t in, const char* rule, bool bias,
              const char* biasRule) {
    add(prefix + ".weight", {out, in}, rule);
    if (bias)
      add(prefix + ".bias", {out}, biasRule);
  }

  // A projection [out, in] and, when it has one, its bias [out].
  void projection(const ProjectionNames& names, int64_t out, int64_t in, const char* rule,
                  const char* biasRule) {
    add(names.weight, {out, in}, rule);
    if (!names.bias.empty())
      add(names.bias, {out}, biasRule);
  }

private:
  std::vector<ExpectedTensor>& tensors_;
};

void addMlaAttention(TensorList& list, const DeepseekConfig& model, const MlaNames& names) {
  const int64_t hidden = model.hiddenSize;
  const int64_t heads = model.numAttentionHeads;
  if (names.qProj) {
    list.projection(*names.qProj, heads * model.qkHeadDim(), hidden,
                    "[num_attention_heads * (qk_nope_head_dim + qk_rope_head_dim), hidden_size]",
                    nullptr);
  } else {
    list.projection(names.qAProj, *model.qLoraRank, hidden, "[q_lora_rank, hidden_size]",
                    "[q_lora_rank]");
    list.add(names.qALayernorm, {*model.qLoraRank}, "[q_lora_rank]");
    list.projection(names.qBProj, heads * model.qkHeadDim(), *model.qLoraRank,
                    "[num_attention_heads * (qk_nope_head_dim + qk_rope_head_dim), q_lora_rank]",
                    nullptr);
  }
  list.projection(names.kvAProj, model.kvLoraRank + model.qkRopeHeadDim, hidden,
                  "[kv_lora_rank + qk_rope_head_dim, hidden_size]",
                  "[kv_lora_rank + qk_rope_head_dim]");
  list.add(names.kvALayernorm, {model.kvLoraRank}, "[kv_lora_rank]");
  list.projection(names.kvBProj, heads * (model.qkNopeHeadDim + model.vHeadDim), model.kvLoraRank,
                  "[num_attention_heads * (qk_nope_head_dim + v_head_dim), kv_lora_rank]", nullptr);
  list.projection(names.oProj, hidden, heads * model.vHeadDim,
                  "[hidden_size, num_attention_heads * v_head_dim]", "[hidden_size]");
}

// gate/up/down of a SwiGLU MLP of width `width`.
void addGatedMlp(TensorList& list, const GatedMlpNames& names, int64_t hidden, int64_t width,
                 const char* upRule, const char* downRule, const char* widthRule,
                 const char* hiddenRule) {
  list.projection(names.gate, width, hidden, upRule, widthRule);
  list.projection(names.up, width, hidden, upRule, widthRule);
  list.projection(names.down, hidden, width, downRule, hiddenRule);
}

void addMoe(TensorList& list, const DeepseekConfig& model, const MoeNames& names, bool fused) {
  const int64_t hidden = model.hiddenSize;
  const int64_t experts = model.nRoutedExperts;
  const int64_t width = model.moeIntermediateSize;
  list.add(names.router, {experts, hidden}, "[n_routed_experts, hidden_size]");
  if (!names.scoreBias.empty())
    list.add(names.scoreBias, {experts}, "[n_routed_experts]");
  if (fused) {
    list.add(names.fusedGateUp, {experts, 2 * width, hidden},
             "[n_routed_experts, 2 * moe_intermediate_size, hidden_size]");
    list.add(names.fusedDown, {experts, hidden, width},
             "[n_routed_experts, hidden_size, moe_intermediate_size]");
  } else {
    for (const GatedMlpNames& expert : names.experts)
      addGatedMlp(list, expert, hidden, width, "[moe_intermediate_size, hidden_size]",
                  "[hidden_size, moe_intermediate_size]", nullptr, nullptr);
  }
  if (names.shared)
    addGatedMlp(list, *names.shared, hidden, width * model.nSharedExperts,
                "[moe_intermediate_size * n_shared_experts, hidden_size]",
                "[hidden_size, moe_intermediate_size * n_shared_experts]",
                "[moe_intermediate_size * n_shared_experts]", "[hidden_size]");
}

void addDeepseek(TensorList& list, const ModelConfig& config, const DeepseekConfig& model,
                 const ExpectedTensorOptions& options) {
  const int64_t hidden = model.hiddenSize;
  const DeepseekModelNames names = deepseekModelNames(config);
  list.add(names.embedding, {model.vocabSize, hidden}, "[vocab_size, hidden_size]");
  for (int64_t layer = 0; layer < model.numHiddenLayers; ++layer) {
    const DeepseekLayerNames layerNames = deepseekLayerNames(config, layer);
    list.add(layerNames.inputNorm, {hidden}, "[hidden_size]");
    addMlaAttention(list, model, layerNames.attention);
    list.add(layerNames.postAttentionNorm, {hidden}, "[hidden_size]");
    if (layerNames.moe)
      addMoe(list, model, *layerNames.moe, options.fusedExperts && options.fusedExperts(layer));
    else
      addGatedMlp(list, *layerNames.mlp, hidden, model.intermediateSize,
                  "[intermediate_size, hidden_size]", "[hidden_size, intermediate_size]",
                  "[intermediate_size]", "[hidden_size]");
  }
  list.add(names.finalNorm, {hidden}, "[hidden_size]");
}

void addLlama(TensorList& list, const ModelConfig& config, const LlamaConfig& text) {
  const int64_t hidden = text.hiddenSize;
  const int64_t qWidth = text.numAttentionHeads * text.headDim;
  const int64_t kvWidth = text.numKeyValueHeads * text.headDim;
  const DeepseekVlModelNames model = deepseekVlModelNames("");
  list.add(model.embedding, {text.vocabSize, hidden}, "[vocab_size, hidden_size]");
  for (int64_t layer = 0; layer < text.numHiddenLayers; ++layer) {
    const LlamaLayerNames names = llamaLayerNames(config, layer);
    list.add(names.inputNorm, {hidden}, "[hidden_size]");
    list.projection(names.qProj, qWidth, hidden, "[num_attention_heads * head_dim, hidden_size]",
                    "[num_attention_heads * head_dim]");
    list.projection(names.kProj, kvWidth, hidden, "[num_key_value_heads * head_dim, hidden_size]",
                    "[num_key_value_heads * head_dim]");
    list.projection(names.vProj, kvWidth, hidden, "[num_key_value_heads * head_dim, hidden_size]",
                    "[num_key_value_heads * head_dim]");
    list.projection(names.oProj, hidden, qWidth, "[hidden_size, num_attention_heads * head_dim]",
                    "[hidden_size]");
    list.add(names.postAttentionNorm, {hidden}, "[hidden_size]");
    addGatedMlp(list, names.mlp, hidden, text.intermediateSize, "[intermediate_size, hidden_size]",
                "[hidden_size, intermediate_size]", "[intermediate_size]", "[hidden_size]");
  }
  list.add(model.finalNorm, {hidden}, "[hidden_size]");
}

void addLayerNorm(TensorList& list, const LayerNormNames& names, int64_t width) {
  list.add(names.weight, {width}, "[vision hidden_size]");
  list.add(names.bias, {width}, "[vision hidden_size]");
}

void addSiglip(TensorList& list, const SiglipVisionConfig& vision, const std::string& prefix) {
  const int64_t width = vision.hiddenSize;
  const int64_t inner = vision.intermediateSize;
  const char* square = "[vision hidden_size, vision hidden_size]";
  const char* widthRule = "[vision hidden_size]";
  const DeepseekVlModelNames model = deepseekVlModelNames(prefix);
  list.add(model.patchEmbedding, {width, vision.numChannels, vision.patchSize, vision.patchSize},
           "[hidden_size, num_channels, patch_size, patch_size]");
  list.add(model.patchEmbeddingBias, {width}, widthRule);
  list.add(model.positionEmbedding, {vision.numPatches(), width},
           "[(image_size / patch_size)^2, hidden_size]");
  for (int64_t layer = 0; layer < vision.numHiddenLayers; ++layer) {
    const SiglipLayerNames names = siglipLayerNames(prefix, layer);
    for (const ProjectionNames* projection :
         {&names.qProj, &names.kProj, &names.vProj, &names.outProj})
      list.projection(*projection, width, width, square, widthRule);
    addLayerNorm(list, names.layerNorm1, width);
    addLayerNorm(list, names.layerNorm2, width);
    list.projection(names.fc1, inner, width, "[intermediate_size, hidden_size]",
                    "[intermediate_size]");
    list.projection(names.fc2, width, inner, "[hidden_size, intermediate_size]", widthRule);
  }
  addLayerNorm(list, model.postLayernorm, width);
  if (!vision.visionUseHead)
    return;
  list.add(prefix + "head.probe", {1, 1, width}, "[1, 1, hidden_size]");
  list.add(prefix + "head.attention.in_proj_weight", {3 * width, width},
           "[3 * hidden_size, hidden_size]");
  list.add(prefix + "head.attention.in_proj_bias", {3 * width}, "[3 * hidden_size]");
  list.linear(prefix + "head.attention.out_proj", width, width, square, true, widthRule);
  addLayerNorm(list, {prefix + "head.layernorm.weight", prefix + "head.layernorm.bias"}, width);
  list.linear(prefix + "head.mlp.fc1", inner, width, "[intermediate_size, hidden_size]", true,
              "[intermediate_size]");
  list.linear(prefix + "head.mlp.fc2", width, inner, "[hidden_size, intermediate_size]", true,
              widthRule);
}

void addHead(TensorList& list, const ModelConfig& config) {
  const int64_t hidden = config.textHiddenSize();
  switch (config.head) {
  case HeadKind::CausalLM:
  case HeadKind::VisionLanguage:
    if (!config.tieWordEmbeddings)
      list.add("lm_head.weight", {config.textVocabSize(), hidden}, "[vocab_size, hidden_size]");
    break;
  case HeadKind::SequenceClassification:
  case HeadKind::TokenClassification:
    list.linear("score", config.numLabels, hidden, "[num_labels, hidden_size]", config.scoreHasBias,
                "[num_labels]");
    break;
  }
}
} // namespace

std::string_view expertLayoutName(ExpertLayout layout) {
  switch (layout) {
  case ExpertLayout::None:
    return "none";
  case ExpertLayout::PerExpert:
    return "per-expert";
  case ExpertLayout::Fused:
    return "fused";
  case ExpertLayout::Mixed:
    return "mixed";
  }
  return "unknown";
}

std::string decoderLayerPrefix(const ModelConfig& config, int64_t layer) {
  const char* base = config.deepseekVl() ? "model.language_model.layers." : "model.layers.";
  return base + std::to_string(layer) + ".";
}

std::vector<ExpectedTensor> expectedTensors(const ModelConfig& config,
                                            const ExpectedTensorOptions& options) {
  std::vector<ExpectedTensor> tensors;
  TensorList list(tensors);
  if (const DeepseekConfig* model = config.deepseek()) {
    addDeepseek(list, config, *model, options);
  } else if (const DeepseekVlConfig* vl = config.deepseekVl()) {
    addSiglip(list, vl->vision, options.visionPrefix);
    const DeepseekVlModelNames names = deepseekVlModelNames(options.visionPrefix);
    list.projection(names.alignerLinear1, vl->text.hiddenSize, vl->vision.hiddenSize,
                    "[text hidden_size, vision hidden_size]", "[text hidden_size]");
    list.projection(names.alignerLinear2, vl->text.hiddenSize, vl->text.hiddenSize,
                    "[text hidden_size, text hidden_size]", "[text hidden_size]");
    addLlama(list, config, vl->text);
  }
  addHead(list, config);
  return tensors;
}

} // namespace fathom::frontend
