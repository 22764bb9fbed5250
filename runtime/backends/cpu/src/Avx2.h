#pragma once
// Internal: what the AVX2 intrinsic kernels (LinearDecode*Avx2.cpp, Dot.cpp) share. Only for
// functions compiled with FATHOM_AVX2, which GCC requires of every function these inline into.
#include "Simd.h"

#if FATHOM_X86_DISPATCH
#include <immintrin.h>

#define FATHOM_AVX2 __attribute__((target("arch=x86-64-v3")))

namespace fathom::cpu::detail {

FATHOM_AVX2 FATHOM_ALWAYS_INLINE __m256 toM256(Vec8 v) {
  return reinterpret_cast<__m256>(v);
}

// 8 bf16 values widened to fp32 by vpmovzxwd + vpslld: one shuffle where GCC's generic widening
// of a Vec8 takes two.
FATHOM_AVX2 FATHOM_ALWAYS_INLINE __m256 loadBf16Avx2(const uint16_t* p) {
  const __m128i half = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(half), 16));
}

// Byte tables of 16 bf16 weights for vpshufb lookups (the INT4 and FP8 decodes of a bf16
// model), from the weights as fp32 bits whose upper halves are their bf16 bits (the lower
// halves are not read): lane 0 of `low` / `high` holds the low / high bytes of the 16 bf16
// weights, repeated in lane 1.
FATHOM_AVX2 FATHOM_ALWAYS_INLINE void bf16ByteTables(__m256i bits0to7, __m256i bits8to15,
                                                     __m256i& low, __m256i& high) {
  // Bytes 2 and 3 of each dword, gathered per lane into dwords 0 and 1 (weights 0-7) or 2 and 3
  // (weights 8-15), so `both` = [lo 0-3, hi 0-3, lo 8-11, hi 8-11 | lo 4-7, hi 4-7, lo 12-15,
  // hi 12-15] as dwords.
  const __m256i toFirst =
      _mm256_setr_epi8(2, 6, 10, 14, 3, 7, 11, 15, -1, -1, -1, -1, -1, -1, -1, -1, 2, 6, 10, 14, 3,
                       7, 11, 15, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i toSecond =
      _mm256_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, 2, 6, 10, 14, 3, 7, 11, 15, -1, -1, -1, -1,
                       -1, -1, -1, -1, 2, 6, 10, 14, 3, 7, 11, 15);
  const __m256i both = _mm256_blend_epi32(_mm256_shuffle_epi8(bits0to7, toFirst),
                                          _mm256_shuffle_epi8(bits8to15, toSecond), 0xcc);
  low = _mm256_permutevar8x32_epi32(both, _mm256_setr_epi32(0, 4, 2, 6, 0, 4, 2, 6));
  high = _mm256_permutevar8x32_epi32(both, _mm256_setr_epi32(1, 5, 3, 7, 1, 5, 3, 7));
}

// 32 bf16 weights given as their low and high bytes (what vpshufb finds in bf16ByteTables'
// tables) as four fp32 vectors: the bytes of lane l's positions 0-7 and 8-15 become w[0] / w[1]
// (lane 0 positions 0-3 and 4-7 then lane 1's alike) and w[2] / w[3].
FATHOM_AVX2 FATHOM_ALWAYS_INLINE void bf16BytesToFloats(__m256i lowBytes, __m256i highBytes,
                                                        __m256 (&w)[4]) {
  const __m256i first = _mm256_unpacklo_epi8(lowBytes, highBytes);
  const __m256i second = _mm256_unpackhi_epi8(lowBytes, highBytes);
  const __m256i zero = _mm256_setzero_si256();
  w[0] = _mm256_castsi256_ps(_mm256_unpacklo_epi16(zero, first));
  w[1] = _mm256_castsi256_ps(_mm256_unpackhi_epi16(zero, first));
  w[2] = _mm256_castsi256_ps(_mm256_unpacklo_epi16(zero, second));
  w[3] = _mm256_castsi256_ps(_mm256_unpackhi_epi16(zero, second));
}

} // namespace fathom::cpu::detail
#endif
