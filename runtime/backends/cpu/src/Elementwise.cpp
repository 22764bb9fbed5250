// Residual add and the gated activation, with HF's bf16 rounding after every tensor op.
#include "fathom/cpu/Elementwise.h"
#include "Elements.h"
#include "Simd.h"

#include <algorithm>

namespace fathom::cpu {
namespace detail {

FATHOM_CPU_CLONES
void addRow(const uint16_t* a, const uint16_t* b, uint16_t* out, int64_t count) {
  int64_t i = 0;
  for (; i + 16 <= count; i += 16)
    storeBf16Vec(out + i, roundVecToBf16(loadBf16Vec(a + i) + loadBf16Vec(b + i)));
  for (; i < count; ++i)
    out[i] = floatToBf16(bf16ToFloat(a[i]) + bf16ToFloat(b[i]));
}

FATHOM_CPU_CLONES
void addRow(const float* a, const float* b, float* out, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    out[i] = a[i] + b[i];
}

} // namespace detail

namespace {
constexpr int64_t kElementGrain = 16384;
} // namespace

void add(ThreadPool& pool, DType type, const void* a, const void* b, void* out, int64_t count) {
  detail::withActivationType(type, "add", "a", [&](auto tag) {
    using T = decltype(tag);
    pool.parallelFor(0, count, kElementGrain, [&](int64_t first, int64_t last) {
      const T* pa = static_cast<const T*>(a) + first;
      const T* pb = static_cast<const T*>(b) + first;
      T* po = static_cast<T*>(out) + first;
      detail::addRow(pa, pb, po, last - first);
    });
  });
}

void siluMul(ThreadPool& pool, DType type, const void* gate, int64_t ldGate, const void* up,
             int64_t ldUp, int64_t rows, int64_t width, void* out, int64_t ldOut) {
  detail::withActivationType(type, "siluMul", "gate", [&](auto tag) {
    using T = decltype(tag);
    const int64_t grain = std::max<int64_t>(1, kElementGrain / std::max<int64_t>(width, 1));
    pool.parallelFor(0, rows, grain, [&](int64_t first, int64_t last) {
      for (int64_t r = first; r < last; ++r)
        detail::siluMulRow(static_cast<const T*>(gate) + r * ldGate,
                           static_cast<const T*>(up) + r * ldUp, width,
                           static_cast<T*>(out) + r * ldOut);
    });
  });
}

} // namespace fathom::cpu
