// The decode GEMV of a bf16 model with INT4 or FP8 weights on CPUs with avx512bf16. HF's bf16
// model holds each dequantized weight rounded to bf16 and multiplies bf16 activations by it, so
// both operands are bf16: vdpbf16ps multiplies them exactly and adds two products per fp32 lane,
// and a table of the bf16 weights a code stands for turns codes into weights (vpermw). That is
// fewer instructions per weight than dequantizing to fp32 and an FMA, which is what bounds
// quantized decode on a two-core machine. The instruction rounds each add to nearest even and
// flushes subnormals, as the bf16 prefill GEMM does; scales that would make a table entry
// subnormal take the exact path instead. Summation order of one output is fixed (below) and
// ends in the fixed lane sum.
//
// INT4 (16-entry table per row and group): a row's 32 bytes for inputs [k, k + 64) widen to 32
// words, each byte's low nibble (input k + 2i) indexing the table directly and its high nibble
// (input k + 2i + 1) after a shift; the activations are rearranged once per call to match (the
// even inputs of each 64, then the odd ones). Lane m adds, per 64 inputs, the pairs
// (k + 4m, k + 4m + 2) and then (k + 4m + 1, k + 4m + 3).
//
// FP8 (128-entry table of magnitudes per 128 x 128 scale block, shared by its rows): 32 codes
// widen to words, two two-register lookups by the low 6 bits are blended by bit 6, and the sign
// bit is copied (rounding to nearest even is symmetric). Activations are read in place; lane m
// adds the pairs (k + 2m, k + 2m + 1) per 32 inputs.
#include "LinearKernels.h"
#include "fathom/cpu/Isa.h"

#if FATHOM_X86_DISPATCH
#include <immintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace fathom::cpu::detail {
namespace {

constexpr int64_t kInputsPerStep = 64;    // INT4: 32 bytes of codes
constexpr int64_t kFp8InputsPerStep = 32; // 32 bytes of codes
constexpr int kRows = 8;

#if FATHOM_X86_DISPATCH
#define FATHOM_TARGET_AVX512_BF16 __attribute__((target("arch=x86-64-v4,avx512bf16")))
// GCC 12's intrinsic headers trip -Wmaybe-uninitialized on their _mm512_undefined_* operands.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// The 16 bf16 weights codes 0..15 stand for, (c - zero) * scale rounded as the other paths round
// them, in both 256-bit halves (vpermw indexes 32 words by the low 5 bits; bit 4 is the
// neighbouring nibble's, so the halves must agree).
FATHOM_TARGET_AVX512_BF16 FATHOM_ALWAYS_INLINE __m512i codeTable(float scale, int32_t zero) {
  typedef int32_t I32x16 __attribute__((vector_size(64)));
  const I32x16 codes = I32x16{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15} - zero;
  const Vec16 weights = roundVecToBf16(__builtin_convertvector(codes, Vec16) * scale);
  const __m256i words = _mm512_cvtepi32_epi16(_mm512_srli_epi32(bitCast<__m512i>(weights), 16));
  return _mm512_inserti64x4(_mm512_castsi256_si512(words), words, 1);
}

// Outputs [outBegin, outBegin + kRows) (the ones past outEnd repeat the last, never stored).
FATHOM_TARGET_AVX512_BF16 void u4RowsBf16Dot(const LinearProblem& p, const uint16_t* paired,
                                             int64_t outBegin, int64_t outEnd) {
  const int64_t numOut = outEnd - outBegin, rowBytes = p.w.ld / 2;
  const uint8_t* wRow[kRows];
  int64_t rowOf[kRows];
  for (int j = 0; j < kRows; ++j) {
    rowOf[j] = outBegin + std::min<int64_t>(j, numOut - 1);
    wRow[j] = static_cast<const uint8_t*>(p.w.data) + rowOf[j] * rowBytes;
  }
  const int64_t ahead = prefetchRows(p.w, kRows);
  __m512 acc[kRows];
  for (__m512& a : acc)
    a = _mm512_setzero_ps();
  for (int64_t k0 = 0; k0 < p.in; k0 += p.w.blockCols) {
    const int64_t group = k0 / p.w.blockCols, kEnd = std::min(p.in, k0 + p.w.blockCols);
    __m512i table[kRows];
    for (int j = 0; j < kRows; ++j) {
      if (j < numOut)
        prefetchWeightRow(p.w, p.out, rowOf[j] + ahead, k0, kEnd);
      table[j] =
          codeTable(p.w.scales[rowOf[j] * p.w.scaleCols + group], u4Zero(p.w, rowOf[j], group));
    }
    for (int64_t k = k0; k < kEnd; k += kInputsPerStep) {
      const __m512bh xEven = reinterpret_cast<__m512bh>(_mm512_loadu_si512(paired + k));
      const __m512bh xOdd = reinterpret_cast<__m512bh>(_mm512_loadu_si512(paired + k + 32));
      for (int j = 0; j < kRows; ++j) {
        const __m512i bytes = _mm512_cvtepu8_epi16(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wRow[j] + k / 2)));
        const __m512i even = _mm512_permutexvar_epi16(bytes, table[j]);
        const __m512i odd = _mm512_permutexvar_epi16(_mm512_srli_epi16(bytes, 4), table[j]);
        acc[j] = _mm512_dpbf16_ps(acc[j], reinterpret_cast<__m512bh>(even), xEven);
        acc[j] = _mm512_dpbf16_ps(acc[j], reinterpret_cast<__m512bh>(odd), xOdd);
      }
    }
  }
  for (int64_t j = 0; j < numOut; ++j)
    storeOutput(p, 0, outBegin + j, sumLanes(bitCast<Vec16>(acc[j])));
}

// The bf16 words of fp8(m) * scale for magnitudes m = 0..127 of each column block of one
// 128-row scale block, rounded as the exact path rounds them; kept per thread for the next rows
// of the same block (keyed by the scale values, so a different matrix never reuses them).
struct Fp8Tables {
  std::vector<float> scales;
  std::vector<uint16_t> words; // [column block][128]
  const uint16_t* of(const LinearProblem& p, int64_t rowBlock) {
    const float* row = p.w.scales + rowBlock * p.w.scaleCols;
    if (scales.size() == size_t(p.w.scaleCols) && std::equal(scales.begin(), scales.end(), row))
      return words.data();
    static const std::array<float, 128> magnitudes = [] {
      std::array<float, 128> values;
      for (int m = 0; m < 128; ++m)
        values[size_t(m)] = f8e4m3ToFloat(uint8_t(m));
      return values;
    }();
    scales.assign(row, row + p.w.scaleCols);
    words.resize(size_t(p.w.scaleCols) * 128);
    for (int64_t g = 0; g < p.w.scaleCols; ++g)
      for (int m = 0; m < 128; m += 16) {
        // the exact path's product and rounding, 16 at a time
        const Vec16 w = roundVecToBf16(loadVec<Vec16>(magnitudes.data() + m) * scales[size_t(g)]);
        for (int i = 0; i < 16; ++i)
          words[size_t(g * 128 + m + i)] = uint16_t(bitCast<VecTraits<Vec16>::U32>(w)[i] >> 16);
      }
    return words.data();
  }
};

// Outputs [outBegin, outBegin + kRows), all in one scale block.
FATHOM_TARGET_AVX512_BF16 void fp8RowsBf16Dot(const LinearProblem& p, const uint16_t* tables,
                                              int64_t outBegin, int64_t outEnd) {
  const int64_t numOut = outEnd - outBegin;
  const uint8_t* wRow[kRows];
  for (int j = 0; j < kRows; ++j)
    wRow[j] = static_cast<const uint8_t*>(p.w.data) +
              (outBegin + std::min<int64_t>(j, numOut - 1)) * p.w.ld;
  const int64_t ahead = prefetchRows(p.w, kRows);
  const uint16_t* x = static_cast<const uint16_t*>(p.x);
  const __m512i signBit = _mm512_set1_epi16(int16_t(0x8000)), bit6 = _mm512_set1_epi16(0x40);
  __m512 acc[kRows];
  for (__m512& a : acc)
    a = _mm512_setzero_ps();
  for (int64_t k0 = 0; k0 < p.in; k0 += p.w.blockCols) {
    const int64_t kEnd = std::min(p.in, k0 + p.w.blockCols);
    for (int j = 0; j < numOut; ++j)
      prefetchWeightRow(p.w, p.out, outBegin + j + ahead, k0, kEnd);
    const uint16_t* table = tables + (k0 / p.w.blockCols) * 128;
    const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 32);
    const __m512i t2 = _mm512_loadu_si512(table + 64), t3 = _mm512_loadu_si512(table + 96);
    for (int64_t k = k0; k < kEnd; k += kFp8InputsPerStep) {
      const __m512bh xv = reinterpret_cast<__m512bh>(_mm512_loadu_si512(x + k));
      for (int j = 0; j < kRows; ++j) {
        const __m512i codes =
            _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wRow[j] + k)));
        const __m512i low = _mm512_permutex2var_epi16(t0, codes, t1);
        const __m512i high = _mm512_permutex2var_epi16(t2, codes, t3);
        __m512i w = _mm512_mask_blend_epi16(_mm512_test_epi16_mask(codes, bit6), low, high);
        // w ^= (code << 8) & 0x8000: the code's sign onto the magnitude's weight.
        w = _mm512_ternarylogic_epi32(w, _mm512_slli_epi16(codes, 8), signBit, 0x78);
        acc[j] = _mm512_dpbf16_ps(acc[j], reinterpret_cast<__m512bh>(w), xv);
      }
    }
  }
  for (int64_t j = 0; j < numOut; ++j)
    storeOutput(p, 0, outBegin + j, sumLanes(bitCast<Vec16>(acc[j])));
}
#pragma GCC diagnostic pop
#endif

// A table entry is a bf16 subnormal (flushed by the instruction) unless |scale| is large
// enough for the smallest nonzero code (INT4 1, FP8 2^-9): rows with smaller or non-finite
// scales take the exact path.
bool scalesFit(const LinearProblem& p, int64_t outBegin, int64_t outEnd) {
  const float smallest = p.w.type == DType::U4 ? 0x1p-126f : 0x1p-117f;
  const int64_t first = outBegin / p.w.blockRows, last = (outEnd - 1) / p.w.blockRows;
  for (int64_t row = first; row <= last; ++row)
    for (int64_t g = 0; g < p.w.scaleCols; ++g) {
      const float scale = std::fabs(p.w.scales[row * p.w.scaleCols + g]);
      if (!(scale >= smallest && scale <= 0x1p127f))
        return false;
    }
  return true;
}

} // namespace

bool bf16DotDecodeApplies(const LinearProblem& p) {
#if FATHOM_X86_DISPATCH
  const int64_t step = p.w.type == DType::U4 ? kInputsPerStep : kFp8InputsPerStep;
  return gemmIsa() >= Isa::Avx512Bf16 && p.rows == 1 &&
         (p.w.type == DType::U4 || p.w.type == DType::F8E4M3) && p.xType == DType::BF16 &&
         p.w.roundDequantizedToBf16 && p.in % step == 0 && p.w.blockCols % step == 0;
#else
  (void)p;
  return false;
#endif
}

const uint16_t* bf16DotActivations(const LinearProblem& p) {
  const uint16_t* x = static_cast<const uint16_t*>(p.x);
  if (p.w.type != DType::U4)
    return x;
  thread_local std::vector<uint16_t> paired;
  paired.resize(size_t(p.in));
  for (int64_t k = 0; k < p.in; k += kInputsPerStep)
    for (int64_t i = 0; i < kInputsPerStep / 2; ++i) {
      paired[size_t(k + i)] = x[k + 2 * i];
      paired[size_t(k + kInputsPerStep / 2 + i)] = x[k + 2 * i + 1];
    }
  return paired.data();
}

bool bf16DotDecodeRows(const LinearProblem& p, const uint16_t* activations, int64_t outBegin,
                       int64_t outEnd) {
#if FATHOM_X86_DISPATCH
  if (!scalesFit(p, outBegin, outEnd))
    return false;
  if (p.w.type == DType::U4) {
    for (int64_t begin = outBegin; begin < outEnd; begin += kRows)
      u4RowsBf16Dot(p, activations, begin, std::min(outEnd, begin + kRows));
    return true;
  }
  thread_local Fp8Tables tables;
  for (int64_t begin = outBegin; begin < outEnd;) {
    // kRows at a time, never across a scale block
    const int64_t block = begin / p.w.blockRows;
    const int64_t end = std::min({outEnd, begin + kRows, (block + 1) * p.w.blockRows});
    fp8RowsBf16Dot(p, tables.of(p, block), begin, end);
    begin = end;
  }
  return true;
#else
  (void)p, (void)activations, (void)outBegin, (void)outEnd;
  return false;
#endif
}

} // namespace fathom::cpu::detail
