// fp32 softmax in torch's CPU order: max, exp(x - max), multiply by the reciprocal of the sum.
#include "Simd.h"
#include "fathom/cpu/Elementwise.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace fathom::cpu {
namespace {

// max(x[0..n)); NaN if any element is NaN, as torch's max.
FATHOM_CPU_CLONES
float maxOf(const float* x, int64_t n) {
  float best = -std::numeric_limits<float>::infinity();
  bool sawNan = false;
  for (int64_t i = 0; i < n; ++i) {
    sawNan |= std::isnan(x[i]);
    best = x[i] > best ? x[i] : best;
  }
  return sawNan ? std::numeric_limits<float>::quiet_NaN() : best;
}

} // namespace

void softmaxRow(float* x, int64_t n) {
  float max = maxOf(x, n);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  float inverse = 1.0f / float(sum);
  for (int64_t i = 0; i < n; ++i)
    x[i] *= inverse;
}

void softmaxRows(ThreadPool& pool, float* x, int64_t rows, int64_t n, int64_t ldx) {
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1));
  pool.parallelFor(0, rows, grain, [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; ++r)
      softmaxRow(x + r * ldx, n);
  });
}

} // namespace fathom::cpu
