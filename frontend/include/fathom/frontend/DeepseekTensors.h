#pragma once
// The checkpoint tensor names of a DeepSeek-V2/V3 model, derived from its config: the one place
// that spells them, for the weight inventory (ExpectedTensors) and the model builder alike.
#include "fathom/frontend/ModelConfig.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fathom::frontend {

// A linear layer: "<prefix>.weight" and, when the config gives it one, "<prefix>.bias".
struct ProjectionNames {
  std::string weight;
  std::string bias; // empty when the layer has no bias
};

struct MlaNames {
  // Either q_proj (no q LoRA, V2-Lite) or q_a_proj -> q_a_layernorm -> q_b_proj.
  std::optional<ProjectionNames> qProj;
  ProjectionNames qAProj;
  std::string qALayernorm;
  ProjectionNames qBProj;
  ProjectionNames kvAProj; // kv_a_proj_with_mqa
  std::string kvALayernorm;
  ProjectionNames kvBProj;
  ProjectionNames oProj;
};

struct GatedMlpNames {
  ProjectionNames gate, up, down;
};

struct MoeNames {
  std::string router;                 // mlp.gate.weight
  std::string scoreBias;              // mlp.gate.e_score_correction_bias, empty for V2 routers
  std::vector<GatedMlpNames> experts; // the hub's per-expert layout
  // transformers v5's fused layout: gate_up_proj [E, 2I, H] (each expert's gate rows, then its
  // up rows) and down_proj [E, H, I].
  std::string fusedGateUp, fusedDown;
  std::optional<GatedMlpNames> shared;
};

struct DeepseekLayerNames {
  std::string inputNorm;
  MlaNames attention;
  std::string postAttentionNorm;
  std::optional<GatedMlpNames> mlp; // dense layers
  std::optional<MoeNames> moe;      // MoE layers
};

struct DeepseekModelNames {
  std::string embedding = "model.embed_tokens.weight";
  std::string finalNorm = "model.norm.weight";
  std::string lmHead = "lm_head.weight"; // causal LM heads that are not tied
  ProjectionNames score;                 // classification heads
};

DeepseekLayerNames deepseekLayerNames(const ModelConfig& config, int64_t layer);
DeepseekModelNames deepseekModelNames(const ModelConfig& config);

} // namespace fathom::frontend
