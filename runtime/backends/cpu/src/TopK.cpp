#include "fathom/cpu/TopK.h"

#include "TorchSum.h"
#include "fathom/runtime/Error.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace fathom::cpu {
namespace {

bool greaterNanFirst(const TopKEntry& x, const TopKEntry& y) {
  return (std::isnan(x.first) && !std::isnan(y.first)) || x.first > y.first;
}

bool lessNanLast(const TopKEntry& x, const TopKEntry& y) {
  return (!std::isnan(x.first) && std::isnan(y.first)) || x.first < y.first;
}

} // namespace

void topkLikeTorch(const float* x, int64_t n, int64_t k, bool sorted, TopKEntry* work,
                   int64_t* indices, float* values) {
  if (k < 1 || k > n)
    throw Error("topk: k=" + std::to_string(k) + " outside [1, " + std::to_string(n) + "]");
  for (int64_t i = 0; i < n; ++i)
    work[i] = {x[i], i};
  if (k * 64 <= n) {
    std::partial_sort(work, work + k, work + n, greaterNanFirst);
  } else {
    std::nth_element(work, work + k - 1, work + n, greaterNanFirst);
    if (sorted)
      std::sort(work, work + k - 1, greaterNanFirst);
  }
  for (int64_t i = 0; i < k; ++i) {
    indices[i] = work[i].second;
    if (values)
      values[i] = work[i].first;
  }
}

void sortAscendingLikeTorch(const float* x, int64_t n, TopKEntry* work) {
  for (int64_t i = 0; i < n; ++i)
    work[i] = {x[i], i};
  std::sort(work, work + n, lessNanLast);
}

float sumLikeTorch(const float* x, int64_t n) {
  return detail::torchSum(n, [&](int64_t i) { return x[i]; });
}

} // namespace fathom::cpu
