#pragma once
// The pieces of config.json parsing, one per file (internal to the frontend).
#include "ConfigReader.h"
#include "fathom/frontend/ModelConfig.h"

namespace fathom::frontend {

// `rotaryDim`: the dimensions RoPE rotates (longrope's factor lists hold half as many).
RopeConfig parseRopeConfig(const ConfigReader& config, int64_t maxPositionEmbeddings,
                           int64_t rotaryDim);
std::optional<QuantizationConfig> parseQuantizationConfig(const ConfigReader& config);
Activation parseActivation(const ConfigReader& config, std::string_view key,
                           std::string_view fallback);
// bos/eos/pad with the given defaults (HF's differ per config class).
TokenIds parseTokenIds(const ConfigReader& config, std::optional<int64_t> bos,
                       std::optional<int64_t> eos);
DeepseekConfig parseDeepseekConfig(const ConfigReader& config, ModelType type);
DeepseekVlConfig parseDeepseekVlConfig(const ConfigReader& config);

} // namespace fathom::frontend
