#pragma once
// generation_config.json: the special tokens and the sampling defaults generate() starts from.
#include "fathom/frontend/ModelConfig.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fathom::frontend {

struct GenerationConfig {
  std::optional<int64_t> bosTokenId;
  std::vector<int64_t> eosTokenIds; // the file allows an int or a list
  std::optional<int64_t> padTokenId;
  // transformers GenerationConfig defaults.
  bool doSample = false;
  double temperature = 1.0;
  double topP = 1.0;
  int64_t topK = 50;
  std::optional<int64_t> maxNewTokens;
  int64_t maxLength = 20;
  // False when the checkpoint has no generation_config.json and this was derived from
  // config.json, as transformers' GenerationConfig.from_model_config does.
  bool fromFile = false;
};

// Reads a parsed generation_config.json. Token ids the file leaves out come from `model`
// (transformers writes them from the model config, so a file without them is hand-made).
GenerationConfig parseGenerationConfig(const nlohmann::json& json, const std::string& where,
                                       const ModelConfig& model);
GenerationConfig generationConfigFromModel(const ModelConfig& model);

} // namespace fathom::frontend
