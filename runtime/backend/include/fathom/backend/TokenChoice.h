#pragma once
// How the next token is chosen from a row of logits: transformers' generate() logits processors
// (temperature, then top-k, then top-p, then a draw from the softmax), or argmax. One definition
// for the host sampler (runtime/backends/cpu Sampling.h, which defines the arithmetic) and the
// backends that choose on the device (Backend::selectTokens).
#include <cstdint>

namespace fathom::backend {

struct TokenChoice {
  bool doSample = false;    // false: greedy argmax
  float temperature = 1.0f; // applied when != 1
  int64_t topK = 0;         // applied when > 0 (HF's generation_config default is 50)
  double topP = 1.0;        // applied when < 1
  int64_t minTokensToKeep = 1;
};

// What a device chose for one row: the token, or (nonFinite >= 0) the first entry holding NaN
// (nan) or +inf, for which the caller reports the row instead of choosing.
struct SelectedToken {
  int64_t token = -1;
  int64_t nonFinite = -1;
  bool nan = false;
};

} // namespace fathom::backend
