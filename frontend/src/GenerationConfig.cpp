#include "fathom/frontend/GenerationConfig.h"

#include "ConfigParsers.h"

namespace fathom::frontend {

GenerationConfig generationConfigFromModel(const ModelConfig& model) {
  GenerationConfig generation;
  generation.bosTokenId = model.tokens.bos;
  generation.eosTokenIds = model.tokens.eos;
  generation.padTokenId = model.tokens.pad;
  return generation;
}

GenerationConfig parseGenerationConfig(const nlohmann::json& json, const std::string& where,
                                       const ModelConfig& model) {
  ConfigReader config(json, where);
  GenerationConfig generation = generationConfigFromModel(model);
  generation.fromFile = true;
  TokenIds tokens = parseTokenIds(
      config, model.tokens.bos,
      model.tokens.eos.empty() ? std::nullopt : std::optional<int64_t>(model.tokens.eos.front()));
  generation.bosTokenId = tokens.bos;
  generation.eosTokenIds = config.find("eos_token_id") ? tokens.eos : model.tokens.eos;
  generation.padTokenId = config.find("pad_token_id") ? tokens.pad : model.tokens.pad;

  // transformers writes null for unset sampling fields; null means its default.
  generation.doSample = config.has("do_sample") ? config.booleanOr("do_sample", false) : false;
  if (config.has("temperature"))
    generation.temperature = config.numberOr("temperature", 1.0, NumberRange{0.0});
  if (config.has("top_p"))
    generation.topP = config.numberOr("top_p", 1.0, NumberRange{0.0, 1.0});
  if (config.has("top_k"))
    generation.topK = config.integerOr("top_k", 50, kInt32NonNegative);
  if (config.has("max_new_tokens"))
    generation.maxNewTokens =
        config.integerOr("max_new_tokens", 0, IntRange{1, kInt32NonNegative.max});
  if (config.has("max_length"))
    generation.maxLength = config.integerOr("max_length", 20, IntRange{1, kInt32NonNegative.max});
  return generation;
}

} // namespace fathom::frontend
