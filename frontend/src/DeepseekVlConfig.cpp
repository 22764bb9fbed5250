// deepseek_vl configs: a LlamaConfig text_config and a SiglipVisionConfig vision_config, with
// transformers 5.23's defaults (configuration_llama.py, configuration_siglip.py,
// configuration_deepseek_vl.py) for absent keys.
#include "ConfigParsers.h"

namespace fathom::frontend {
namespace {
std::string keyAndValue(std::string_view key, int64_t value) {
  return "\"" + std::string(key) + "\" (" + std::to_string(value) + ")";
}

void checkSubConfigType(const ConfigReader& config, std::string_view expected) {
  if (std::optional<std::string> type = config.optionalString("model_type");
      type && *type != expected)
    config.fail("model_type",
                "must be \"" + std::string(expected) + "\" for deepseek_vl, got \"" + *type + "\"");
}

LlamaConfig parseLlamaConfig(const ConfigReader& config) {
  checkSubConfigType(config, "llama");
  LlamaConfig text;
  text.vocabSize = config.integer("vocab_size", kVocabSize);
  text.hiddenSize = config.integer("hidden_size", kDimension);
  text.intermediateSize = config.integer("intermediate_size", kDimension);
  text.numHiddenLayers = config.integer("num_hidden_layers", kLayerCount);
  text.numAttentionHeads = config.integer("num_attention_heads", kHeadCount);
  text.numKeyValueHeads =
      config.nullableInteger("num_key_value_heads", text.numAttentionHeads, kHeadCount)
          .value_or(text.numAttentionHeads);
  // LlamaConfig.validate_architecture, then head_dim = hidden / heads unless given.
  if (text.hiddenSize % text.numAttentionHeads != 0)
    config.failRelation(keyAndValue("hidden_size", text.hiddenSize) + " must be a multiple of " +
                        keyAndValue("num_attention_heads", text.numAttentionHeads));
  if (text.numAttentionHeads % text.numKeyValueHeads != 0)
    config.failRelation(keyAndValue("num_attention_heads", text.numAttentionHeads) +
                        " must be a multiple of " +
                        keyAndValue("num_key_value_heads", text.numKeyValueHeads));
  const int64_t defaultHeadDim = text.hiddenSize / text.numAttentionHeads;
  text.headDim =
      config.nullableInteger("head_dim", defaultHeadDim, kHeadDim).value_or(defaultHeadDim);
  if (text.headDim % 2 != 0)
    config.failRelation(keyAndValue("head_dim", text.headDim) +
                        " must be even (RoPE rotates pairs)");
  text.hiddenAct = parseActivation(config, "hidden_act", "silu");
  text.rmsNormEps = config.numberOr("rms_norm_eps", 1e-6, kEpsilon);
  text.maxPositionEmbeddings = config.integerOr("max_position_embeddings", 2048, kPositionCount);
  text.rope = parseRopeConfig(config, text.maxPositionEmbeddings, text.headDim);
  text.attentionBias = config.booleanOr("attention_bias", false);
  text.mlpBias = config.booleanOr("mlp_bias", false);
  return text;
}

SiglipVisionConfig parseSiglipVisionConfig(const ConfigReader& config) {
  checkSubConfigType(config, "siglip_vision_model");
  SiglipVisionConfig vision;
  vision.hiddenSize = config.integer("hidden_size", kDimension);
  vision.intermediateSize = config.integer("intermediate_size", kDimension);
  vision.numHiddenLayers = config.integer("num_hidden_layers", kLayerCount);
  vision.numAttentionHeads = config.integer("num_attention_heads", kHeadCount);
  vision.numChannels = config.integerOr("num_channels", 3, IntRange{1, 16});
  vision.imageSize = config.integer("image_size", IntRange{1, 1 << 14});
  vision.patchSize = config.integer("patch_size", IntRange{1, vision.imageSize});
  vision.hiddenAct = parseActivation(config, "hidden_act", "gelu_pytorch_tanh");
  vision.layerNormEps = config.numberOr("layer_norm_eps", 1e-6, kEpsilon);
  vision.visionUseHead = config.booleanOr("vision_use_head", true);
  // SiglipAttention raises unless the heads split the width evenly.
  if (vision.hiddenSize % vision.numAttentionHeads != 0)
    config.failRelation(keyAndValue("hidden_size", vision.hiddenSize) + " must be a multiple of " +
                        keyAndValue("num_attention_heads", vision.numAttentionHeads));
  return vision;
}
} // namespace

DeepseekVlConfig parseDeepseekVlConfig(const ConfigReader& config) {
  DeepseekVlConfig model;
  model.text = parseLlamaConfig(config.child("text_config"));
  model.vision = parseSiglipVisionConfig(config.child("vision_config"));
  model.imageTokenId = config.integerOr("image_token_id", 100015, kTokenId);
  return model;
}

} // namespace fathom::frontend
