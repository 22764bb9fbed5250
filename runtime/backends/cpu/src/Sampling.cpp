// HF generate's sampling warpers (generation/logits_process.py) on one row of fp32 logits.
#include "fathom/cpu/Sampling.h"
#include "Elements.h"
#include "fathom/cpu/Elementwise.h"
#include "fathom/cpu/TopK.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace fathom::cpu {
namespace {

constexpr float kFiltered = -std::numeric_limits<float>::infinity(); // HF's filter_value

struct SamplingBuffers {
  TopKEntry* entries; // n
  float* values;      // n
};

SamplingBuffers carve(Scratch scratch, int64_t n, const char* kernel) {
  detail::ScratchCarver carver(scratch, kernel);
  SamplingBuffers buffers;
  buffers.entries = carver.take<TopKEntry>(size_t(n));
  buffers.values = carver.take<float>(size_t(n));
  return buffers;
}

} // namespace

int64_t argmax(const float* logits, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (std::isnan(logits[i]))
      return i;
    if (logits[i] > logits[best])
      best = i;
  }
  return best;
}

void applyTemperature(float* logits, int64_t n, float temperature) {
  if (!(temperature > 0.0f))
    throw Error("sampling: temperature " + std::to_string(temperature) + " must be positive");
  for (int64_t i = 0; i < n; ++i)
    logits[i] = logits[i] / temperature;
}

size_t samplingScratchBytes(int64_t n) {
  return detail::ScratchCarver::alignUp(size_t(n) * sizeof(TopKEntry)) +
         detail::ScratchCarver::alignUp(size_t(n) * sizeof(float));
}

void applyTopK(float* logits, int64_t n, int64_t topK, int64_t minTokensToKeep, Scratch scratch) {
  const int64_t k = std::min(std::max(topK, minTokensToKeep), n);
  if (k <= 0)
    throw Error("sampling: top_k " + std::to_string(topK) + " must be positive");
  SamplingBuffers buf = carve(scratch, n, "applyTopK");
  // torch.topk(scores, k)[0][..., -1]: only the k-th value matters, not which index holds it.
  std::copy(logits, logits + n, buf.values);
  std::nth_element(buf.values, buf.values + (k - 1), buf.values + n,
                   [](float a, float b) { return (std::isnan(a) && !std::isnan(b)) || a > b; });
  const float kth = buf.values[k - 1];
  for (int64_t i = 0; i < n; ++i)
    if (logits[i] < kth)
      logits[i] = kFiltered;
}

void applyTopP(float* logits, int64_t n, double topP, int64_t minTokensToKeep, Scratch scratch) {
  if (!(topP >= 0.0 && topP <= 1.0))
    throw Error("sampling: top_p " + std::to_string(topP) + " must be in [0, 1]");
  SamplingBuffers buf = carve(scratch, n, "applyTopP");
  sortAscendingLikeTorch(logits, n, buf.entries);
  for (int64_t i = 0; i < n; ++i)
    buf.values[i] = buf.entries[i].first;
  softmaxRow(buf.values, n);
  // torch.cumsum on CPU accumulates fp32 in double and stores each prefix as fp32.
  const float threshold = float(1.0 - topP);
  const int64_t keepFrom = std::max<int64_t>(n - minTokensToKeep, 0);
  double running = 0;
  for (int64_t i = 0; i < keepFrom; ++i) {
    running += double(buf.values[i]);
    if (float(running) <= threshold)
      logits[buf.entries[i].second] = kFiltered;
  }
}

int64_t sampleFromLogits(const float* logits, int64_t n, SamplingRng& rng, Scratch scratch) {
  return sampleFromLogits(logits, n, rng.nextUniform(), scratch);
}

int64_t sampleFromLogits(const float* logits, int64_t n, double uniform, Scratch scratch) {
  SamplingBuffers buf = carve(scratch, n, "sampleFromLogits");
  std::copy(logits, logits + n, buf.values);
  softmaxRow(buf.values, n);
  double total = 0;
  for (int64_t i = 0; i < n; ++i)
    total += double(buf.values[i]);
  const double target = uniform * total;
  double running = 0;
  int64_t lastPositive = -1;
  for (int64_t i = 0; i < n; ++i) {
    if (!(buf.values[i] > 0.0f))
      continue;
    lastPositive = i;
    running += double(buf.values[i]);
    if (running > target)
      return i;
  }
  if (lastPositive < 0)
    throw Error("sampling: no token has a positive probability (all logits -inf or NaN)");
  return lastPositive; // u * total rounded up to the total: the last candidate
}

namespace {

void applyProcessors(float* logits, int64_t n, const SamplingParams& p, Scratch scratch) {
  if (p.temperature != 1.0f)
    applyTemperature(logits, n, p.temperature);
  if (p.topK > 0)
    applyTopK(logits, n, p.topK, p.minTokensToKeep, scratch);
  if (p.topP < 1.0)
    applyTopP(logits, n, p.topP, p.minTokensToKeep, scratch);
}

} // namespace

int64_t selectToken(float* logits, int64_t n, const SamplingParams& p, SamplingRng& rng,
                    Scratch scratch) {
  if (!p.doSample)
    return argmax(logits, n);
  applyProcessors(logits, n, p, scratch);
  return sampleFromLogits(logits, n, rng, scratch);
}

int64_t selectToken(float* logits, int64_t n, const SamplingParams& p, double uniform,
                    Scratch scratch) {
  if (!p.doSample)
    return argmax(logits, n);
  applyProcessors(logits, n, p, scratch);
  return sampleFromLogits(logits, n, uniform, scratch);
}

} // namespace fathom::cpu
