// The AVX2 decode GEMV kernels: one activation row against bf16 (six rows per call) or INT4
// (four) weight rows, and 2-8 activation rows against two weight rows (batched decode); FP8 is
// LinearDecodeFp8Avx2.cpp. Each weight is the value the exact path computes (float(q - zero) *
// scale, rounded to bf16 for a bf16 model) and each lane's FMA chain is the portable loop's, so
// the bits equal the portable path's (LinearTest, LinearInt4Test), at a fraction of its
// instructions:
//  - bf16: widened by vpmovzxwd + vpslld; enough rows in flight, few enough not to spill.
//  - INT4: each row's 16 dequantized values (per group) are two 8-entry tables; vpermps looks a
//    code's low 3 bits up in both and its bit 3 picks one (7 instructions per 8 weights). A bf16
//    model's weights are bf16, so vpshufb can look their two bytes up, 32 codes at a time.
//  - Batched rows: each 16-lane sum as two 8-lane passes, so 2 x 4 accumulators stay in registers.
#include "Avx2.h"
#include "LinearKernels.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#if FATHOM_X86_DISPATCH

namespace fathom::cpu::detail {
namespace {

// 8 INT4 codes (4 bytes, low nibble first) looked up in a row's two 8-entry tables.
FATHOM_AVX2 FATHOM_ALWAYS_INLINE __m256 lookUpU4(const uint8_t* codes, __m256 low, __m256 high) {
  int32_t word;
  std::memcpy(&word, codes, sizeof word);
  const __m256i index =
      _mm256_srlv_epi32(_mm256_set1_epi32(word), _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28));
  const __m256 fromLow = _mm256_permutevar8x32_ps(low, index);
  const __m256 fromHigh = _mm256_permutevar8x32_ps(high, index);
  return _mm256_blendv_ps(fromLow, fromHigh, _mm256_castsi256_ps(_mm256_slli_epi32(index, 28)));
}

// A bf16 model's INT4 decode looks codes up as bytes: the 16 bf16 weights of a row's group are
// two 16-byte tables (their low and high bytes), vpshufb finds 32 codes' bytes in each, and two
// unpacks put them back together as fp32 bits. Lane 0 of the codes' vector holds the low nibbles
// (even inputs), lane 1 the high ones (odd inputs), so each output vector holds its 8 inputs in
// the order kEvenOdd; x is permuted alike, each lane still sums one input residue in increasing
// order, and the accumulators are put back at the end: the bits of the vpermps kernel.
constexpr int kEvenOdd[8] = {0, 2, 4, 6, 1, 3, 5, 7};
constexpr int kEvenOddInverse[8] = {0, 4, 1, 5, 2, 6, 3, 7};

// v's bf16 rounding (roundVecToBf16) in the upper half of each lane, the lower half left as
// it falls.
FATHOM_AVX2 FATHOM_ALWAYS_INLINE __m256i bf16UpperHalves(Vec8 v, bool mayBeNan) {
  if (mayBeNan)
    return _mm256_castps_si256(toM256(roundVecToBf16(v)));
  const __m256i bits = _mm256_castps_si256(toM256(v));
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
  return _mm256_add_epi32(bits, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff)));
}

// 32 codes (16 bytes) of one row: its bf16 weights as four fp32 vectors, inputs
// {0..7}, {8..15}, {16..23}, {24..31} each in kEvenOdd order.
FATHOM_AVX2 FATHOM_ALWAYS_INLINE void lookUpU4Bytes(const uint8_t* codes, __m256i low, __m256i high,
                                                    __m256 (&w)[4]) {
  const __m256i both =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes)));
  const __m256i index = _mm256_and_si256(_mm256_blend_epi32(both, _mm256_srli_epi16(both, 4), 0xf0),
                                         _mm256_set1_epi8(0x0f));
  const __m256i lowBytes = _mm256_shuffle_epi8(low, index);
  const __m256i highBytes = _mm256_shuffle_epi8(high, index);
  bf16BytesToFloats(lowBytes, highBytes, w);
}

} // namespace

FATHOM_AVX2 void bf16RowsAvx2(const float* x, const uint16_t* const (&wRow)[kBf16RowsAvx2],
                              int64_t in, int64_t prefetchAhead, Vec8 (&acc)[kBf16RowsAvx2][2]) {
  constexpr int R = kBf16RowsAvx2;
  __m256 a[R][2];
  for (int j = 0; j < R; ++j) {
    a[j][0] = toM256(acc[j][0]);
    a[j][1] = toM256(acc[j][1]);
  }
  for (int64_t k = 0; k < in; k += 16) {
    if (prefetchAhead && k % 32 == 0)
      for (int j = 0; j < R; ++j)
        __builtin_prefetch(wRow[j] + prefetchAhead + k, 0, 2);
    const __m256 x0 = _mm256_loadu_ps(x + k), x1 = _mm256_loadu_ps(x + k + 8);
    for (int j = 0; j < R; ++j) {
      a[j][0] = _mm256_fmadd_ps(loadBf16Avx2(wRow[j] + k), x0, a[j][0]);
      a[j][1] = _mm256_fmadd_ps(loadBf16Avx2(wRow[j] + k + 8), x1, a[j][1]);
    }
  }
  for (int j = 0; j < R; ++j) {
    acc[j][0] = reinterpret_cast<Vec8>(a[j][0]);
    acc[j][1] = reinterpret_cast<Vec8>(a[j][1]);
  }
}

namespace {
// R activation rows x 2 weight rows (bf16 read in place, or fp32); each (row, output) pair's 16
// lanes are two passes of 8 (inputs k % 16 < 8, then the rest), so the 2R accumulators of a
// pass stay in registers.
template <int R, class W>
FATHOM_AVX2 FATHOM_ALWAYS_INLINE void
pairRows(const float* x, int64_t ldx, const W* const (&wRow)[2], int64_t in, int64_t prefetchAhead,
         float (&acc)[kMultiRowsAvx2][2][16]) {
  auto load = [](const W* w) FATHOM_AVX2 {
    if constexpr (std::is_same_v<W, float>)
      return _mm256_loadu_ps(w);
    else
      return loadBf16Avx2(w);
  };
  constexpr int64_t kLine = 64 / sizeof(W);
  for (int part = 0; part < 2; ++part) {
    __m256 a[R][2];
    for (int r = 0; r < R; ++r)
      a[r][0] = a[r][1] = _mm256_setzero_ps();
    for (int64_t k = 8 * part; k < in; k += 16) {
      if (part == 0 && prefetchAhead && k % kLine == 0)
        for (int j = 0; j < 2; ++j)
          __builtin_prefetch(wRow[j] + prefetchAhead + k, 0, 2);
      const __m256 w0 = load(wRow[0] + k), w1 = load(wRow[1] + k);
      for (int r = 0; r < R; ++r) {
        const __m256 xv = _mm256_loadu_ps(x + r * ldx + k);
        a[r][0] = _mm256_fmadd_ps(w0, xv, a[r][0]);
        a[r][1] = _mm256_fmadd_ps(w1, xv, a[r][1]);
      }
    }
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < 2; ++j)
        _mm256_storeu_ps(acc[r][j] + 8 * part, a[r][j]);
  }
}

template <class W>
FATHOM_AVX2 FATHOM_ALWAYS_INLINE void
multiRow(const float* x, int64_t ldx, int rows, const W* const (&wRow)[2], int64_t in,
         int64_t prefetchAhead, float (&acc)[kMultiRowsAvx2][2][16]) {
  switch (rows) {
  case 1:
    return pairRows<1>(x, ldx, wRow, in, prefetchAhead, acc);
  case 2:
    return pairRows<2>(x, ldx, wRow, in, prefetchAhead, acc);
  case 3:
    return pairRows<3>(x, ldx, wRow, in, prefetchAhead, acc);
  default:
    return pairRows<4>(x, ldx, wRow, in, prefetchAhead, acc);
  }
}
} // namespace

FATHOM_AVX2 void multiRowAvx2(const float* x, int64_t ldx, int rows,
                              const uint16_t* const (&wRow)[2], int64_t in, int64_t prefetchAhead,
                              float (&acc)[kMultiRowsAvx2][2][16]) {
  multiRow(x, ldx, rows, wRow, in, prefetchAhead, acc);
}

FATHOM_AVX2 void multiRowAvx2(const float* x, int64_t ldx, int rows, const float* const (&wRow)[2],
                              int64_t in, int64_t prefetchAhead,
                              float (&acc)[kMultiRowsAvx2][2][16]) {
  multiRow(x, ldx, rows, wRow, in, prefetchAhead, acc);
}

FATHOM_AVX2 void permuteEvenOddAvx2(const float* x, int64_t in, float* out) {
  const __m256i evenOdd = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kEvenOdd));
  for (int64_t k = 0; k < in; k += 8)
    _mm256_storeu_ps(out + k, _mm256_permutevar8x32_ps(_mm256_loadu_ps(x + k), evenOdd));
}

namespace {
// float(q - zero) * scale for q = 0..7 and 8..15 of one row's group, as loadU4Vec * scale
// computes it; true where the scale is not finite, the one way (q - zero) * scale is NaN.
FATHOM_AVX2 FATHOM_ALWAYS_INLINE bool u4GroupValues(const WeightSource& w, int64_t row,
                                                    int64_t group, Vec8& low, Vec8& high) {
  using I32 = VecTraits<Vec8>::I32;
  const float scale = w.scales[row * w.scaleCols + group];
  const int32_t zero = u4Zero(w, row, group);
  low = __builtin_convertvector(I32{0, 1, 2, 3, 4, 5, 6, 7} - zero, Vec8) * scale;
  high = __builtin_convertvector(I32{8, 9, 10, 11, 12, 13, 14, 15} - zero, Vec8) * scale;
  return !std::isfinite(scale);
}

// The byte lookups of a bf16 model, two rows at a time: their four tables, four accumulators
// and the weights in flight fill the 16 registers, and the activations (already in kEvenOdd
// order) are FMA memory operands. Four rows at once spilled tables and accumulators into the
// FMA chains.
FATHOM_AVX2 FATHOM_ALWAYS_INLINE void u4BytePair(const LinearProblem& p, const float* xEvenOdd,
                                                 const int64_t (&rowOf)[2], int numReal,
                                                 int64_t ahead, __m256 (&a)[2][2]) {
  const uint8_t* wRow[2];
  for (int j = 0; j < 2; ++j)
    wRow[j] = static_cast<const uint8_t*>(p.w.data) + rowOf[j] * (p.w.ld / 2);
  for (int64_t k0 = 0; k0 < p.in; k0 += p.w.blockCols) {
    const int64_t group = k0 / p.w.blockCols, kEnd = std::min(p.in, k0 + p.w.blockCols);
    __m256i lowBytes[2], highBytes[2];
    for (int j = 0; j < 2; ++j) {
      Vec8 low, high;
      const bool mayBeNan = u4GroupValues(p.w, rowOf[j], group, low, high);
      bf16ByteTables(bf16UpperHalves(low, mayBeNan), bf16UpperHalves(high, mayBeNan), lowBytes[j],
                     highBytes[j]);
      if (j < numReal)
        prefetchWeightRow(p.w, p.out, rowOf[j] + ahead, k0, kEnd);
    }
    for (int64_t k = k0; k < kEnd; k += 32)
      for (int j = 0; j < 2; ++j) {
        __m256 w[4];
        lookUpU4Bytes(wRow[j] + k / 2, lowBytes[j], highBytes[j], w);
        a[j][0] = _mm256_fmadd_ps(w[0], _mm256_loadu_ps(xEvenOdd + k), a[j][0]);
        a[j][1] = _mm256_fmadd_ps(w[1], _mm256_loadu_ps(xEvenOdd + k + 8), a[j][1]);
        a[j][0] = _mm256_fmadd_ps(w[2], _mm256_loadu_ps(xEvenOdd + k + 16), a[j][0]);
        a[j][1] = _mm256_fmadd_ps(w[3], _mm256_loadu_ps(xEvenOdd + k + 24), a[j][1]);
      }
  }
}
} // namespace

FATHOM_AVX2 void widenU4RowAvx2(const WeightSource& w, int64_t row, int64_t k0, int64_t count,
                                float* dst) {
  const uint8_t* src = static_cast<const uint8_t*>(w.data) + row * (w.ld / 2);
  const __m256i inverse = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kEvenOddInverse));
  const int64_t end = k0 + count;
  for (int64_t k = k0; k < end;) {
    const int64_t group = k / w.blockCols, groupEnd = std::min(end, (group + 1) * w.blockCols);
    const int64_t lookUpEnd =
        w.roundDequantizedToBf16 && k % 2 == 0 ? k + (groupEnd - k) / 32 * 32 : k;
    if (lookUpEnd > k) {
      Vec8 low, high;
      const bool mayBeNan = u4GroupValues(w, row, group, low, high);
      __m256i lowBytes, highBytes;
      bf16ByteTables(bf16UpperHalves(low, mayBeNan), bf16UpperHalves(high, mayBeNan), lowBytes,
                     highBytes);
      for (; k < lookUpEnd; k += 32) {
        __m256 v[4];
        lookUpU4Bytes(src + k / 2, lowBytes, highBytes, v);
        for (int i = 0; i < 4; ++i) // back from kEvenOdd to input order
          _mm256_storeu_ps(dst + (k - k0) + 8 * i, _mm256_permutevar8x32_ps(v[i], inverse));
      }
    }
    if (k < groupEnd)
      widenU4Row<Vec8>(w, row, k, groupEnd - k, dst + (k - k0));
    k = groupEnd;
  }
}

bool u4ByteLookupApplies(const LinearProblem& p) {
  return p.w.type == DType::U4 && p.w.roundDequantizedToBf16 && p.in % 32 == 0 &&
         p.w.blockCols % 32 == 0;
}

FATHOM_AVX2 void u4RowsAvx2(const LinearProblem& p, const float* x, const int64_t (&rowOf)[4],
                            int64_t numOut, int64_t ahead, Vec8 (&acc)[4][2]) {
  if (u4ByteLookupApplies(p)) { // x is in kEvenOdd order: lane l sums input residue kEvenOdd[l]
    const __m256i evenOdd = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kEvenOdd));
    const __m256i inverse = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kEvenOddInverse));
    for (int pair = 0; 2 * pair < numOut; ++pair) { // padding rows are never stored
      __m256 a[2][2];
      for (int j = 0; j < 2; ++j)
        for (int part = 0; part < 2; ++part)
          a[j][part] = _mm256_permutevar8x32_ps(toM256(acc[2 * pair + j][part]), evenOdd);
      const int64_t rows[2] = {rowOf[2 * pair], rowOf[2 * pair + 1]};
      u4BytePair(p, x, rows, int(std::min<int64_t>(numOut - 2 * pair, 2)), ahead, a);
      for (int j = 0; j < 2; ++j)
        for (int part = 0; part < 2; ++part)
          acc[2 * pair + j][part] =
              reinterpret_cast<Vec8>(_mm256_permutevar8x32_ps(a[j][part], inverse));
    }
    return;
  }
  __m256 a[4][2];
  for (int j = 0; j < 4; ++j) {
    a[j][0] = toM256(acc[j][0]);
    a[j][1] = toM256(acc[j][1]);
  }
  for (int64_t k0 = 0; k0 < p.in; k0 += p.w.blockCols) {
    const int64_t group = k0 / p.w.blockCols, kEnd = std::min(p.in, k0 + p.w.blockCols);
    __m256 low[4], high[4];
    for (int j = 0; j < 4; ++j) {
      Vec8 lowValues, highValues;
      const bool mayBeNan = u4GroupValues(p.w, rowOf[j], group, lowValues, highValues);
      if (p.w.roundDequantizedToBf16) {
        lowValues = mayBeNan ? roundVecToBf16(lowValues) : roundVecToBf16NoNan(lowValues);
        highValues = mayBeNan ? roundVecToBf16(highValues) : roundVecToBf16NoNan(highValues);
      }
      low[j] = toM256(lowValues);
      high[j] = toM256(highValues);
      if (j < numOut)
        prefetchWeightRow(p.w, p.out, rowOf[j] + ahead, k0, kEnd);
    }
    for (int64_t k = k0; k < kEnd; k += 16) {
      const __m256 x0 = _mm256_loadu_ps(x + k), x1 = _mm256_loadu_ps(x + k + 8);
      for (int j = 0; j < 4; ++j) {
        const uint8_t* codes =
            static_cast<const uint8_t*>(p.w.data) + rowOf[j] * (p.w.ld / 2) + k / 2;
        a[j][0] = _mm256_fmadd_ps(lookUpU4(codes, low[j], high[j]), x0, a[j][0]);
        a[j][1] = _mm256_fmadd_ps(lookUpU4(codes + 4, low[j], high[j]), x1, a[j][1]);
      }
    }
  }
  for (int j = 0; j < 4; ++j) {
    acc[j][0] = reinterpret_cast<Vec8>(a[j][0]);
    acc[j][1] = reinterpret_cast<Vec8>(a[j][1]);
  }
}

} // namespace fathom::cpu::detail
#endif
