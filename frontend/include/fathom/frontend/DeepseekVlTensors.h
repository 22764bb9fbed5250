#pragma once
// The checkpoint tensor names of a DeepSeek-VL model (SigLIP vision tower, aligner, LLaMA text
// model), derived from its config: the one place that spells them, for the weight inventory
// (ExpectedTensors) and the model builder alike.
#include "fathom/frontend/DeepseekTensors.h"

#include <functional>

namespace fathom::frontend {

struct LlamaLayerNames {
  std::string inputNorm;
  ProjectionNames qProj, kProj, vProj, oProj;
  std::string postAttentionNorm;
  GatedMlpNames mlp;
};

struct LayerNormNames {
  std::string weight, bias;
};

struct SiglipLayerNames {
  LayerNormNames layerNorm1;
  ProjectionNames qProj, kProj, vProj, outProj;
  LayerNormNames layerNorm2;
  ProjectionNames fc1, fc2;
};

struct DeepseekVlModelNames {
  // Vision tower, under the checkpoint's prefix ("model.vision_model." as transformers 5.23
  // writes it, or the nested "model.vision_model.vision_model." of older conversions).
  std::string patchEmbedding, patchEmbeddingBias, positionEmbedding;
  LayerNormNames postLayernorm;
  ProjectionNames alignerLinear1, alignerLinear2;
  std::string embedding = "model.language_model.embed_tokens.weight";
  std::string finalNorm = "model.language_model.norm.weight";
  std::string lmHead = "lm_head.weight";
};

// The vision tower's prefix: transformers 5.23 writes "model.vision_model."; the hub's
// DeepSeek-VL was saved when SiglipVisionModel wrapped a vision_model, so `has` (does the
// checkpoint hold this tensor?) finds "model.vision_model.vision_model." there.
std::string deepseekVlVisionPrefix(const std::function<bool(const std::string&)>& has);

LlamaLayerNames llamaLayerNames(const ModelConfig& config, int64_t layer);
SiglipLayerNames siglipLayerNames(const std::string& visionPrefix, int64_t layer);
DeepseekVlModelNames deepseekVlModelNames(const std::string& visionPrefix);

} // namespace fathom::frontend
