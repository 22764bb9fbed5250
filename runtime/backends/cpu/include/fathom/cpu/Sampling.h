#pragma once
// Next-token selection on fp32 logits (HF generate upcasts the last position's logits to fp32),
// following transformers' logits processors: temperature, then top-k, then top-p, then sampling
// from the softmax. Sampling draws from our own seeded PRNG, so it reproduces itself (same seed,
// same tokens) but not torch.multinomial's stream.
#include "fathom/backend/TokenChoice.h"
#include "fathom/cpu/Scratch.h"

#include <cstdint>
#include <random>

namespace fathom::cpu {

// torch.argmax: index of the first maximum; a NaN counts as the maximum (the first NaN wins).
int64_t argmax(const float* logits, int64_t n);

// TemperatureLogitsWarper: logits[i] /= temperature (fp32 division).
void applyTemperature(float* logits, int64_t n, float temperature);

// TopKLogitsWarper: k = min(max(topK, minTokensToKeep), n); every logit below the k-th largest
// becomes -inf (logits equal to it survive, so ties can keep more than k).
void applyTopK(float* logits, int64_t n, int64_t topK, int64_t minTokensToKeep, Scratch scratch);

// TopPLogitsWarper: sort ascending (torch's order, ties included), softmax in fp32, cumulative
// sums (torch accumulates them in double and stores fp32); tokens whose cumulative probability
// is <= float(1 - topP) become -inf, except the minTokensToKeep most likely. topP is a double
// because Python computes 1 - top_p in double before torch rounds it (0.95 vs 0.95f differ).
void applyTopP(float* logits, int64_t n, double topP, int64_t minTokensToKeep, Scratch scratch);

// Bytes of scratch applyTopK / applyTopP / sampleToken need for a vocabulary of n.
size_t samplingScratchBytes(int64_t n);

// The documented sampling PRNG: std::mt19937_64 seeded with `seed`; each draw is
// (engine() >> 11) * 2^-53, a double uniform in [0, 1).
class SamplingRng {
public:
  explicit SamplingRng(uint64_t seed) : engine_(seed) {}
  double nextUniform() { return double(engine_() >> 11) * 0x1.0p-53; }

private:
  std::mt19937_64 engine_;
};

// Draws a token from softmax(logits) (fp32, as torch): with u = rng.nextUniform(), the first
// index whose running sum of probabilities (in double) exceeds u * total. -inf logits have
// probability 0 and are never drawn.
int64_t sampleFromLogits(const float* logits, int64_t n, SamplingRng& rng, Scratch scratch);
// The same with the draw u given (u in [0, 1)).
int64_t sampleFromLogits(const float* logits, int64_t n, double uniform, Scratch scratch);

using SamplingParams = backend::TokenChoice;

// The whole step: argmax, or the processors in HF's order and a draw. Modifies logits.
int64_t selectToken(float* logits, int64_t n, const SamplingParams& params, SamplingRng& rng,
                    Scratch scratch);
// The same with the draw given (unused when greedy): what a device that chooses tokens computes
// from the draws the host made for it.
int64_t selectToken(float* logits, int64_t n, const SamplingParams& params, double uniform,
                    Scratch scratch);

} // namespace fathom::cpu
