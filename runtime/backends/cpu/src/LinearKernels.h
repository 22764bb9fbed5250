#pragma once
// Internal to linear(): the resolved operands both GEMM paths share, and the weight widening
// (fp32 copy, bf16 shift, FP8 dequantization) that each per-ISA kernel inlines.
#include "Elements.h"
#include "Simd.h"
#include "fathom/cpu/Linear.h"

#include <algorithm>
#include <cstring>

namespace fathom::cpu::detail {

struct WeightSource {
  DType type = DType::F32;
  const void* data = nullptr;
  int64_t ld = 0;
  // FP8 only.
  const float* scales = nullptr;
  int64_t blockRows = 0, blockCols = 0, scaleCols = 0;
  bool roundDequantizedToBf16 = false;
};

// LinearArgs with every leading dimension filled in and the weight resolved.
struct LinearProblem {
  int64_t rows = 0, in = 0, out = 0;
  DType xType = DType::F32;
  const void* x = nullptr;
  int64_t ldx = 0;
  WeightSource w;
  DType biasType = DType::F32;
  const void* bias = nullptr;
  DType yType = DType::F32;
  void* y = nullptr;
  int64_t ldy = 0;
};

void linearRowwise(const LinearProblem& problem, ThreadPool& pool);
size_t linearTiledScratchBytes(int numThreads);
void linearTiled(const LinearProblem& problem, ThreadPool& pool, Scratch scratch);

// A vector loop rather than memcpy, which GCC inlines as `rep movsq`, several times slower for
// the 1 KiB rows copied here (the GEMM files are built with -fno-tree-loop-distribute-patterns
// so that this loop stays a loop).
template <class V>
FATHOM_ALWAYS_INLINE void copyFloats(const float* src, int64_t count, float* dst) {
  constexpr int L = kLanes<V>;
  int64_t k = 0;
  for (; k + L <= count; k += L)
    storeVec(dst + k, loadVec<V>(src + k));
  for (; k < count; ++k)
    dst[k] = src[k];
}

template <class V>
FATHOM_ALWAYS_INLINE void widenBf16(const uint16_t* src, int64_t count, float* dst) {
  constexpr int L = kLanes<V>;
  int64_t k = 0;
  for (; k + L <= count; k += L)
    storeVec(dst + k, loadBf16Vec<V>(src + k));
  for (; k < count; ++k)
    dst[k] = bf16ToFloat(src[k]);
}

// dst[0..count) = W[row, k0 .. k0+count) widened to fp32, with V-wide vectors.
template <class V>
FATHOM_ALWAYS_INLINE void widenWeightRow(const WeightSource& w, int64_t row, int64_t k0,
                                         int64_t count, float* dst) {
  constexpr int L = kLanes<V>;
  if (w.type == DType::F32)
    return copyFloats<V>(static_cast<const float*>(w.data) + row * w.ld + k0, count, dst);
  if (w.type == DType::BF16)
    return widenBf16<V>(static_cast<const uint16_t*>(w.data) + row * w.ld + k0, count, dst);
  // F8E4M3: w = f8(w8) * scale in fp32, per scale block.
  const uint8_t* src = static_cast<const uint8_t*>(w.data) + row * w.ld;
  const float* scaleRow = w.scales + (row / w.blockRows) * w.scaleCols;
  for (int64_t k = k0; k < k0 + count;) {
    const int64_t blockEnd = std::min(k0 + count, (k / w.blockCols + 1) * w.blockCols);
    const float scale = scaleRow[k / w.blockCols];
    for (; k + L <= blockEnd; k += L) {
      V v = loadF8e4m3Vec<V>(src + k) * scale;
      storeVec(dst + (k - k0), w.roundDequantizedToBf16 ? roundVecToBf16(v) : v);
    }
    for (; k < blockEnd; ++k) {
      float v = f8e4m3ToFloat(src[k]) * scale;
      dst[k - k0] = w.roundDequantizedToBf16 ? roundToBf16(v) : v;
    }
  }
}

// dst[0..count) = x[row, k0 .. k0+count) widened to fp32, with V-wide vectors.
template <class V>
FATHOM_ALWAYS_INLINE void widenActivationRow(const LinearProblem& p, int64_t row, int64_t k0,
                                             int64_t count, float* dst) {
  if (p.xType == DType::F32)
    return copyFloats<V>(static_cast<const float*>(p.x) + row * p.ldx + k0, count, dst);
  widenBf16<V>(static_cast<const uint16_t*>(p.x) + row * p.ldx + k0, count, dst);
}

// y[row, col] = round(acc + bias[col]) to y's dtype.
inline void storeOutput(const LinearProblem& p, int64_t row, int64_t col, float acc) {
  if (p.bias)
    acc += loadFloat(p.biasType, p.bias, col);
  if (p.yType == DType::F32)
    static_cast<float*>(p.y)[row * p.ldy + col] = acc;
  else
    static_cast<uint16_t*>(p.y)[row * p.ldy + col] = floatToBf16(acc);
}

} // namespace fathom::cpu::detail
