// Inverse frequencies and cos/sin tables, reproducing HF's modeling_rope_utils
// (_compute_yarn_parameters, compute_default_rope_parameters) and DeepseekV3RotaryEmbedding.
// Every tensor operation there is fp32 with one rounding; the scalar bookkeeping (correction
// range, mscale) is Python double. pow is evaluated in double and rounded once (matches torch for
// the V3 and test configs). cos/sin are the C library's fp32 cosf/sinf: exactly what torch.polar
// (DeepSeek V2's freqs_cis) calls; torch's vectorized Tensor.cos (V3) differs from any libm by
// an fp32 ulp in ~5% of angles, which never changed a bf16 table entry in our checks.
#include "Elements.h"
#include "fathom/cpu/Rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace fathom::cpu {
namespace {

// HF's get_mscale / yarn_get_mscale.
double getMscale(double scale, double mscale = 1.0) {
  if (scale <= 1.0)
    return 1.0;
  return 0.1 * mscale * std::log(scale) + 1.0;
}

bool truthy(const std::optional<double>& value) {
  return value.has_value() && *value != 0.0;
}

// base ** (arange(0, dim, 2).float() / dim), one fp32 rounding per op.
std::vector<float> positionFrequencies(const RopeConfig& c) {
  std::vector<float> freqs(size_t(c.dim / 2));
  const float base = float(c.theta);
  for (int64_t i = 0; i < c.dim / 2; ++i) {
    float exponent = float(2 * i) / float(c.dim);
    freqs[size_t(i)] = float(std::pow(double(base), double(exponent)));
  }
  return freqs;
}

double correctionDim(double rotations, const RopeConfig& c) {
  return (double(c.dim) * std::log(c.originalMaxPositions / (rotations * 2 * std::numbers::pi))) /
         (2 * std::log(c.theta));
}

} // namespace

RopeFrequencies ropeFrequencies(const RopeConfig& c) {
  if (c.dim <= 0 || c.dim % 2 != 0)
    throw Error("rope: dim " + std::to_string(c.dim) + " must be positive and even");
  RopeFrequencies result;
  std::vector<float> posFreqs = positionFrequencies(c);
  const int64_t half = c.dim / 2;
  result.invFreq.resize(size_t(half));
  if (!c.yarn) {
    for (int64_t i = 0; i < half; ++i)
      result.invFreq[size_t(i)] = 1.0f / posFreqs[size_t(i)];
    return result;
  }

  if (c.attentionFactor)
    result.attentionFactor = float(*c.attentionFactor);
  else if (truthy(c.mscale) && truthy(c.mscaleAllDim))
    result.attentionFactor =
        float(getMscale(c.factor, *c.mscale) / getMscale(c.factor, *c.mscaleAllDim));
  else
    result.attentionFactor = float(getMscale(c.factor));

  // find_correction_range: Python floats, floored/ceiled when truncating.
  double low = correctionDim(c.betaFast, c);
  double high = correctionDim(c.betaSlow, c);
  if (c.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, double(c.dim - 1));
  if (low == high)
    high += 0.001; // linear_ramp_factor's guard against a zero range
  const float rampLow = float(low);
  const float rampRange = float(high - low); // Python subtracts, torch sees one fp32 scalar

  const float factor = float(c.factor);
  for (int64_t i = 0; i < half; ++i) {
    float posFreq = posFreqs[size_t(i)];
    float extrapolation = 1.0f / posFreq;
    float interpolation = 1.0f / (factor * posFreq);
    float ramp = std::clamp((float(i) - rampLow) / rampRange, 0.0f, 1.0f);
    float extrapolationFactor = 1.0f - ramp;
    float interpolated = interpolation * (1.0f - extrapolationFactor);
    float extrapolated = extrapolation * extrapolationFactor;
    result.invFreq[size_t(i)] = interpolated + extrapolated;
  }
  return result;
}

double deepseekSoftmaxScale(int64_t qkHeadDim, const RopeConfig& c) {
  double scale = std::pow(double(qkHeadDim), -0.5);
  if (c.yarn && truthy(c.mscaleAllDim)) {
    double m = getMscale(c.factor, *c.mscaleAllDim);
    scale = scale * m * m;
  }
  return scale;
}

void ropeTables(ThreadPool& pool, const RopeFrequencies& f, const int64_t* positions, int64_t count,
                DType tableType, void* cos, void* sin) {
  const int64_t half = int64_t(f.invFreq.size());
  detail::withActivationType(tableType, "ropeTables", "tables", [&](auto tag) {
    using T = decltype(tag);
    pool.parallelFor(0, count, 64, [&](int64_t first, int64_t last) {
      for (int64_t p = first; p < last; ++p) {
        float position = float(positions[p]);
        for (int64_t j = 0; j < half; ++j) {
          float angle = position * f.invFreq[size_t(j)];
          float c = std::cos(angle) * f.attentionFactor;
          float s = std::sin(angle) * f.attentionFactor;
          static_cast<T*>(cos)[p * half + j] = detail::fromFloat<T>(c);
          static_cast<T*>(sin)[p * half + j] = detail::fromFloat<T>(s);
        }
      }
    });
  });
}

} // namespace fathom::cpu
