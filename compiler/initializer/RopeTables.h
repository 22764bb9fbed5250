#pragma once
// RoPE inverse frequencies and cos/sin tables exactly as HF computes them (modeling_rope_utils'
// default, linear, YaRN, llama3 and longrope parameters; DeepseekV3RotaryEmbedding / DeepSeek-V2's
// freqs_cis). Plain C++: the initializer evaluates fathom.rope_table with it.
#include "fathom/runtime/DType.h"

#include <cstdint>
#include <vector>

namespace fathom::compiler {

enum class RopeScalingKind { None, Linear, Yarn, Llama3, LongRope };

struct RopeTableSpec {
  int64_t dim = 64; // rotary dims: qk_rope_head_dim (V2/V3) or head_dim (LLaMA)
  double theta = 10000.0;
  RopeScalingKind scaling = RopeScalingKind::None;
  double factor = 1.0;             // linear, YaRN and llama3
  double originalMaxPositions = 0; // YaRN and llama3
  double betaFast = 32.0, betaSlow = 1.0;
  bool truncate = true;                             // floor/ceil YaRN's correction range
  double attentionFactor = 1.0;                     // multiplies cos and sin (YaRN's mscale ratio)
  double lowFreqFactor = 0.0, highFreqFactor = 0.0; // llama3
  std::vector<float> divisors;                      // longrope: dim / 2 of them
};

// inv_freq [dim / 2] in fp32 with torch's operation order.
std::vector<float> ropeInverseFrequencies(const RopeTableSpec& spec);

// table[p, j] = T(fp32(cos(fp32(p) * inv_freq[j])) * attention_factor) for p < positions
// (sin likewise), j < dim / 2, T = `dtype` (F32 or BF16); row-major [positions, dim / 2].
void ropeTable(const RopeTableSpec& spec, int64_t positions, bool sine, DType dtype, void* out);

} // namespace fathom::compiler
