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

// One accumulator chain per lane, so every lane sums in the one-lane order; the lanes'
// independent chains also hide the multiply-add latency a single chain waits on.
template <int Count> struct DotLanes {
  template <class K>
  FATHOM_ALWAYS_INLINE static void run(const float* const* q, const K* k, int64_t n, float* dots) {
    Vec16 acc[Count] = {};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
      Vec16 key = loadKey(k + i);
      for (int l = 0; l < Count; ++l)
        acc[l] += loadVec(q[l] + i) * key;
    }
    for (int l = 0; l < Count; ++l) {
      float sum = sumLanes(acc[l]);
      for (int64_t t = i; t < n; ++t)
        sum += q[l][t] * keyAt(k, t);
      dots[l] = sum;
    }
  }
};

template <int Count> struct AxpyLanes {
  template <class X>
  FATHOM_ALWAYS_INLINE static void run(const float* alpha, const X* x, float* const* acc,
                                       int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
      Vec16 value = loadKey(x + i);
      for (int l = 0; l < Count; ++l)
        storeVec(acc[l] + i, loadVec(acc[l] + i) + value * alpha[l]);
    }
    for (; i < n; ++i) {
      float value = keyAt(x, i);
      for (int l = 0; l < Count; ++l)
        acc[l][i] += alpha[l] * value;
    }
  }
};

// Op<count>::run(args...) with the count a compile-time constant, so the lanes' accumulators
// live in registers.
template <template <int> class Op, class... Args>
FATHOM_ALWAYS_INLINE void withLaneCount(int count, Args... args) {
  static_assert(kMaxLanes == 8);
  switch (count) {
  case 1:
    return Op<1>::run(args...);
  case 2:
    return Op<2>::run(args...);
  case 3:
    return Op<3>::run(args...);
  case 4:
    return Op<4>::run(args...);
  case 5:
    return Op<5>::run(args...);
  case 6:
    return Op<6>::run(args...);
  case 7:
    return Op<7>::run(args...);
  default:
    return Op<8>::run(args...);
  }
}

} // namespace

FATHOM_CPU_CLONES
void dotHeads(const float* const* q, int count, const float* k, int64_t n, float* dots) {
  withLaneCount<DotLanes>(count, q, k, n, dots);
}

FATHOM_CPU_CLONES
void dotHeads(const float* const* q, int count, const uint16_t* bf16, int64_t n, float* dots) {
  withLaneCount<DotLanes>(count, q, bf16, n, dots);
}

FATHOM_CPU_CLONES
void axpyHeads(const float* alpha, int count, const float* x, float* const* acc, int64_t n) {
  withLaneCount<AxpyLanes>(count, alpha, x, acc, n);
}

FATHOM_CPU_CLONES
void axpyHeads(const float* alpha, int count, const uint16_t* bf16, float* const* acc, int64_t n) {
  withLaneCount<AxpyLanes>(count, alpha, bf16, acc, n);
}

} // namespace fathom::cpu::detail
