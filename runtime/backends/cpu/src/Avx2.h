#pragma once
// Internal: what the AVX2 intrinsic kernels (LinearDecodeAvx2.cpp, Dot.cpp) share. Only for
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

} // namespace fathom::cpu::detail
#endif
