#pragma once
// Rotary position embedding as HF transformers 5.x computes it for DeepSeek V2/V3 (and LLaMA):
// inverse frequencies (plain or YaRN) in fp32 with torch's operation order, cos/sin tables in
// fp32 scaled by the YaRN attention factor and cast to the activation dtype, and the three ways
// HF applies them.
#include "fathom/cpu/ThreadPool.h"
#include "fathom/runtime/DType.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace fathom::cpu {

// The rope_parameters HF reads. Optional fields mirror keys that may be absent (HF treats an
// absent key and 0 alike where it tests truthiness).
struct RopeConfig {
  int64_t dim = 64; // rotary dimensions: qk_rope_head_dim (V2/V3) or head_dim (LLaMA)
  double theta = 10000.0;
  bool yarn = false; // rope_type "yarn"; false means "default"
  // YaRN only. `factor` must already be resolved (HF v5: max_position_embeddings /
  // original_max_position_embeddings when the key is absent).
  double factor = 1.0;
  double originalMaxPositions = 4096.0;
  double betaFast = 32.0; // HF: rope_parameters.get("beta_fast") or 32
  double betaSlow = 1.0;  // HF: rope_parameters.get("beta_slow") or 1
  std::optional<double> mscale;
  std::optional<double> mscaleAllDim;
  std::optional<double> attentionFactor;
  bool truncate = true; // floor/ceil the YaRN correction range
};

struct RopeFrequencies {
  std::vector<float> invFreq; // dim / 2 values
  // Scales cos and sin: the given attention_factor, else (YaRN)
  // get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim) when both are truthy, else
  // get_mscale(factor); 1 for default rope.
  float attentionFactor = 1.0f;
};

// Setup-time (allocates).
RopeFrequencies ropeFrequencies(const RopeConfig& config);

// HF's attention softmax scale for DeepSeek (yarn_apply_mscale): qkHeadDim^-0.5, times
// get_mscale(factor, mscale_all_dim)^2 for YaRN with a truthy mscale_all_dim. In double, as
// Python computes it; the kernels use float(scale).
double deepseekSoftmaxScale(int64_t qkHeadDim, const RopeConfig& config);

// cos[i, j] = T(fp32(cos(fp32(positions[i]) * invFreq[j])) * attentionFactor), same for sin;
// j < dim / 2 (HF's second half repeats the first). T = tableType: the activation dtype for
// RopeLayout::HalfSplit/Interleaved, F32 for RopeLayout::ComplexPairs. Tables are
// [count, dim / 2] row-major.
void ropeTables(ThreadPool& pool, const RopeFrequencies& frequencies, const int64_t* positions,
                int64_t count, DType tableType, void* cos, void* sin);

enum class RopeLayout {
  // rotate_half on [x_0..x_{h-1} | x_h..x_{2h-1}] (LLaMA; DeepSeek with rope_interleave=false).
  HalfSplit,
  // DeepSeek V3 rope_interleave=true: pair j is (x_2j, x_2j+1); the output is de-interleaved,
  // [x_2j*c - x_2j+1*s for all j | x_2j+1*c + x_2j*s for all j].
  Interleaved,
  // DeepSeek V2: pair j is the complex number x_2j + i x_2j+1, multiplied by cos + i sin in
  // fp32 and rounded once; the output stays interleaved.
  ComplexPairs,
};

// Rotates `dim` elements per (token, head). HalfSplit/Interleaved evaluate
// out = x*cos -/+ x'*sin in the activation dtype, rounding each product and the sum (bf16 as HF;
// fp32 plainly). `positionRows[t]` selects token t's table row (null: row t). out may alias x.
struct RopeApplyArgs {
  RopeLayout layout = RopeLayout::Interleaved;
  DType type = DType::BF16; // of x and out
  int64_t tokens = 0, heads = 1, dim = 64;
  const void* x = nullptr;
  int64_t xTokenStride = 0, xHeadStride = 0; // elements
  void* out = nullptr;
  int64_t outTokenStride = 0, outHeadStride = 0;
  DType tableType = DType::BF16;
  const void* cos = nullptr;
  const void* sin = nullptr;
  int64_t tableStride = 0; // elements between table rows; 0 means dim / 2
  const int64_t* positionRows = nullptr;
};

void applyRope(ThreadPool& pool, const RopeApplyArgs& args);

} // namespace fathom::cpu
