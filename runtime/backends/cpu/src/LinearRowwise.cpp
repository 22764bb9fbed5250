// The decode GEMM (rows <= kRowwiseMaxRows): memory-bound on W, so W is streamed once and each
// output is a dot product. Outputs are split across threads in blocks.
//
// Summation order of one output: lane l of 16 sums inputs k = l (mod 16) in increasing k with
// FMAs, then the 16 lanes are added in a fixed tree (sumLanes). Narrower ISAs hold the 16 lanes
// in two (AVX2) or four (baseline) vectors, so AVX2 and AVX-512 give identical bits; the
// baseline build has no FMA.
#include "LinearKernels.h"
#include "fathom/cpu/Isa.h"

#if FATHOM_X86_DISPATCH
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

namespace fathom::cpu::detail {
namespace {

constexpr int64_t kChunk = 256; // inputs widened at a time; a block of rows of it fits in L1

// acc[j] (16 lanes each) += w_j[k] * x[k] over k < padded. W is fp32 or, read in place, bf16
// (widened in registers, which for one or two rows beats a round trip through a buffer).
template <class V, int kOut, class W>
FATHOM_ALWAYS_INLINE void dotBlock(const W* const (&wRow)[kOut], const float* xRow, int64_t padded,
                                   float (&acc)[kOut][16], int64_t prefetchAhead = 0) {
  constexpr int L = kLanes<V>, kParts = 16 / L;
  auto load = [](const W* p) {
    if constexpr (std::is_same_v<W, float>)
      return loadVec<V>(p);
    else
      return loadBf16Vec<V>(p);
  };
  V a[kOut][kParts];
  for (int j = 0; j < kOut; ++j)
    for (int part = 0; part < kParts; ++part)
      a[j][part] = loadVec<V>(acc[j] + part * L);
  for (int64_t k = 0; k < padded; k += 16) {
    if (prefetchAhead && k % (64 / sizeof(W)) == 0)
      for (int j = 0; j < kOut; ++j)
        __builtin_prefetch(wRow[j] + prefetchAhead + k, 0, 2);
    for (int part = 0; part < kParts; ++part) {
      V xv = loadVec<V>(xRow + k + part * L);
      for (int j = 0; j < kOut; ++j)
        a[j][part] += load(wRow[j] + k + part * L) * xv;
    }
  }
  for (int j = 0; j < kOut; ++j)
    for (int part = 0; part < kParts; ++part)
      storeVec(acc[j] + part * L, a[j][part]);
}

// Row 0's outputs outBegin.. from the first numOut of kOut 16-lane accumulators.
template <int kOut>
FATHOM_ALWAYS_INLINE void storeSums(const LinearProblem& p, int64_t outBegin, int64_t numOut,
                                    const float (&acc)[kOut][16]) {
  float sums[kOut];
  sumLanesOfEach(acc, sums);
  for (int64_t j = 0; j < numOut; ++j)
    storeOutput(p, 0, outBegin + j, sums[j]);
}

// Outputs [outBegin, outEnd), at most kOut of them.
template <class V, int kOut>
FATHOM_ALWAYS_INLINE void rowwiseBlock(const LinearProblem& p, int64_t outBegin, int64_t outEnd) {
  alignas(64) float wBuf[kOut][kChunk];
  alignas(64) float xBuf[kChunk];
  alignas(64) float acc[kRowwiseMaxRows][kOut][16] = {};
  const int64_t numOut = outEnd - outBegin;
  const bool bf16InPlace = p.w.type == DType::BF16 && p.rows <= 2;
  const int64_t ahead = prefetchRows(p.w, kOut);

  for (int64_t k0 = 0; k0 < p.in; k0 += kChunk) {
    const int64_t count = std::min(kChunk, p.in - k0);
    const int64_t padded = (count + 15) / 16 * 16;
    for (int64_t j = 0; j < numOut; ++j)
      prefetchWeightRow(p.w, p.out, outBegin + j + ahead, k0, k0 + count);
    const bool inPlace = count == padded && (p.w.type == DType::F32 || bf16InPlace);
    const float* wRow[kOut];
    const uint16_t* wRowBf16[kOut];
    for (int64_t j = 0; j < kOut; ++j) {
      const int64_t out = outBegin + std::min(j, numOut - 1); // padding outputs: never stored
      if (inPlace && p.w.type == DType::BF16) {
        wRowBf16[j] = static_cast<const uint16_t*>(p.w.data) + out * p.w.ld + k0;
      } else if (inPlace) {
        wRow[j] = static_cast<const float*>(p.w.data) + out * p.w.ld + k0;
      } else if (j < numOut) {
        widenWeightRow<V>(p.w, out, k0, count, wBuf[j]);
        std::fill(wBuf[j] + count, wBuf[j] + padded, 0.0f);
        wRow[j] = wBuf[j];
      } else {
        wRow[j] = wBuf[0];
      }
    }
    for (int64_t r = 0; r < p.rows; ++r) {
      const float* xRow;
      if (p.xType == DType::F32 && count == padded) {
        xRow = static_cast<const float*>(p.x) + r * p.ldx + k0;
      } else {
        widenActivationRow<V>(p, r, k0, count, xBuf);
        std::fill(xBuf + count, xBuf + padded, 0.0f);
        xRow = xBuf;
      }
      if (inPlace && p.w.type == DType::BF16)
        dotBlock<V, kOut>(wRowBf16, xRow, padded, acc[r]);
      else
        dotBlock<V, kOut>(wRow, xRow, padded, acc[r]);
    }
  }

  for (int64_t r = 0; r < p.rows; ++r) {
    float sums[kOut];
    sumLanesOfEach(acc[r], sums);
    for (int64_t j = 0; j < numOut; ++j)
      storeOutput(p, r, outBegin + j, sums[j]);
  }
}

// One activation row against whole weight rows read in place (fp32 or bf16, inputs a multiple
// of 16): no chunking, so the weights stream without interruption and the accumulators stay in
// registers from the first input to the last. Same summation order as rowwiseBlock.
template <class V, int kOut, class W>
FATHOM_ALWAYS_INLINE void singleRowBlock(const LinearProblem& p, const float* x, int64_t outBegin,
                                         int64_t outEnd) {
  alignas(64) float acc[kOut][16] = {};
  const int64_t numOut = outEnd - outBegin;
  const W* wRow[kOut];
  for (int64_t j = 0; j < kOut; ++j) // padding outputs repeat the last one and are never stored
    wRow[j] = static_cast<const W*>(p.w.data) + (outBegin + std::min(j, numOut - 1)) * p.w.ld;
  const int64_t prefetchAhead = prefetchRows(p.w, kOut) * p.w.ld;
#if FATHOM_X86_DISPATCH
  if constexpr (kLanes<V> == 8 && std::is_same_v<W, uint16_t> && kOut == kBf16RowsAvx2) {
    Vec8 a[kOut][2];
    for (int j = 0; j < kOut; ++j)
      a[j][0] = a[j][1] = Vec8{};
    bf16RowsAvx2(x, wRow, p.in, prefetchAhead, a);
    for (int j = 0; j < kOut; ++j) {
      storeVec(acc[j], a[j][0]);
      storeVec(acc[j] + 8, a[j][1]);
    }
  } else
#endif
    dotBlock<V, kOut, W>(wRow, x, p.in, acc, prefetchAhead);
  storeSums(p, outBegin, numOut, acc);
}

#if FATHOM_X86_DISPATCH
// AVX-512 FP8 decode for the single-row path, out of line (its intrinsics need the target; one
// call covers a 128-input block of 8 rows). The sign and the 7 magnitude bits of a code moved to
// fp32's bit 31 and bits 20-26 are the code's value times 2^-120 exactly (normal codes: the
// exponent rebiased by that factor; subnormal ones: fp32 subnormals of the same ratio), so one
// multiply by scale * 2^120 (exact for |scale| < 2^8) rounds the same real product as
// loadF8e4m3Vec(p) * scale: the same bits. NaN codes (magnitude 0x7f) become its NaN.
//
// One definition, compiled for each target: ROUND_TO_BF16(w) is roundVecToBf16 or, with
// avx512bf16, vcvtneps2bf16 (nearest even, NaN quieted alike; it flushes fp32 subnormals, which
// the caller rules out) and back.
#define FATHOM_FP8_BLOCK(NAME, TARGET, ROUND_TO_BF16)                                              \
  __attribute__((target(TARGET))) void NAME(                                                       \
      const LinearProblem& p, const float* x, const uint8_t* const(&wRow)[8],                      \
      const float(&scale)[8], int64_t k0, int64_t kEnd, Vec16(&acc)[8][1]) {                       \
    __m512 a[8], wide[8];                                                                          \
    for (int j = 0; j < 8; ++j) {                                                                  \
      a[j] = reinterpret_cast<__m512>(acc[j][0]);                                                  \
      wide[j] = _mm512_set1_ps(scale[j] * 0x1p120f);                                               \
    }                                                                                              \
    const bool toBf16 = p.w.roundDequantizedToBf16;                                                \
    const __m512i magnitudes = _mm512_set1_epi32(0x7f),                                            \
                  signAndMagnitude = _mm512_set1_epi32(int(0x87f00000u));                          \
    const __m512i nan = _mm512_set1_epi32(0x7fc00000);                                             \
    for (int64_t k = k0; k < kEnd; k += 16) {                                                      \
      const __m512 xv = _mm512_loadu_ps(x + k);                                                    \
      for (int j = 0; j < 8; ++j) {                                                                \
        const __m512i c =                                                                          \
            _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wRow[j] + k)));  \
        __m512i bits =                                                                             \
            _mm512_and_si512(_mm512_srai_epi32(_mm512_slli_epi32(c, 24), 4), signAndMagnitude);    \
        bits = _mm512_mask_mov_epi32(                                                              \
            bits, _mm512_cmpeq_epi32_mask(_mm512_and_si512(c, magnitudes), magnitudes), nan);      \
        __m512 w = _mm512_mul_ps(_mm512_castsi512_ps(bits), wide[j]);                              \
        if (toBf16)                                                                                \
          w = ROUND_TO_BF16(w);                                                                    \
        a[j] = _mm512_fmadd_ps(w, xv, a[j]);                                                       \
      }                                                                                            \
    }                                                                                              \
    for (int j = 0; j < 8; ++j)                                                                    \
      acc[j][0] = reinterpret_cast<Vec16>(a[j]);                                                   \
  }

#define FATHOM_ROUND_VEC_TO_BF16(w)                                                                \
  reinterpret_cast<__m512>(roundVecToBf16(reinterpret_cast<Vec16>(w)))
#define FATHOM_CVT_TO_BF16(w)                                                                      \
  _mm512_castsi512_ps(_mm512_slli_epi32(                                                           \
      _mm512_cvtepu16_epi32(reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(w))), 16))
// GCC 12's intrinsic headers trip -Wmaybe-uninitialized on their _mm512_undefined_* operands.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
FATHOM_FP8_BLOCK(fp8BlockAvx512, "arch=x86-64-v4", FATHOM_ROUND_VEC_TO_BF16)
FATHOM_FP8_BLOCK(fp8BlockAvx512Bf16, "arch=x86-64-v4,avx512bf16", FATHOM_CVT_TO_BF16)
#pragma GCC diagnostic pop
#undef FATHOM_FP8_BLOCK
#undef FATHOM_ROUND_VEC_TO_BF16
#undef FATHOM_CVT_TO_BF16
#endif

// One activation row against FP8 weight rows dequantized in registers: each 16-byte group of a
// row through loadF8e4m3Vec, times its block's scale (rounded to bf16 for a bf16 model), then
// the same FMA as the other paths, so the bits equal rowwiseBlock's widened-buffer route.
// Needs inputs and blockCols multiples of 16.
template <class V, int kOut>
FATHOM_ALWAYS_INLINE void singleRowBlockFp8(const LinearProblem& p, const float* x,
                                            int64_t outBegin, int64_t outEnd) {
  constexpr int L = kLanes<V>, kParts = 16 / L;
  const int64_t numOut = outEnd - outBegin;
  const uint8_t* wRow[kOut];
  const float* scaleRow[kOut];
  for (int64_t j = 0; j < kOut; ++j) { // padding outputs repeat the last one, never stored
    const int64_t out = outBegin + std::min(j, numOut - 1);
    wRow[j] = static_cast<const uint8_t*>(p.w.data) + out * p.w.ld;
    scaleRow[j] = p.w.scales + (out / p.w.blockRows) * p.w.scaleCols;
  }
  V a[kOut][kParts];
  for (int j = 0; j < kOut; ++j)
    for (int part = 0; part < kParts; ++part)
      a[j][part] = V{};
  const int64_t ahead = prefetchRows(p.w, kOut);
  bool done = false;
#if FATHOM_X86_DISPATCH
  if constexpr (L == 8 && kOut == 4)
    done = fp8RowsAvx2(p, x, fp8ByteLookupApplies(p) ? x + p.in : nullptr, wRow, scaleRow, outBegin,
                       numOut, ahead, a);
#endif
  for (int64_t k0 = 0; !done && k0 < p.in; k0 += p.w.blockCols) {
    const int64_t kEnd = std::min(p.in, k0 + p.w.blockCols);
    for (int j = 0; j < numOut; ++j)
      prefetchWeightRow(p.w, p.out, outBegin + j + ahead, k0, kEnd);
    float scale[kOut];
    // The out-of-line AVX-512 decode needs scale * 2^120 exact and finite (not NaN), and for
    // vcvtneps2bf16 products that are never fp32 subnormals (|code| >= 2^-9, so |scale| >= 2^-116
    // keeps them normal).
    bool scalesFit = true, noSubnormals = true;
    for (int j = 0; j < kOut; ++j) {
      scale[j] = scaleRow[j][k0 / p.w.blockCols];
      scalesFit &= fp8ScaleFitsBitTrick(scale[j]);
      noSubnormals &= std::fabs(scale[j]) >= 0x1p-116f || scale[j] == 0.0f;
    }
#if FATHOM_X86_DISPATCH
    if constexpr (L == 16 && kOut == 8) {
      if (scalesFit) {
        if (gemmIsa() >= Isa::Avx512Bf16 && noSubnormals)
          fp8BlockAvx512Bf16(p, x, wRow, scale, k0, kEnd, a);
        else
          fp8BlockAvx512(p, x, wRow, scale, k0, kEnd, a);
        continue;
      }
    }
#endif
    for (int64_t k = k0; k < kEnd; k += 16)
      for (int part = 0; part < kParts; ++part) {
        V xv = loadVec<V>(x + k + part * L);
        for (int j = 0; j < kOut; ++j) {
          V w = loadF8e4m3Vec<V>(wRow[j] + k + part * L) * scale[j];
          if (p.w.roundDequantizedToBf16)
            w = roundVecToBf16(w);
          a[j][part] += w * xv;
        }
      }
  }
  alignas(64) float acc[kOut][16];
  for (int j = 0; j < kOut; ++j)
    for (int part = 0; part < kParts; ++part)
      storeVec(acc[j] + part * L, a[j][part]);
  storeSums(p, outBegin, numOut, acc);
}

// AVX-512 reads 16 codes as one broadcast 64-bit word shifted per lane: even lanes 2m take
// nibble m of the low half, odd lanes 2m + 1 nibble m of the high half, i.e. input 8 + m. The
// activations are permuted the same way, so each lane still sums its inputs in increasing k, and
// the lanes are put back in input order before the fixed-order lane sum.
using I32x16 = VecTraits<Vec16>::I32;
constexpr I32x16 kU4Lanes = {0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15};
constexpr I32x16 kU4LanesInverse = {0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15};

FATHOM_ALWAYS_INLINE VecTraits<Vec16>::U32 loadU4CodesInterleaved(const uint8_t* p) {
  typedef uint64_t U64x8 __attribute__((vector_size(64)));
  using U32 = VecTraits<Vec16>::U32;
  uint64_t word;
  std::memcpy(&word, p, sizeof word);
  return bitCast<U32>(U64x8{} + word) >>
         U32{0, 0, 4, 4, 8, 8, 12, 12, 16, 16, 20, 20, 24, 24, 28, 28};
}

// One activation row against INT4 weight rows dequantized in registers. Per group each row's
// 16 dequantized values float(q - zero) * scale (rounded to bf16 for a bf16 model) form a
// table; on AVX-512 the codes index it in one permute (lanes in kU4Lanes order), elsewhere they
// are converted. Either way the weights equal widenU4Row's and the FMAs are the other paths', so
// are the bits.
// Needs inputs and blockCols multiples of 16.
template <class V, int kOut>
FATHOM_ALWAYS_INLINE void singleRowBlockU4(const LinearProblem& p, const float* x, int64_t outBegin,
                                           int64_t outEnd) {
  constexpr int L = kLanes<V>, kParts = 16 / L;
  using I32 = typename VecTraits<V>::I32;
  const int64_t numOut = outEnd - outBegin;
  const uint8_t* wRow[kOut];
  int64_t rowOf[kOut];
  for (int64_t j = 0; j < kOut; ++j) { // padding outputs repeat the last one, never stored
    rowOf[j] = outBegin + std::min(j, numOut - 1);
    wRow[j] = static_cast<const uint8_t*>(p.w.data) + rowOf[j] * (p.w.ld / 2);
  }
  V a[kOut][kParts];
  for (int j = 0; j < kOut; ++j)
    for (int part = 0; part < kParts; ++part)
      a[j][part] = V{};
  const int64_t ahead = prefetchRows(p.w, kOut);
  bool done = false;
#if FATHOM_X86_DISPATCH
  if constexpr (L == 8 && kOut == 4) {
    u4RowsAvx2(p, x, rowOf, numOut, ahead, a);
    done = true;
  }
#endif
  for (int64_t k0 = 0; !done && k0 < p.in; k0 += p.w.blockCols) {
    const int64_t group = k0 / p.w.blockCols, kEnd = std::min(p.in, k0 + p.w.blockCols);
    V table[kOut]; // AVX-512: the 16 values of each row's codes
    float scale[kOut];
    int32_t zero[kOut];
    for (int j = 0; j < kOut; ++j) {
      if (j < numOut)
        prefetchWeightRow(p.w, p.out, rowOf[j] + ahead, k0, kEnd);
      scale[j] = p.w.scales[rowOf[j] * p.w.scaleCols + group];
      zero[j] = u4Zero(p.w, rowOf[j], group);
      if constexpr (L == 16) {
        V codes = __builtin_convertvector(
            I32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15} - zero[j], V);
        table[j] = codes * scale[j];
        if (p.w.roundDequantizedToBf16)
          table[j] = roundVecToBf16(table[j]);
      }
    }
    for (int64_t k = k0; k < kEnd; k += 16)
      for (int part = 0; part < kParts; ++part) {
        V xv = loadVec<V>(x + k + part * L);
        if constexpr (L == 16)
          xv = __builtin_shuffle(xv, kU4Lanes);
        for (int j = 0; j < kOut; ++j) {
          const uint8_t* codes = wRow[j] + (k + part * L) / 2;
          V w;
          if constexpr (L == 16) {
            w = __builtin_shuffle(table[j], I32(loadU4CodesInterleaved(codes)));
          } else {
            w = loadU4Vec<V>(codes, zero[j]) * scale[j];
            if (p.w.roundDequantizedToBf16)
              w = roundVecToBf16(w);
          }
          a[j][part] += w * xv;
        }
      }
  }
  alignas(64) float acc[kOut][16];
  for (int j = 0; j < kOut; ++j)
    for (int part = 0; part < kParts; ++part) {
      if constexpr (L == 16) // lane l summed input l' = kU4Lanes[l]: put it back in lane l'
        a[j][part] = __builtin_shuffle(a[j][part], kU4LanesInverse);
      storeVec(acc[j] + part * L, a[j][part]);
    }
  storeSums(p, outBegin, numOut, acc);
}

// Outputs [outBegin, outEnd), in blocks of kOut weight rows. bf16 rows go 2 * kOut at a time
// (AVX2: kBf16RowsAvx2): more concurrent streams keep more memory requests in flight, which the
// half-size rows need to reach the bandwidth fp32 reaches with kOut (whose 2 * kOut row pointers
// would spill).
template <class V, int kOut>
FATHOM_ALWAYS_INLINE void singleRow(const LinearProblem& p, const float* x, int64_t outBegin,
                                    int64_t outEnd) {
  if (p.w.type == DType::BF16) {
    constexpr int kRows = kLanes<V> == 8 ? kBf16RowsAvx2 : 2 * kOut;
    for (int64_t begin = outBegin; begin < outEnd; begin += kRows)
      singleRowBlock<V, kRows, uint16_t>(p, x, begin, std::min(outEnd, begin + kRows));
    return;
  }
  for (int64_t begin = outBegin; begin < outEnd; begin += kOut) {
    const int64_t end = std::min(outEnd, begin + kOut);
    if (p.w.type == DType::F8E4M3)
      singleRowBlockFp8<V, kOut>(p, x, begin, end);
    else if (p.w.type == DType::U4)
      singleRowBlockU4<V, kOut>(p, x, begin, end);
    else
      singleRowBlock<V, kOut, float>(p, x, begin, end);
  }
}

// One entry per ISA; kOut * 16 / lanes accumulators fill half the register file.
using BlockFn = void (*)(const LinearProblem&, int64_t, int64_t);
using SingleRowFn = void (*)(const LinearProblem&, const float*, int64_t, int64_t);
#if FATHOM_X86_DISPATCH
__attribute__((target("arch=x86-64-v4"))) void blockAvx512(const LinearProblem& p, int64_t b,
                                                           int64_t e) {
  rowwiseBlock<Vec16, 8>(p, b, e);
}
__attribute__((target("arch=x86-64-v4"))) void
singleRowAvx512(const LinearProblem& p, const float* x, int64_t b, int64_t e) {
  singleRow<Vec16, 8>(p, x, b, e);
}
__attribute__((target("arch=x86-64-v3"))) void blockAvx2(const LinearProblem& p, int64_t b,
                                                         int64_t e) {
  rowwiseBlock<Vec8, 4>(p, b, e);
}
__attribute__((target("arch=x86-64-v3"))) void singleRowAvx2(const LinearProblem& p, const float* x,
                                                             int64_t b, int64_t e) {
  singleRow<Vec8, 4>(p, x, b, e);
}
#endif
void blockBaseline(const LinearProblem& p, int64_t b, int64_t e) {
  rowwiseBlock<Vec4, 2>(p, b, e);
}
void singleRowBaseline(const LinearProblem& p, const float* x, int64_t b, int64_t e) {
  singleRow<Vec4, 2>(p, x, b, e);
}

struct Kernel {
  BlockFn block;
  int64_t outputsPerBlock;
  SingleRowFn singleRow;
  int64_t outputsPerSingleRowBlock;
};

Kernel kernelFor(Isa isa) {
#if FATHOM_X86_DISPATCH
  if (isa >= Isa::Avx512)
    return {blockAvx512, 8, singleRowAvx512, 16};
  if (isa == Isa::Avx2) // 12: two bf16 blocks of kBf16RowsAvx2, three of 4 otherwise
    return {blockAvx2, 4, singleRowAvx2, 12};
#endif
  (void)isa;
  return {blockBaseline, 2, singleRowBaseline, 4};
}

// One decode token (the common case) against fp32, bf16, FP8 or INT4 weights (scale blocks
// whole vectors wide): the activation row widened once here, then whole weight rows streamed
// by singleRow.
bool singleRowApplies(const LinearProblem& p) {
  const bool blocked =
      (p.w.type == DType::F8E4M3 || p.w.type == DType::U4) && p.w.blockCols % 16 == 0;
  return p.rows == 1 && p.in % 16 == 0 &&
         (p.w.type == DType::F32 || p.w.type == DType::BF16 || blocked);
}

// The AVX2 INT4 byte lookups take theirs permuted (u4ByteLookupApplies); the FP8 ones read a
// permuted copy right after them, at x + in, and the other paths x (fp8ByteLookupApplies).
const float* activationAsFloats(const LinearProblem& p, Isa isa) {
  const float* x = static_cast<const float*>(p.x);
  thread_local std::vector<float> widened;
#if FATHOM_X86_DISPATCH
  const bool fp8Bytes = isa == Isa::Avx2 && fp8ByteLookupApplies(p);
#else
  const bool fp8Bytes = false;
#endif
  if (p.xType != DType::F32 || fp8Bytes) {
    widened.resize(size_t(fp8Bytes ? 2 * p.in : p.in));
    if (p.xType == DType::F32)
      std::copy(x, x + p.in, widened.data());
    else
      widenBf16<Vec4>(static_cast<const uint16_t*>(p.x), p.in, widened.data());
    x = widened.data();
  }
#if FATHOM_X86_DISPATCH
  if (fp8Bytes)
    fp8ByteActivations(x, p.in, widened.data() + p.in);
  if (isa == Isa::Avx2 && u4ByteLookupApplies(p)) {
    thread_local std::vector<float> permuted;
    permuted.resize(size_t(p.in));
    permuteEvenOddAvx2(x, p.in, permuted.data());
    return permuted.data();
  }
#endif
  (void)isa;
  return x;
}

#if FATHOM_X86_DISPATCH
// Batched decode on AVX2: every activation row widened once (rowwiseBlock widens each 256-input
// chunk again for every block of outputs), then two weight rows at a time against up to four
// rows held in registers; bf16 and fp32 weights are read in place, FP8 and INT4 ones widened
// (by the same widenWeightRow as rowwiseBlock) into a per-thread pair of rows. The bits are
// rowwiseBlock's.
bool multiRowApplies(const LinearProblem& p) {
  return gemmIsa() == Isa::Avx2 && p.rows >= 2 && p.in % 16 == 0;
}

const float* activationRowsAsFloats(const LinearProblem& p) {
  thread_local std::vector<float> widened;
  widened.resize(size_t(p.rows * p.in));
  for (int64_t r = 0; r < p.rows; ++r)
    widenActivationRow<Vec4>(p, r, 0, p.in, widened.data() + r * p.in);
  return widened.data();
}

__attribute__((target("arch=x86-64-v3"))) void multiRowRows(const LinearProblem& p, const float* x,
                                                            int64_t outBegin, int64_t outEnd) {
  thread_local std::vector<float> widenedPair;
  const bool inPlace = p.w.type == DType::BF16 || p.w.type == DType::F32;
  if (!inPlace)
    widenedPair.resize(size_t(2 * p.in));
  const int64_t aheadRows = prefetchRows(p.w, 2);
  const int64_t ahead = inPlace ? aheadRows * p.w.ld : 0;
  for (int64_t begin = outBegin; begin < outEnd; begin += 2) {
    const int64_t numOut = std::min<int64_t>(2, outEnd - begin);
    int64_t rowOf[2];
    for (int64_t j = 0; j < 2; ++j) // a padding output repeats the last one, never stored
      rowOf[j] = begin + std::min(j, numOut - 1);
    const uint16_t* bf16Rows[2];
    const float* floatRows[2];
    for (int j = 0; j < 2; ++j) {
      if (p.w.type == DType::BF16) {
        bf16Rows[j] = static_cast<const uint16_t*>(p.w.data) + rowOf[j] * p.w.ld;
      } else if (p.w.type == DType::F32) {
        floatRows[j] = static_cast<const float*>(p.w.data) + rowOf[j] * p.w.ld;
      } else {
        if (j < numOut)
          prefetchWeightRow(p.w, p.out, rowOf[j] + aheadRows, 0, p.in);
        widenWeightRow<Vec8>(p.w, rowOf[j], 0, p.in, widenedPair.data() + j * p.in);
        floatRows[j] = widenedPair.data() + j * p.in;
      }
    }
    for (int64_t r0 = 0; r0 < p.rows; r0 += kMultiRowsAvx2) {
      const int rows = int(std::min<int64_t>(kMultiRowsAvx2, p.rows - r0));
      const int64_t prefetch = r0 == 0 ? ahead : 0;
      float acc[kMultiRowsAvx2][2][16] = {};
      if (p.w.type == DType::BF16)
        multiRowAvx2(x + r0 * p.in, p.in, rows, bf16Rows, p.in, prefetch, acc);
      else
        multiRowAvx2(x + r0 * p.in, p.in, rows, floatRows, p.in, prefetch, acc);
      float sums[kMultiRowsAvx2 * 2]; // [row][weight row]
      sumLanesOfEach(reinterpret_cast<const float(&)[kMultiRowsAvx2 * 2][16]>(acc), sums);
      for (int r = 0; r < rows; ++r)
        for (int64_t j = 0; j < numOut; ++j)
          storeOutput(p, r0 + r, begin + j, sums[2 * r + j]);
    }
  }
}
#endif

} // namespace

void linearRowwiseRange(const LinearProblem& p, int64_t outBegin, int64_t outEnd) {
  const Isa isa = gemmIsa();
  const Kernel kernel = kernelFor(isa);
#if FATHOM_X86_DISPATCH
  if (multiRowApplies(p))
    return multiRowRows(p, activationRowsAsFloats(p), outBegin, outEnd);
#endif
  const uint16_t* dotX = bf16DotDecodeApplies(p) ? bf16DotActivations(p) : nullptr;
  const bool singleRow = singleRowApplies(p);
  const float* x = nullptr; // widened only for blocks the bf16 dot-product kernel leaves
  const int64_t perBlock = singleRow ? kernel.outputsPerSingleRowBlock : kernel.outputsPerBlock;
  for (int64_t begin = outBegin; begin < outEnd; begin += perBlock) {
    const int64_t end = std::min(outEnd, begin + perBlock);
    if (dotX && bf16DotDecodeRows(p, dotX, begin, end))
      continue;
    if (singleRow && !x)
      x = activationAsFloats(p, isa);
    if (singleRow)
      kernel.singleRow(p, x, begin, end);
    else
      kernel.block(p, begin, end);
  }
}

void linearRowwise(const LinearProblem& p, ThreadPool& pool) {
  const Kernel kernel = kernelFor(gemmIsa());
  const int64_t perBlock =
      singleRowApplies(p) ? kernel.outputsPerSingleRowBlock : kernel.outputsPerBlock;
  const int64_t numBlocks = (p.out + perBlock - 1) / perBlock;
  // About 64K weights per chunk keeps the scheduling overhead small.
  const int64_t grain = std::max<int64_t>(1, 65536 / (perBlock * p.in));
  pool.parallelFor(0, numBlocks, grain, [&](int64_t first, int64_t last) {
    linearRowwiseRange(p, first * perBlock, std::min(p.out, last * perBlock));
  });
}

} // namespace fathom::cpu::detail
