#pragma once
// Internal: the softmax of one attention score row, shared by the eager and the tiled paths so
// both give the same probabilities for the same scores (torch's order: the row max, exp(s -
// max), their sum, then each term times 1 / sum).
#include <cmath>
#include <cstdint>

namespace fathom::cpu::detail {

// Replaces scores[j] by exp(scores[j] - max) for the visible keys j < end (valid[j] nonzero,
// or every key when valid is null) and returns 1 / their sum; the sum is kept in double.
inline float expScoresAndInverseSum(float* scores, int64_t end, const uint8_t* valid, float max) {
  double sum = 0;
  for (int64_t j = 0; j < end; ++j) {
    if (valid && !valid[j])
      continue;
    scores[j] = std::exp(scores[j] - max);
    sum += scores[j];
  }
  return 1.0f / float(sum);
}

} // namespace fathom::cpu::detail
