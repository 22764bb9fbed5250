#include "Dot.h"

#include "Simd.h"

#include "fathom/runtime/Numeric.h"

namespace fathom::cpu::detail {

namespace {

FATHOM_ALWAYS_INLINE Vec16 loadKey(const float* k) {
  return loadVec(k);
}
FATHOM_ALWAYS_INLINE Vec16 loadKey(const uint16_t* k) {
  return loadBf16Vec(k);
}
FATHOM_ALWAYS_INLINE float keyAt(const float* k, int64_t i) {
  return k[i];
}
FATHOM_ALWAYS_INLINE float keyAt(const uint16_t* k, int64_t i) {
  return bf16ToFloat(k[i]);
}

// One accumulator per head (as dot's one), so every head's sum has dot's order; the heads'
// independent chains also hide the multiply-add latency a single dot waits on.
template <int Count, class K>
FATHOM_ALWAYS_INLINE void dotBlock(const float* const* q, const K* k, int64_t n, float* dots) {
  Vec16 acc[Count] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    Vec16 key = loadKey(k + i);
    for (int h = 0; h < Count; ++h)
      acc[h] += loadVec(q[h] + i) * key;
  }
  for (int h = 0; h < Count; ++h) {
    float sum = sumLanes(acc[h]);
    for (int64_t t = i; t < n; ++t)
      sum += q[h][t] * keyAt(k, t);
    dots[h] = sum;
  }
}

template <class K>
FATHOM_ALWAYS_INLINE void dotHeadsOf(const float* const* q, int count, const K* k, int64_t n,
                                     float* dots) {
  switch (count) {
  case 1:
    return dotBlock<1>(q, k, n, dots);
  case 2:
    return dotBlock<2>(q, k, n, dots);
  case 3:
    return dotBlock<3>(q, k, n, dots);
  case 4:
    return dotBlock<4>(q, k, n, dots);
  case 5:
    return dotBlock<5>(q, k, n, dots);
  case 6:
    return dotBlock<6>(q, k, n, dots);
  case 7:
    return dotBlock<7>(q, k, n, dots);
  default:
    return dotBlock<8>(q, k, n, dots);
  }
}

template <int Count, class X>
FATHOM_ALWAYS_INLINE void axpyBlock(const float* alpha, const X* x, float* const* acc, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    Vec16 value = loadKey(x + i);
    for (int h = 0; h < Count; ++h)
      storeVec(acc[h] + i, loadVec(acc[h] + i) + value * alpha[h]);
  }
  for (; i < n; ++i) {
    float value = keyAt(x, i);
    for (int h = 0; h < Count; ++h)
      acc[h][i] += alpha[h] * value;
  }
}

template <class X>
FATHOM_ALWAYS_INLINE void axpyHeadsOf(const float* alpha, int count, const X* x, float* const* acc,
                                      int64_t n) {
  switch (count) {
  case 1:
    return axpyBlock<1>(alpha, x, acc, n);
  case 2:
    return axpyBlock<2>(alpha, x, acc, n);
  case 3:
    return axpyBlock<3>(alpha, x, acc, n);
  case 4:
    return axpyBlock<4>(alpha, x, acc, n);
  case 5:
    return axpyBlock<5>(alpha, x, acc, n);
  case 6:
    return axpyBlock<6>(alpha, x, acc, n);
  case 7:
    return axpyBlock<7>(alpha, x, acc, n);
  default:
    return axpyBlock<8>(alpha, x, acc, n);
  }
}

} // namespace

FATHOM_CPU_CLONES
void dotHeads(const float* const* q, int count, const float* k, int64_t n, float* dots) {
  dotHeadsOf(q, count, k, n, dots);
}

FATHOM_CPU_CLONES
void dotHeads(const float* const* q, int count, const uint16_t* bf16, int64_t n, float* dots) {
  dotHeadsOf(q, count, bf16, n, dots);
}

FATHOM_CPU_CLONES
void axpyHeads(const float* alpha, int count, const float* x, float* const* acc, int64_t n) {
  axpyHeadsOf(alpha, count, x, acc, n);
}

FATHOM_CPU_CLONES
void axpyHeads(const float* alpha, int count, const uint16_t* bf16, float* const* acc, int64_t n) {
  axpyHeadsOf(alpha, count, bf16, acc, n);
}

} // namespace fathom::cpu::detail
