#pragma once
// Internal to linear(): the resolved operands both GEMM paths share, and the weight widening
// (fp32 copy, bf16 shift, FP8 and INT4 dequantization) that each per-ISA kernel inlines.
#include "Elements.h"
#include "Simd.h"
#include "fathom/cpu/Isa.h"
#include "fathom/cpu/Linear.h"
#include "fathom/runtime/BlockQuant.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

namespace fathom::cpu::detail {

struct WeightSource {
  DType type = DType::F32;
  const void* data = nullptr;
  int64_t ld = 0; // elements (U4: even, ld / 2 bytes per row)
  // FP8 and U4 only.
  const float* scales = nullptr;
  int64_t blockRows = 0, blockCols = 0, scaleCols = 0;
  bool roundDequantizedToBf16 = false;
  // U4 only: zero points, scaleCols per row packed two per byte.
  const uint8_t* zeros = nullptr;
};

// Bytes of one stored weight row, and the address of element k of row `row`.
inline int64_t weightRowBytes(const WeightSource& w) {
  switch (w.type) {
  case DType::U4:
    return w.ld / 2;
  case DType::F8E4M3:
    return w.ld;
  case DType::BF16:
    return 2 * w.ld;
  default:
    return 4 * w.ld;
  }
}
inline const char* weightAddress(const WeightSource& w, int64_t row, int64_t k) {
  const int64_t element = w.type == DType::U4 ? k / 2 : k * (weightRowBytes(w) / w.ld);
  return static_cast<const char*>(w.data) + row * weightRowBytes(w) + element;
}

// Decode streams many short weight rows at once (2 KB for 1024 bf16 inputs), too short for the
// hardware prefetcher to ramp up on each, so the rowwise kernels fetch (into L2) the rows about
// kPrefetchBytes ahead of the ones they compute on. Measured on Zen 4 (cpu_kernels_bench rows:1
// and fathom-run --profile), this took bf16 decode on tools/bench/e2e's model from 12.3 to
// 9.7 ms per token.
constexpr int64_t kPrefetchBytes = 32 << 10;

// How many rows ahead the kernels prefetch: at least one block of rowsPerBlock.
inline int64_t prefetchRows(const WeightSource& w, int64_t rowsPerBlock) {
  const int64_t rowBytes = std::max<int64_t>(1, weightRowBytes(w));
  return std::max(rowsPerBlock, (kPrefetchBytes + rowBytes - 1) / rowBytes);
}

// Prefetches the cache lines of inputs [k0, kEnd) of weight row `row`, when it exists.
inline void prefetchWeightRow(const WeightSource& w, int64_t rows, int64_t row, int64_t k0,
                              int64_t kEnd) {
  if (row >= rows)
    return;
  const char* begin = weightAddress(w, row, k0);
  const char* end = weightAddress(w, row, kEnd);
  for (const char* line = begin; line < end; line += 64)
    __builtin_prefetch(line, 0, 2);
}

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
  // y's first column is this output column (a grouped GEMM's per-thread tile); 0 otherwise.
  int64_t yColumnBase = 0;
};

// Checks LinearArgs (fathom::Error) and fills in the defaults.
LinearProblem resolveLinear(const LinearArgs& args);

void linearRowwise(const LinearProblem& problem, ThreadPool& pool);
size_t linearTiledScratchBytes(int numThreads);
void linearTiled(const LinearProblem& problem, ThreadPool& pool, Scratch scratch);

// One thread's share of a GEMM, for callers that schedule many GEMMs in one parallel region
// (the grouped expert GEMMs). The bits of an output never depend on how the work is split.
// Rowwise (rows <= kRowwiseMaxRows): outputs [outBegin, outEnd) of every row.
void linearRowwiseRange(const LinearProblem& problem, int64_t outBegin, int64_t outEnd);
// The INT4 and FP8 decode GEMV of a bf16 model on avx512bf16 (LinearDecodeBf16Dot.cpp):
// whether it applies, the activations as it reads them (per thread, valid until the next
// call), and outputs [outBegin, outEnd) of the one row, false (nothing written) where the rows'
// scales need the exact path.
bool bf16DotDecodeApplies(const LinearProblem& problem);
const uint16_t* bf16DotActivations(const LinearProblem& problem);
bool bf16DotDecodeRows(const LinearProblem& problem, const uint16_t* activations, int64_t outBegin,
                       int64_t outEnd);
// The FP8 decode kernels' bit trick (the code's bits worth code * 2^-120, one multiply by
// scale * 2^120) needs scale * 2^120 exact and finite, and not NaN.
inline bool fp8ScaleFitsBitTrick(float scale) {
  return std::fabs(scale) < 0x1p8f;
}

// Rows per AVX2 bf16 single-row block: 12 accumulators, which the 16 registers hold with x
// and a weight (8 rows spilled two).
inline constexpr int kBf16RowsAvx2 = 6;
#if FATHOM_X86_DISPATCH
// The AVX2 single-row decode of FP8 (LinearDecodeFp8Avx2.cpp) and INT4 weights
// (LinearDecodeAvx2.cpp): every input of four weight rows (the first `numOut` real, the rest
// repeats) into their accumulators, part 0 the lanes of inputs k % 16 < 8, part 1 the rest,
// with the bits of singleRowBlockFp8 / U4's
// portable loops; weight rows `ahead` rows on are prefetched. Inputs and blocks multiples of 16.
// FP8 returns false, having done nothing, when a scale of these rows needs the exact path.
// bf16: all `in` inputs of kBf16RowsAvx2 rows, prefetching each row prefetchAhead elements on.
void bf16RowsAvx2(const float* x, const uint16_t* const (&wRow)[kBf16RowsAvx2], int64_t in,
                  int64_t prefetchAhead, Vec8 (&acc)[kBf16RowsAvx2][2]);
// Batched decode (2-8 rows): `rows` (<= kMultiRowsAvx2) fp32 activation rows, ldx apart,
// against two weight rows (bf16 in place, or fp32: fp32 weights, or quantized ones widened by
// widenWeightRow), each (row, output)'s 16 lanes in acc: the lanes rowwiseBlock sums, in its
// order.
inline constexpr int kMultiRowsAvx2 = 4;
void multiRowAvx2(const float* x, int64_t ldx, int rows, const uint16_t* const (&wRow)[2],
                  int64_t in, int64_t prefetchAhead, float (&acc)[kMultiRowsAvx2][2][16]);
void multiRowAvx2(const float* x, int64_t ldx, int rows, const float* const (&wRow)[2], int64_t in,
                  int64_t prefetchAhead, float (&acc)[kMultiRowsAvx2][2][16]);
// xBytes: for fp8ByteLookupApplies problems the activations permuted by fp8ByteActivations
// (the byte lookups read them), else null.
bool fp8RowsAvx2(const LinearProblem& p, const float* x, const float* xBytes,
                 const uint8_t* const (&wRow)[4], const float* const (&scaleRow)[4],
                 int64_t outBegin, int64_t numOut, int64_t ahead, Vec8 (&acc)[4][2]);
bool fp8ByteLookupApplies(const LinearProblem& p);
void fp8ByteActivations(const float* x, int64_t in, float* out);
void u4RowsAvx2(const LinearProblem& p, const float* x, const int64_t (&rowOf)[4], int64_t numOut,
                int64_t ahead, Vec8 (&acc)[4][2]);
// A bf16 model's INT4 rows are looked up as bytes (u4ByteLookupApplies); that form reads its
// activations with every 8 inputs permuted by permuteEvenOddAvx2 (once per call, not per block).
bool u4ByteLookupApplies(const LinearProblem& p);
void permuteEvenOddAvx2(const float* x, int64_t in, float* out);
// widenWeightRow's FP8 case (LinearDecodeFp8Avx2.cpp): the single-row kernel's decode, the same
// values.
void widenFp8RowAvx2(const WeightSource& w, int64_t row, int64_t k0, int64_t count, float* dst);
// widenWeightRow's INT4 case (LinearDecodeAvx2.cpp): a bf16 model's groups looked up as bytes
// 32 codes at a time, as the single-row kernel does; widenU4Row's values.
void widenU4RowAvx2(const WeightSource& w, int64_t row, int64_t k0, int64_t count, float* dst);
#endif
// Tiled: rows [rowBegin, rowEnd) x outputs [colBegin, colEnd), with one thread's slot of
// linearTiledThreadBytes().
size_t linearTiledThreadBytes();
void linearTiledRange(const LinearProblem& problem, int64_t rowBegin, int64_t rowEnd,
                      int64_t colBegin, int64_t colEnd, std::byte* threadSlot);

// The tiled GEMM's blocking and per-thread buffers, shared by its fp32 tasks (LinearTiled.cpp)
// and its bf16 dot-product task (LinearTiledBf16.cpp).
inline constexpr int64_t kTiledInputsPerBlock = 256; // MR rows of x and a W strip stay in L1/L2
inline constexpr int64_t kTiledOutputsPerTask = 64;  // a multiple of every NR
inline constexpr int64_t kTiledMaxRowsPerTask = 128; // 16 panels of the largest MR

// Sizes in floats, with Kc = kTiledInputsPerBlock, Nb = kTiledOutputsPerTask and
// Mb = kTiledMaxRowsPerTask.
struct TiledBuffers {
  float* xRows;   // [Mb][Kc] x widened to fp32
  float* wRows;   // [16][Kc] W rows widened to fp32, before transposition
  float* wStrips; // [Nb / NR][Kc][NR] (the bf16 task: [Nb / NR][Kc pairs][NR] 32-bit pairs)
  float* tile;    // [Mb][Nb] fp32 partial sums
};

// Computes y[rowBegin, rowEnd) x [colBegin, colEnd) (at most kTiledMaxRowsPerTask rows and
// kTiledOutputsPerTask outputs) with one thread's buffers.
using TiledTaskFn = void (*)(const LinearProblem&, int64_t rowBegin, int64_t rowEnd,
                             int64_t colBegin, int64_t colEnd, const TiledBuffers&);

#if FATHOM_X86_DISPATCH
// bf16 x and bf16 W (or FP8 W dequantized to bf16) with an even number of inputs: the operands
// vdpbf16ps takes.
bool dotBf16Applies(const LinearProblem& problem);
// The task on vdpbf16ps; only for CPUs with avx512bf16 (Isa::Avx512Bf16).
void tiledTaskDotBf16(const LinearProblem& problem, int64_t rowBegin, int64_t rowEnd,
                      int64_t colBegin, int64_t colEnd, const TiledBuffers& buffers);
#endif

// Shuffle masks for one level of a transpose: the upper row keeps a[l] where bit S of l is
// clear and takes b[l - S] where it is set; the lower row takes a[l + S] where it is clear and
// keeps b[l] where it is set (indices >= lanes select from b).
template <class V, int S, bool Lower, int... l>
constexpr typename VecTraits<V>::I32 levelMask(std::integer_sequence<int, l...>) {
  constexpr int L = kLanes<V>;
  return typename VecTraits<V>::I32{
      (Lower ? ((l & S) ? L + l : l + S) : ((l & S) ? L + l - S : l))...};
}

template <class V, int S> FATHOM_ALWAYS_INLINE void transposeLevel(V (&rows)[kLanes<V>]) {
  constexpr int L = kLanes<V>;
  constexpr auto upper = levelMask<V, S, false>(std::make_integer_sequence<int, L>{});
  constexpr auto lower = levelMask<V, S, true>(std::make_integer_sequence<int, L>{});
  for (int i = 0; i < L; ++i)
    if ((i & S) == 0) {
      V a = rows[i], b = rows[i + S];
      rows[i] = shuffle(a, b, upper);
      rows[i + S] = shuffle(a, b, lower);
    }
}

// Transposes an L x L block in registers (rows[i][l] <-> rows[l][i]): each level swaps the
// off-diagonal S x S blocks of every 2S x 2S block.
template <class V> FATHOM_ALWAYS_INLINE void transpose(V (&rows)[kLanes<V>]) {
  transposeLevel<V, 1>(rows);
  transposeLevel<V, 2>(rows);
  if constexpr (kLanes < V >> 4)
    transposeLevel<V, 4>(rows);
  if constexpr (kLanes < V >> 8)
    transposeLevel<V, 8>(rows);
}

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

// The U4 zero point of `row`'s group `group`.
FATHOM_ALWAYS_INLINE int32_t u4Zero(const WeightSource& w, int64_t row, int64_t group) {
  return loadU4(w.zeros + row * u4RowBytes(w.scaleCols), group);
}

// INT4: w = float(q - zero) * scale in fp32 per group (rounded to bf16 for a bf16 model).
template <class V>
FATHOM_ALWAYS_INLINE void widenU4Row(const WeightSource& w, int64_t row, int64_t k0, int64_t count,
                                     float* dst) {
  constexpr int L = kLanes<V>;
  const uint8_t* src = static_cast<const uint8_t*>(w.data) + row * (w.ld / 2);
  const float* scaleRow = w.scales + row * w.scaleCols;
  for (int64_t k = k0; k < k0 + count;) {
    const int64_t group = k / w.blockCols;
    const int64_t groupEnd = std::min(k0 + count, (group + 1) * w.blockCols);
    const float scale = scaleRow[group];
    const int32_t zero = u4Zero(w, row, group);
    // (q - zero) * scale is NaN only for a scale that is not finite.
    const bool mayBeNan = !std::isfinite(scale);
    for (; k % 2 == 0 && k + L <= groupEnd; k += L) {
      V v = loadU4Vec<V>(src + k / 2, zero) * scale;
      if (w.roundDequantizedToBf16)
        v = mayBeNan ? roundVecToBf16(v) : roundVecToBf16NoNan(v);
      storeVec(dst + (k - k0), v);
    }
    for (; k < groupEnd; ++k) {
      float v = float(int32_t(loadU4(src, k)) - zero) * scale;
      dst[k - k0] = w.roundDequantizedToBf16 ? roundToBf16(v) : v;
    }
  }
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
#if FATHOM_X86_DISPATCH
  if constexpr (L == 8)
    if (gemmIsa() == Isa::Avx2)
      return w.type == DType::U4 ? widenU4RowAvx2(w, row, k0, count, dst)
                                 : widenFp8RowAvx2(w, row, k0, count, dst);
#endif
  if (w.type == DType::U4)
    return widenU4Row<V>(w, row, k0, count, dst);
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
    static_cast<float*>(p.y)[row * p.ldy + col - p.yColumnBase] = acc;
  else
    static_cast<uint16_t*>(p.y)[row * p.ldy + col - p.yColumnBase] = floatToBf16(acc);
}

} // namespace fathom::cpu::detail
