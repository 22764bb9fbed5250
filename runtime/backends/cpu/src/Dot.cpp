#include "Dot.h"

#include "Avx2.h"
#include "Simd.h"
#include "fathom/cpu/Isa.h"

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

#if FATHOM_X86_DISPATCH
// AVX2: the 16 lanes of each head as two 8-lane halves, one pass over the row per half, so that
// 8 heads' accumulators (8 registers instead of 16) leave room for the key and the query and
// nothing spills. Each lane's chain is DotLanes', so are the bits.
FATHOM_AVX2 FATHOM_ALWAYS_INLINE Vec8 loadKey8(const float* k) {
  return loadVec<Vec8>(k);
}
FATHOM_AVX2 FATHOM_ALWAYS_INLINE Vec8 loadKey8(const uint16_t* k) {
  return reinterpret_cast<Vec8>(loadBf16Avx2(k));
}

template <int Count> struct DotLanesAvx2 {
  template <class K>
  FATHOM_AVX2 FATHOM_ALWAYS_INLINE static void run(const float* const* q, const K* k, int64_t n,
                                                   float* dots) {
    alignas(32) float lanes[Count][16];
    const int64_t whole = n / 16 * 16;
    for (int part = 0; part < 2; ++part) {
      Vec8 acc[Count] = {};
      for (int64_t i = 8 * part; i < whole; i += 16) {
        Vec8 key = loadKey8(k + i);
        for (int l = 0; l < Count; ++l)
          acc[l] += loadVec<Vec8>(q[l] + i) * key;
      }
      for (int l = 0; l < Count; ++l)
        storeVec(lanes[l] + 8 * part, acc[l]);
    }
    float sums[Count];
    sumLanesOfEach(lanes, sums);
    for (int l = 0; l < Count; ++l) {
      float sum = sums[l];
      for (int64_t t = whole; t < n; ++t)
        sum += q[l][t] * keyAt(k, t);
      dots[l] = sum;
    }
  }
};
#endif

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

// Four heads at a time: their 16-lane accumulators take 8 of AVX2's 16 registers.
template <int Count> struct AxpyRowsLanes {
  template <class X>
  FATHOM_ALWAYS_INLINE static void run(const float (*weights)[kRowBlock], const X* const* x,
                                       int rows, float* const* acc, int64_t n) {
    if constexpr (Count > 4) {
      AxpyRowsLanes<4>::run(weights, x, rows, acc, n);
      AxpyRowsLanes<Count - 4>::run(weights + 4, x, rows, acc + 4, n);
    } else {
      int64_t i = 0;
      for (; i + 16 <= n; i += 16) {
        Vec16 sum[Count];
        for (int l = 0; l < Count; ++l)
          sum[l] = loadVec(acc[l] + i);
        for (int r = 0; r < rows; ++r) {
          Vec16 value = loadKey(x[r] + i);
          for (int l = 0; l < Count; ++l)
            sum[l] = sum[l] + value * weights[l][r];
        }
        for (int l = 0; l < Count; ++l)
          storeVec(acc[l] + i, sum[l]);
      }
      for (; i < n; ++i)
        for (int r = 0; r < rows; ++r) {
          float value = keyAt(x[r], i);
          for (int l = 0; l < Count; ++l)
            acc[l][i] += weights[l][r] * value;
        }
    }
  }
};

#if FATHOM_X86_DISPATCH
// AVX2: GCC keeps AxpyRowsLanes' Vec16 sums on the stack and widens bf16 through memory there,
// so this spells the 16 lanes as two 8-lane registers (each element's FMA chain unchanged).
template <int Count> struct AxpyRowsAvx2 {
  template <class X>
  FATHOM_AVX2 FATHOM_ALWAYS_INLINE static void run(const float (*weights)[kRowBlock],
                                                   const X* const* x, int rows, float* const* acc,
                                                   int64_t n) {
    if constexpr (Count > 4) {
      AxpyRowsAvx2<4>::run(weights, x, rows, acc, n);
      AxpyRowsAvx2<Count - 4>::run(weights + 4, x, rows, acc + 4, n);
    } else {
      int64_t i = 0;
      for (; i + 16 <= n; i += 16) {
        Vec8 lo[Count], hi[Count];
        for (int l = 0; l < Count; ++l) {
          lo[l] = loadVec<Vec8>(acc[l] + i);
          hi[l] = loadVec<Vec8>(acc[l] + i + 8);
        }
        for (int r = 0; r < rows; ++r) {
          const Vec8 valueLo = loadKey8(x[r] + i), valueHi = loadKey8(x[r] + i + 8);
          for (int l = 0; l < Count; ++l) {
            lo[l] = lo[l] + valueLo * weights[l][r];
            hi[l] = hi[l] + valueHi * weights[l][r];
          }
        }
        for (int l = 0; l < Count; ++l) {
          storeVec(acc[l] + i, lo[l]);
          storeVec(acc[l] + i + 8, hi[l]);
        }
      }
      for (; i < n; ++i)
        for (int r = 0; r < rows; ++r) {
          float value = keyAt(x[r], i);
          for (int l = 0; l < Count; ++l)
            acc[l][i] += weights[l][r] * value;
        }
    }
  }
};
#endif

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

namespace {

FATHOM_CPU_CLONES
void dotHeadsCloned(const float* const* q, int count, const float* k, int64_t n, float* dots) {
  withLaneCount<DotLanes>(count, q, k, n, dots);
}

FATHOM_CPU_CLONES
void dotHeadsCloned(const float* const* q, int count, const uint16_t* bf16, int64_t n,
                    float* dots) {
  withLaneCount<DotLanes>(count, q, bf16, n, dots);
}

#if FATHOM_X86_DISPATCH
template <class K>
FATHOM_AVX2 void dotHeadsAvx2(const float* const* q, int count, const K* k, int64_t n,
                              float* dots) {
  // withLaneCount's switch, written out: GCC inlines a target function only into another.
  switch (count) {
  case 1:
    return DotLanesAvx2<1>::run(q, k, n, dots);
  case 2:
    return DotLanesAvx2<2>::run(q, k, n, dots);
  case 3:
    return DotLanesAvx2<3>::run(q, k, n, dots);
  case 4:
    return DotLanesAvx2<4>::run(q, k, n, dots);
  case 5:
    return DotLanesAvx2<5>::run(q, k, n, dots);
  case 6:
    return DotLanesAvx2<6>::run(q, k, n, dots);
  case 7:
    return DotLanesAvx2<7>::run(q, k, n, dots);
  default:
    return DotLanesAvx2<8>::run(q, k, n, dots);
  }
}
#endif

template <class K>
FATHOM_ALWAYS_INLINE void dotHeadsOn(const float* const* q, int count, const K* k, int64_t n,
                                     float* dots) {
#if FATHOM_X86_DISPATCH
  if (gemmIsa() == Isa::Avx2)
    return dotHeadsAvx2(q, count, k, n, dots);
#endif
  dotHeadsCloned(q, count, k, n, dots);
}

} // namespace

void dotHeads(const float* const* q, int count, const float* k, int64_t n, float* dots) {
  dotHeadsOn(q, count, k, n, dots);
}

void dotHeads(const float* const* q, int count, const uint16_t* bf16, int64_t n, float* dots) {
  dotHeadsOn(q, count, bf16, n, dots);
}

FATHOM_CPU_CLONES
void axpyHeads(const float* alpha, int count, const float* x, float* const* acc, int64_t n) {
  withLaneCount<AxpyLanes>(count, alpha, x, acc, n);
}

FATHOM_CPU_CLONES
void axpyHeads(const float* alpha, int count, const uint16_t* bf16, float* const* acc, int64_t n) {
  withLaneCount<AxpyLanes>(count, alpha, bf16, acc, n);
}

namespace {

template <class X>
FATHOM_CPU_CLONES void axpyRowsCloned(const float (*weights)[kRowBlock], int count,
                                      const X* const* x, int rows, float* const* acc, int64_t n) {
  withLaneCount<AxpyRowsLanes>(count, weights, x, rows, acc, n);
}

#if FATHOM_X86_DISPATCH
template <class X>
FATHOM_AVX2 void axpyRowsAvx2(const float (*weights)[kRowBlock], int count, const X* const* x,
                              int rows, float* const* acc, int64_t n) {
  switch (count) { // withLaneCount's switch, written out (see dotHeadsAvx2)
  case 1:
    return AxpyRowsAvx2<1>::run(weights, x, rows, acc, n);
  case 2:
    return AxpyRowsAvx2<2>::run(weights, x, rows, acc, n);
  case 3:
    return AxpyRowsAvx2<3>::run(weights, x, rows, acc, n);
  case 4:
    return AxpyRowsAvx2<4>::run(weights, x, rows, acc, n);
  case 5:
    return AxpyRowsAvx2<5>::run(weights, x, rows, acc, n);
  case 6:
    return AxpyRowsAvx2<6>::run(weights, x, rows, acc, n);
  case 7:
    return AxpyRowsAvx2<7>::run(weights, x, rows, acc, n);
  default:
    return AxpyRowsAvx2<8>::run(weights, x, rows, acc, n);
  }
}
#endif

template <class X>
void axpyRowsOn(const float (*weights)[kRowBlock], int count, const X* const* x, int rows,
                float* const* acc, int64_t n) {
#if FATHOM_X86_DISPATCH
  if (gemmIsa() == Isa::Avx2)
    return axpyRowsAvx2(weights, count, x, rows, acc, n);
#endif
  axpyRowsCloned(weights, count, x, rows, acc, n);
}

} // namespace

void axpyHeadsOverRows(const float (*weights)[kRowBlock], int count, const float* const* x,
                       int rows, float* const* acc, int64_t n) {
  axpyRowsOn(weights, count, x, rows, acc, n);
}

void axpyHeadsOverRows(const float (*weights)[kRowBlock], int count, const uint16_t* const* bf16,
                       int rows, float* const* acc, int64_t n) {
  axpyRowsOn(weights, count, bf16, rows, acc, n);
}

} // namespace fathom::cpu::detail
