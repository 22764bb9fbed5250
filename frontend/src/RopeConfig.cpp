#include "ConfigParsers.h"

#include <algorithm>
#include <array>
#include <utility>

namespace fathom::frontend {
namespace {
constexpr std::array<std::pair<std::string_view, RopeType>, 6> kRopeTypes = {{
    {"default", RopeType::Default},
    {"linear", RopeType::Linear},
    {"dynamic", RopeType::Dynamic},
    {"yarn", RopeType::Yarn},
    {"llama3", RopeType::Llama3},
    {"longrope", RopeType::LongRope},
}};

// Finite bounds far outside every released config (factors 4-40, mscale 0.707-1, theta 1e4-1e7):
// past them the tables or the attention scale overflow, or a logarithm of the base is 0.
constexpr NumberRange kScalingFactor{1.0, 1e4};
constexpr NumberRange kRopeTheta{1.0, 1e12, /*minExclusive=*/true};
constexpr NumberRange kRotations{0.0, 1e4, /*minExclusive=*/true};
constexpr NumberRange kMscale{0.0, 1e3};
constexpr NumberRange kAttentionFactor{0.0, 1e3, /*minExclusive=*/true};

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

RopeConfig parseRopeConfig(const ConfigReader& config, int64_t maxPositionEmbeddings,
                           int64_t rotaryDim) {
  RopeConfig rope;
  const double topLevelTheta = config.numberOr("rope_theta", 10000.0, kRopeTheta);
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
  rope.theta = params.numberOr("rope_theta", topLevelTheta, kRopeTheta);

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
        config.integerOr("original_max_position_embeddings", maxPositionEmbeddings, kPositionCount),
        kPositionCount);
    rope.betaFast = params.numberOr("beta_fast", 32.0, kRotations);
    rope.betaSlow = params.numberOr("beta_slow", 1.0, kRotations);
    rope.mscale = params.optionalNumber("mscale", kMscale);
    rope.mscaleAllDim = params.optionalNumber("mscale_all_dim", kMscale);
    rope.attentionFactor = params.optionalNumber("attention_factor", kAttentionFactor);
    rope.truncate = params.booleanOr("truncate", true);
    break;
  case RopeType::Llama3:
    rope.factor = params.number("factor", kScalingFactor);
    rope.lowFreqFactor = params.number("low_freq_factor", kAttentionFactor);
    rope.highFreqFactor = params.number("high_freq_factor", kAttentionFactor);
    rope.originalMaxPositionEmbeddings =
        params.integer("original_max_position_embeddings", kPositionCount);
    // The smoothing between the two wavelengths divides by their difference.
    if (rope.highFreqFactor <= rope.lowFreqFactor)
      params.failRelation("\"high_freq_factor\" (" + std::to_string(rope.highFreqFactor) +
                          ") must be greater than \"low_freq_factor\" (" +
                          std::to_string(rope.lowFreqFactor) + ")");
    break;
  case RopeType::LongRope: {
    const size_t frequencies = size_t(std::max<int64_t>(rotaryDim, 0) / 2);
    rope.shortFactor = params.numberList("short_factor", frequencies, kRotations);
    rope.longFactor = params.numberList("long_factor", frequencies, kRotations);
    rope.originalMaxPositionEmbeddings =
        params.integer("original_max_position_embeddings", kPositionCount);
    // _compute_longrope_parameters: without "factor", max / original (Phi-3's convention);
    // without "attention_factor", sqrt(1 + ln(factor) / ln(original)) above factor 1.
    rope.factor =
        params.optionalNumber("factor", kScalingFactor)
            .value_or(double(maxPositionEmbeddings) / double(rope.originalMaxPositionEmbeddings));
    rope.attentionFactor = params.optionalNumber("attention_factor", kAttentionFactor);
    break;
  }
  }
  return rope;
}

} // namespace fathom::frontend
