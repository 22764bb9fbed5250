// Every tensor operation in HF's rope code is fp32 with one rounding; the scalar bookkeeping
// (YaRN's correction range) is Python double. pow is evaluated in double and rounded once
// (matches torch for the V3 and test configs). cos/sin are the C library's fp32 cosf/sinf:
// exactly what torch.polar (DeepSeek V2's freqs_cis) calls; torch's vectorized Tensor.cos (V3)
// differs from any libm by an fp32 ulp in ~5% of angles, which never changed a bf16 table entry
// in our checks.
#include "compiler/initializer/RopeTables.h"

#include "fathom/runtime/Error.h"
#include "fathom/runtime/Numeric.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <utility>

namespace fathom::compiler {
namespace {

// base ** (arange(0, dim, 2).float() / dim), one fp32 rounding per op.
std::vector<float> positionFrequencies(const RopeTableSpec& spec) {
  std::vector<float> freqs(size_t(spec.dim / 2));
  const float base = float(spec.theta);
  for (int64_t i = 0; i < spec.dim / 2; ++i) {
    float exponent = float(2 * i) / float(spec.dim);
    freqs[size_t(i)] = float(std::pow(double(base), double(exponent)));
  }
  return freqs;
}

// _compute_llama3_parameters: wavelengths above original / low_freq_factor are divided by the
// factor, those below original / high_freq_factor kept, the band between interpolated. Python's
// `scalar / tensor` is reciprocal(tensor) * scalar; the scalars enter torch as fp32.
std::vector<float> llama3Frequencies(const RopeTableSpec& spec, std::vector<float> invFreq) {
  const float factor = float(spec.factor), low = float(spec.lowFreqFactor);
  const float lowFreqWavelen = float(spec.originalMaxPositions / spec.lowFreqFactor);
  const float highFreqWavelen = float(spec.originalMaxPositions / spec.highFreqFactor);
  const float smoothRange = float(spec.highFreqFactor - spec.lowFreqFactor);
  const float twoPi = float(2 * std::numbers::pi), original = float(spec.originalMaxPositions);
  for (float& frequency : invFreq) {
    const float wavelen = (1.0f / frequency) * twoPi;
    const float scaled = wavelen > lowFreqWavelen ? frequency / factor : frequency;
    if (wavelen < highFreqWavelen || wavelen > lowFreqWavelen) {
      frequency = scaled;
      continue;
    }
    const float smooth = ((1.0f / wavelen) * original - low) / smoothRange;
    frequency = (1.0f - smooth) * scaled / factor + smooth * scaled;
  }
  return invFreq;
}

double correctionDim(double rotations, const RopeTableSpec& spec) {
  return (double(spec.dim) *
          std::log(spec.originalMaxPositions / (rotations * 2 * std::numbers::pi))) /
         (2 * std::log(spec.theta));
}

} // namespace

std::vector<float> ropeInverseFrequencies(const RopeTableSpec& spec) {
  if (spec.dim <= 0 || spec.dim % 2 != 0)
    throw Error("rope: dim " + std::to_string(spec.dim) + " must be positive and even");
  std::vector<float> posFreqs = positionFrequencies(spec);
  const int64_t half = spec.dim / 2;
  std::vector<float> invFreq(static_cast<size_t>(half));
  if (spec.scaling != RopeScalingKind::Yarn) {
    // Linear scaling divides the default frequencies by the factor; longrope's
    // 1 / (divisor * base ** (2i / dim)) multiplies first, in fp32.
    if (spec.scaling == RopeScalingKind::LongRope && int64_t(spec.divisors.size()) != half)
      throw Error("rope: longrope needs " + std::to_string(half) + " divisors, got " +
                  std::to_string(spec.divisors.size()));
    for (int64_t i = 0; i < half; ++i) {
      const float scaled = spec.scaling == RopeScalingKind::LongRope
                               ? spec.divisors[size_t(i)] * posFreqs[size_t(i)]
                               : posFreqs[size_t(i)];
      invFreq[size_t(i)] = 1.0f / scaled;
      if (spec.scaling == RopeScalingKind::Linear)
        invFreq[size_t(i)] /= float(spec.factor);
    }
    return spec.scaling == RopeScalingKind::Llama3 ? llama3Frequencies(spec, std::move(invFreq))
                                                   : invFreq;
  }
  // find_correction_range: Python floats, floored/ceiled when truncating.
  double low = correctionDim(spec.betaFast, spec);
  double high = correctionDim(spec.betaSlow, spec);
  if (spec.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, double(spec.dim - 1));
  if (low == high)
    high += 0.001; // linear_ramp_factor's guard against a zero range
  const float rampLow = float(low);
  const float rampRange = float(high - low); // Python subtracts, torch sees one fp32 scalar
  const float factor = float(spec.factor);
  for (int64_t i = 0; i < half; ++i) {
    float posFreq = posFreqs[size_t(i)];
    float extrapolation = 1.0f / posFreq;
    float interpolation = 1.0f / (factor * posFreq);
    float ramp = std::clamp((float(i) - rampLow) / rampRange, 0.0f, 1.0f);
    float extrapolationFactor = 1.0f - ramp;
    float interpolated = interpolation * (1.0f - extrapolationFactor);
    float extrapolated = extrapolation * extrapolationFactor;
    invFreq[size_t(i)] = interpolated + extrapolated;
  }
  return invFreq;
}

void ropeTable(const RopeTableSpec& spec, int64_t positions, bool sine, DType dtype, void* out) {
  if (dtype != DType::F32 && dtype != DType::BF16)
    throw Error("rope: tables are F32 or BF16, not " + std::string(dtypeName(dtype)));
  std::vector<float> invFreq = ropeInverseFrequencies(spec);
  const int64_t half = spec.dim / 2;
  const float attentionFactor = float(spec.attentionFactor);
  auto* bytes = static_cast<std::byte*>(out);
  const size_t size = dtypeSize(dtype);
  for (int64_t p = 0; p < positions; ++p) {
    float position = float(p);
    for (int64_t j = 0; j < half; ++j) {
      float angle = position * invFreq[size_t(j)];
      float value = (sine ? std::sin(angle) : std::cos(angle)) * attentionFactor;
      storeFloat(dtype, value, bytes + size_t(p * half + j) * size);
    }
  }
}

} // namespace fathom::compiler
