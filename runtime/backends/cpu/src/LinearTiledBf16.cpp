// The prefill GEMM for bf16 x bf16 (or FP8 weights dequantized to bf16 while packing, as HF's
// bf16 model holds them) on CPUs with avx512bf16: vdpbf16ps multiplies bf16 pairs
// (inputs k and k+1) exactly and adds both products to an fp32 lane, twice the multiply-adds of
// an fp32 FMA per instruction, and reads the operands without widening them.
//
// Both operands are used as 32-bit words holding the pair (k, k+1), which is how a bf16 row
// already lies in memory: x rows are read in place (a pair broadcast to every lane), W is packed
// into strips [pair][NR outputs] by transposing 16 x 16 blocks of words. Summation order of one
// output: pairs in increasing k, each pair's two products added into the fp32 accumulator (the
// instruction rounds to nearest even, flushes subnormals), partial sums kept in an fp32 tile
// between blocks, one bf16 rounding at the end like every other path.
#include "LinearKernels.h"

#if FATHOM_X86_DISPATCH
#include <immintrin.h>

#include <algorithm>

#define FATHOM_TARGET_AVX512_BF16 __attribute__((target("arch=x86-64-v4,avx512bf16")))

namespace fathom::cpu::detail {
namespace {

constexpr int kMr = 8;                                   // rows of a micro-tile
constexpr int kNr = 32;                                  // outputs of a strip: two vectors
constexpr int64_t kPairsPerBlock = kTiledInputsPerBlock; // fills wStrips as fp32 would
static_assert(kTiledMaxRowsPerTask % kMr == 0 && kTiledOutputsPerTask % kNr == 0);

FATHOM_ALWAYS_INLINE uint32_t pairAt(const uint16_t* row, int64_t pair) {
  uint32_t word;
  std::memcpy(&word, row + 2 * pair, sizeof word);
  return word;
}

// strips[j / kNr][pair][j % kNr] = pair k0/2 + pair of W row colBegin + j; zero past colEnd.
FATHOM_TARGET_AVX512_BF16 void packWeightPairs(const LinearProblem& p, int64_t colBegin,
                                               int64_t colEnd, int64_t k0, int64_t pairs,
                                               uint32_t* strips) {
  const uint16_t* w = static_cast<const uint16_t*>(p.w.data);
  // FP8 and INT4 rows are dequantized to bf16 first (HF's bf16 model holds the weight so), then
  // packed like bf16 rows.
  alignas(64) uint16_t dequantized[16][2 * kPairsPerBlock];
  alignas(64) float widened[2 * kPairsPerBlock];
  for (int64_t j0 = 0; j0 < kTiledOutputsPerTask; j0 += 16) {
    const uint16_t* rows[16];
    for (int64_t j = 0; j < 16; ++j) {
      const int64_t row = colBegin + j0 + j;
      if (row >= colEnd) {
        rows[j] = nullptr;
      } else if (p.w.type == DType::BF16) {
        rows[j] = w + row * p.w.ld + k0;
      } else {
        widenWeightRow<Vec16>(p.w, row, k0, 2 * pairs, widened);
        for (int64_t i = 0; i < 2 * pairs; ++i)
          dequantized[j][i] = floatToBf16(widened[i]); // exact: already rounded to bf16
        rows[j] = dequantized[j];
      }
    }
    uint32_t* strip = strips + (j0 / kNr) * pairs * kNr + j0 % kNr;
    int64_t pair = 0;
    for (; pair + 16 <= pairs; pair += 16) {
      Vec16 block[16]; // words moved as float lanes: shuffles only, the bits never change
      for (int j = 0; j < 16; ++j) {
        block[j] = Vec16{};
        if (rows[j])
          std::memcpy(&block[j], rows[j] + 2 * pair, sizeof block[j]);
      }
      transpose<Vec16>(block);
      for (int i = 0; i < 16; ++i)
        std::memcpy(strip + (pair + i) * kNr, &block[i], sizeof block[i]);
    }
    for (; pair < pairs; ++pair)
      for (int64_t j = 0; j < 16; ++j)
        strip[pair * kNr + j] = rows[j] ? pairAt(rows[j], pair) : 0u;
  }
}

// tile[kMr][kNr] (+)= x[kMr rows][pairs] . strip[pairs][kNr].
FATHOM_TARGET_AVX512_BF16 FATHOM_ALWAYS_INLINE void microKernel(int64_t pairs,
                                                                const uint16_t* const (&xRows)[kMr],
                                                                const uint32_t* strip, float* tile,
                                                                bool accumulate) {
  __m512 acc[kMr][2];
  for (int r = 0; r < kMr; ++r)
    for (int v = 0; v < 2; ++v)
      acc[r][v] = accumulate ? _mm512_loadu_ps(tile + r * kTiledOutputsPerTask + 16 * v)
                             : _mm512_setzero_ps();
  for (int64_t pair = 0; pair < pairs; ++pair) {
    const __m512bh w0 = (__m512bh)_mm512_loadu_si512(strip + pair * kNr);
    const __m512bh w1 = (__m512bh)_mm512_loadu_si512(strip + pair * kNr + 16);
    for (int r = 0; r < kMr; ++r) {
      const __m512bh x = (__m512bh)_mm512_set1_epi32(int(pairAt(xRows[r], pair)));
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], w0, x);
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], w1, x);
    }
  }
  for (int r = 0; r < kMr; ++r)
    for (int v = 0; v < 2; ++v)
      _mm512_storeu_ps(tile + r * kTiledOutputsPerTask + 16 * v, acc[r][v]);
}

} // namespace

bool dotBf16Applies(const LinearProblem& p) {
  const bool quantized = p.w.type == DType::F8E4M3 || p.w.type == DType::U4;
  const bool bf16Weights = p.w.type == DType::BF16 || (quantized && p.w.roundDequantizedToBf16);
  return p.xType == DType::BF16 && bf16Weights && p.in % 2 == 0;
}

FATHOM_TARGET_AVX512_BF16 void tiledTaskDotBf16(const LinearProblem& p, int64_t rowBegin,
                                                int64_t rowEnd, int64_t colBegin, int64_t colEnd,
                                                const TiledBuffers& buf) {
  const uint16_t* x = static_cast<const uint16_t*>(p.x);
  uint32_t* strips = reinterpret_cast<uint32_t*>(buf.wStrips);
  const int64_t numRows = rowEnd - rowBegin;
  const int64_t numPanels = (numRows + kMr - 1) / kMr;
  for (int64_t k0 = 0; k0 < p.in; k0 += 2 * kPairsPerBlock) {
    const int64_t pairs = std::min(kPairsPerBlock, (p.in - k0) / 2);
    packWeightPairs(p, colBegin, colEnd, k0, pairs, strips);
    for (int64_t panel = 0; panel < numPanels; ++panel) {
      const uint16_t* xRows[kMr]; // rows past rowEnd repeat the last row and are never stored
      for (int64_t r = 0; r < kMr; ++r)
        xRows[r] = x + (rowBegin + std::min(panel * kMr + r, numRows - 1)) * p.ldx + k0;
      for (int64_t strip = 0; strip < kTiledOutputsPerTask / kNr; ++strip)
        microKernel(pairs, xRows, strips + strip * pairs * kNr,
                    buf.tile + panel * kMr * kTiledOutputsPerTask + strip * kNr, k0 > 0);
    }
  }
  for (int64_t row = rowBegin; row < rowEnd; ++row)
    for (int64_t col = colBegin; col < colEnd; ++col)
      storeOutput(p, row, col,
                  buf.tile[(row - rowBegin) * kTiledOutputsPerTask + (col - colBegin)]);
}

} // namespace fathom::cpu::detail
#endif
