#include "fathom/frontend/DeepseekVlTensors.h"

#include "fathom/frontend/ExpectedTensors.h"

namespace fathom::frontend {
namespace {

ProjectionNames projection(const std::string& prefix, bool bias) {
  return {prefix + ".weight", bias ? prefix + ".bias" : std::string()};
}

LayerNormNames layerNorm(const std::string& prefix) {
  return {prefix + ".weight", prefix + ".bias"};
}

} // namespace

std::string deepseekVlVisionPrefix(const std::function<bool(const std::string&)>& has) {
  const std::string nested = "model.vision_model.vision_model.";
  return has(nested + "embeddings.patch_embedding.weight") ? nested : "model.vision_model.";
}

LlamaLayerNames llamaLayerNames(const ModelConfig& config, int64_t layer) {
  const LlamaConfig& text = config.deepseekVl()->text;
  const std::string prefix = decoderLayerPrefix(config, layer);
  const std::string attention = prefix + "self_attn.";
  const std::string mlp = prefix + "mlp.";
  const bool bias = text.attentionBias;
  LlamaLayerNames names;
  names.inputNorm = prefix + "input_layernorm.weight";
  names.qProj = projection(attention + "q_proj", bias);
  names.kProj = projection(attention + "k_proj", bias);
  names.vProj = projection(attention + "v_proj", bias);
  names.oProj = projection(attention + "o_proj", bias);
  names.postAttentionNorm = prefix + "post_attention_layernorm.weight";
  names.mlp = {projection(mlp + "gate_proj", text.mlpBias),
               projection(mlp + "up_proj", text.mlpBias),
               projection(mlp + "down_proj", text.mlpBias)};
  return names;
}

SiglipLayerNames siglipLayerNames(const std::string& visionPrefix, int64_t layer) {
  const std::string prefix = visionPrefix + "encoder.layers." + std::to_string(layer) + ".";
  SiglipLayerNames names;
  names.layerNorm1 = layerNorm(prefix + "layer_norm1");
  names.qProj = projection(prefix + "self_attn.q_proj", true);
  names.kProj = projection(prefix + "self_attn.k_proj", true);
  names.vProj = projection(prefix + "self_attn.v_proj", true);
  names.outProj = projection(prefix + "self_attn.out_proj", true);
  names.layerNorm2 = layerNorm(prefix + "layer_norm2");
  names.fc1 = projection(prefix + "mlp.fc1", true);
  names.fc2 = projection(prefix + "mlp.fc2", true);
  return names;
}

DeepseekVlModelNames deepseekVlModelNames(const std::string& visionPrefix) {
  DeepseekVlModelNames names;
  names.patchEmbedding = visionPrefix + "embeddings.patch_embedding.weight";
  names.patchEmbeddingBias = visionPrefix + "embeddings.patch_embedding.bias";
  names.positionEmbedding = visionPrefix + "embeddings.position_embedding.weight";
  names.postLayernorm = layerNorm(visionPrefix + "post_layernorm");
  names.alignerLinear1 = projection("model.aligner.linear1", true);
  names.alignerLinear2 = projection("model.aligner.linear2", true);
  return names;
}

} // namespace fathom::frontend
