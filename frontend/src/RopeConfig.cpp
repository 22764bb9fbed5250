#include "ConfigParsers.h"

#include <array>
#include <utility>

namespace fathom::frontend {
namespace {
constexpr std::array<std::pair<std::string_view, RopeType>, 5> kRopeTypes = {{
    {"default", RopeType::Default},
    {"linear", RopeType::Linear},
    {"dynamic", RopeType::Dynamic},
    {"yarn", RopeType::Yarn},
    {"llama3", RopeType::Llama3},
}};

constexpr NumberRange kScalingFactor{1.0};

RopeType parseRopeType(const ConfigReader& params) {
  std::optional<std::string> ropeType = params.optionalString("rope_type");
  std::optional<std::string> legacyType = params.optionalString("type");
  if (ropeType && legacyType && *ropeType != *legacyType)
    params.failRelation("\"rope_type\" (\"" + *ropeType + "\") and \"type\" (\"" + *legacyType +
                        "\") disagree");
  std::string name = ropeType ? *ropeType : legacyType.value_or("default");
  for (const auto& [known, type] : kRopeTypes)
    if (name == known)
      return type;
  std::string list;
  for (const auto& [known, type] : kRopeTypes)
    list += (list.empty() ? "\"" : ", \"") + std::string(known) + "\"";
  params.fail(ropeType ? "rope_type" : "type",
              "names an unsupported RoPE type \"" + name + "\" (supported: " + list + ")");
}
} // namespace

std::string_view ropeTypeName(RopeType type) {
  for (const auto& [name, known] : kRopeTypes)
    if (known == type)
      return name;
  return "unknown";
}

RopeConfig parseRopeConfig(const ConfigReader& config, int64_t maxPositionEmbeddings) {
  RopeConfig rope;
  const double topLevelTheta = config.numberOr("rope_theta", 10000.0, kPositiveNumber);
  // transformers 5 pops "rope_scaling" into "rope_parameters" and lets it win when both exist.
  std::string_view dictKey;
  for (std::string_view key : {"rope_scaling", "rope_parameters"})
    if (config.has(key)) {
      dictKey = key;
      break;
    }
  if (dictKey.empty()) {
    rope.theta = topLevelTheta;
    return rope;
  }
  ConfigReader params = config.child(dictKey);
  rope.type = parseRopeType(params);
  rope.theta = params.numberOr("rope_theta", topLevelTheta, kPositiveNumber);

  switch (rope.type) {
  case RopeType::Default:
    break;
  case RopeType::Linear:
  case RopeType::Dynamic:
    rope.factor = params.number("factor", kScalingFactor);
    break;
  case RopeType::Yarn:
    rope.factor = params.number("factor", kScalingFactor);
    rope.originalMaxPositionEmbeddings = params.integerOr(
        "original_max_position_embeddings",
        config.integerOr("original_max_position_embeddings", maxPositionEmbeddings, kPositive),
        kPositive);
    rope.betaFast = params.numberOr("beta_fast", 32.0, {});
    rope.betaSlow = params.numberOr("beta_slow", 1.0, {});
    rope.mscale = params.optionalNumber("mscale", {});
    rope.mscaleAllDim = params.optionalNumber("mscale_all_dim", {});
    rope.attentionFactor = params.optionalNumber("attention_factor", kPositiveNumber);
    rope.truncate = params.booleanOr("truncate", true);
    break;
  case RopeType::Llama3:
    rope.factor = params.number("factor", kScalingFactor);
    rope.lowFreqFactor = params.number("low_freq_factor", kPositiveNumber);
    rope.highFreqFactor = params.number("high_freq_factor", kPositiveNumber);
    rope.originalMaxPositionEmbeddings =
        params.integer("original_max_position_embeddings", kPositive);
    break;
  }
  return rope;
}

} // namespace fathom::frontend
