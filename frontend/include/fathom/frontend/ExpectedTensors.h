#pragma once
// The tensors an architecture reads, by name and shape, derived from its config: the list the
// weight inventory holds a checkpoint against and the one a model builder walks.
#include "fathom/frontend/ModelConfig.h"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::frontend {

// How a MoE layer stores its routed experts.
enum class ExpertLayout {
  None,      // no MoE layer
  PerExpert, // the hub's mlp.experts.E.{gate,up,down}_proj.weight
  Fused,     // transformers v5's mlp.experts.gate_up_proj [E, 2I, H], down_proj [E, H, I]
  Mixed,     // different layers differ (reported, allowed)
};
std::string_view expertLayoutName(ExpertLayout layout);

struct ExpectedTensor {
  std::string name;
  std::vector<int64_t> shape;
  // How the shape follows from the config, for messages: "[kv_lora_rank + qk_rope_head_dim,
  // hidden_size]".
  const char* shapeRule;
};

struct ExpectedTensorOptions {
  // Which layers use the fused expert layout; null means every layer is per-expert.
  std::function<bool(int64_t layer)> fusedExperts;
  // DeepSeek-VL's SigLIP tower: "model.vision_model." as transformers 5 saves it, or
  // "model.vision_model.vision_model." as the hub checkpoint (older transformers) has it.
  std::string visionPrefix = "model.vision_model.";
};

// Every tensor `config` needs, in model order. MTP layers and FP8 scales are not included:
// the inventory handles both from what is present.
std::vector<ExpectedTensor> expectedTensors(const ModelConfig& config,
                                            const ExpectedTensorOptions& options = {});

// "model.layers.3." (V2/V3) or "model.language_model.layers.3." (VL).
std::string decoderLayerPrefix(const ModelConfig& config, int64_t layer);

} // namespace fathom::frontend
