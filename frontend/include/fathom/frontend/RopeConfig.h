#pragma once
// Rotary position embedding parameters, normalised from the spellings that occur in the wild:
// "rope_scaling" (transformers 4.x, the hub configs) or "rope_parameters" (transformers 5),
// the type under "type" or "rope_type", and rope_theta at the top level or inside the dict.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace fathom::frontend {

enum class RopeType { Default, Linear, Dynamic, Yarn, Llama3, LongRope };

std::string_view ropeTypeName(RopeType type);

struct RopeConfig {
  RopeType type = RopeType::Default;
  double theta = 10000.0;
  // Context-extension factor: linear, dynamic, yarn and llama3 only.
  double factor = 1.0;
  // yarn, llama3 and longrope: the pre-extension context; HF falls back to
  // max_position_embeddings for yarn.
  int64_t originalMaxPositionEmbeddings = 0;
  // yarn (HF _compute_yarn_parameters defaults).
  double betaFast = 32.0;
  double betaSlow = 1.0;
  std::optional<double> mscale;
  std::optional<double> mscaleAllDim;
  std::optional<double> attentionFactor; // yarn and longrope
  bool truncate = true;
  // llama3.
  double lowFreqFactor = 0.0;
  double highFreqFactor = 0.0;
  // longrope: per-frequency divisors, the short ones up to the original context.
  std::vector<double> shortFactor, longFactor;
};

} // namespace fathom::frontend
