#pragma once
// Internal: the vector types hot loops are written in, and the ways a function is compiled for
// several ISAs. GCC vector extensions (not intrinsics) keep one source for every ISA.
//  - FATHOM_CPU_CLONES: GCC emits AVX-512, AVX2+FMA and baseline clones of a function and an
//    ifunc resolver that picks one at load time, so the binary runs on any x86-64. Fine for
//    loops over Vec16 temporaries.
//  - The GEMMs keep arrays of accumulators in registers, which GCC only manages with vectors of
//    the native width, so they are templates over Vec16 / Vec8 / Vec4 instantiated in per-ISA
//    functions and dispatched at run time (Isa.h).
#include <cstdint>
#include <cstring>
#include <utility>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FATHOM_CPU_CLONES                                                                          \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define FATHOM_X86_DISPATCH 1
#else
#define FATHOM_CPU_CLONES
#define FATHOM_X86_DISPATCH 0
#endif

#define FATHOM_ALWAYS_INLINE inline __attribute__((always_inline))

namespace fathom::cpu::detail {
// Lanes of a and b picked by a vector of indices (lanes of b count from the width up): GCC's
// __builtin_shuffle. Clang has no such builtin for run-time masks, so there (the fuzz build)
// a loop does the same.
template <class V, class M> FATHOM_ALWAYS_INLINE V shuffle(V a, V b, M mask) {
#if defined(__clang__)
  constexpr int kWidth = int(sizeof(V) / sizeof(a[0]));
  V picked;
  for (int i = 0; i < kWidth; ++i)
    picked[i] = mask[i] < kWidth ? a[mask[i]] : b[mask[i] - kWidth];
  return picked;
#else
  return __builtin_shuffle(a, b, mask);
#endif
}
} // namespace fathom::cpu::detail

namespace fathom::cpu::detail {

typedef float Vec4 __attribute__((vector_size(16)));
typedef float Vec8 __attribute__((vector_size(32)));
typedef float Vec16 __attribute__((vector_size(64)));

// Same-width integer companions of each float vector.
template <class V> struct VecTraits;
template <> struct VecTraits<Vec4> {
  typedef uint32_t U32 __attribute__((vector_size(16)));
  typedef int32_t I32 __attribute__((vector_size(16)));
  typedef uint16_t U16 __attribute__((vector_size(8)));
  typedef uint8_t U8 __attribute__((vector_size(4)));
};
template <> struct VecTraits<Vec8> {
  typedef uint32_t U32 __attribute__((vector_size(32)));
  typedef int32_t I32 __attribute__((vector_size(32)));
  typedef uint16_t U16 __attribute__((vector_size(16)));
  typedef uint8_t U8 __attribute__((vector_size(8)));
};
template <> struct VecTraits<Vec16> {
  typedef uint32_t U32 __attribute__((vector_size(64)));
  typedef int32_t I32 __attribute__((vector_size(64)));
  typedef uint16_t U16 __attribute__((vector_size(32)));
  typedef uint8_t U8 __attribute__((vector_size(16)));
};

template <class V> inline constexpr int kLanes = int(sizeof(V) / sizeof(float));

template <class To, class From> FATHOM_ALWAYS_INLINE To bitCast(From from) {
  static_assert(sizeof(To) == sizeof(From));
  To to;
  std::memcpy(&to, &from, sizeof to);
  return to;
}

template <class V = Vec16> FATHOM_ALWAYS_INLINE V loadVec(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <class V> FATHOM_ALWAYS_INLINE void storeVec(float* p, V v) {
  std::memcpy(p, &v, sizeof v);
}

// Interleaves zeros below each of the N bf16 values: 2N halves whose pairs, read as fp32, are
// the widened values (little-endian).
template <class Wide, class Half, int... i>
FATHOM_ALWAYS_INLINE Wide interleaveBelowZeros(Half half, std::integer_sequence<int, i...>) {
  constexpr int N = int(sizeof(Half) / sizeof(uint16_t));
  return __builtin_shufflevector(Half{}, half, (i % 2 == 0 ? 0 : N + i / 2)...);
}

// kLanes<V> bf16 values widened to fp32 (exact: bf16 is the top half of an fp32). One shuffle:
// GCC 12 lowers a 16-lane u16 -> u32 __builtin_convertvector as two 8-lane halves plus an
// insert, which made the bf16 decode GEMM shuffle-bound.
template <class V = Vec16> FATHOM_ALWAYS_INLINE V loadBf16Vec(const uint16_t* p) {
  using Half = typename VecTraits<V>::U16;
  typedef uint16_t Wide __attribute__((vector_size(sizeof(V))));
  Half half;
  std::memcpy(&half, p, sizeof half);
  return bitCast<V>(
      interleaveBelowZeros<Wide>(half, std::make_integer_sequence<int, 2 * kLanes<V>>{}));
}

// bf16 round-to-nearest-even on the bits, for lanes that hold no NaN (infinities stay; the one
// NaN 0x7fc00000 does too).
template <class V> FATHOM_ALWAYS_INLINE V roundVecToBf16NoNan(V v) {
  using U32 = typename VecTraits<V>::U32;
  U32 bits = bitCast<U32>(v);
  return bitCast<V>(U32((bits + 0x7fffu + ((bits >> 16) & 1u)) & 0xffff0000u));
}

// bf16 round-to-nearest-even of every lane (NaN stays NaN), as floatToBf16; the low 16 bits of
// each result are zero.
template <class V> FATHOM_ALWAYS_INLINE V roundVecToBf16(V v) {
  using U32 = typename VecTraits<V>::U32;
  U32 bits = bitCast<U32>(v);
  U32 rounded = bitCast<U32>(roundVecToBf16NoNan(v));
  U32 quietNan = (bits | 0x00400000u) & 0xffff0000u;
  auto isNan = (bits & 0x7fffffffu) > 0x7f800000u;
  return bitCast<V>(U32(isNan ? quietNan : rounded));
}

// Stores lanes that are already bf16 values (low halves zero) as bf16 bits.
template <class V> FATHOM_ALWAYS_INLINE void storeBf16Vec(uint16_t* p, V roundedToBf16) {
  using Traits = VecTraits<V>;
  auto half = __builtin_convertvector(bitCast<typename Traits::U32>(roundedToBf16) >> 16,
                                      typename Traits::U16);
  std::memcpy(p, &half, sizeof half);
}

// float8_e4m3fn codes decoded exactly (as f8e4m3ToFloat). Normal codes: the 7 magnitude bits
// moved to fp32's exponent/mantissa fields with the exponent rebiased (7 -> 127). Subnormal
// codes (e = 0): m * 2^-9 through an int -> float conversion. No fp32 subnormal ever appears,
// since some CPUs take microcode assists on them.
template <class V = Vec16> FATHOM_ALWAYS_INLINE V loadF8e4m3Vec(const uint8_t* p) {
  using Traits = VecTraits<V>;
  using U32 = typename Traits::U32;
  typename Traits::U8 bytes;
  std::memcpy(&bytes, p, sizeof bytes);
  // Widening through 16 bits: GCC 12 scalarizes a direct u8 -> u32 __builtin_convertvector.
  U32 code = __builtin_convertvector(__builtin_convertvector(bytes, typename Traits::U16), U32);
  U32 magnitude = code & 0x7fu;
  U32 normalBits = (magnitude << 20) + (120u << 23);
  V subnormal = __builtin_convertvector(typename Traits::I32(code & 7u), V) * 0x1.0p-9f;
  U32 bits = (magnitude < 8u) ? bitCast<U32>(subnormal) : normalBits;
  bits |= (code & 0x80u) << 24;
  bits = (magnitude == 0x7fu) ? U32{} + 0x7fc00000u : bits; // f8e4m3ToFloat's NaN
  return bitCast<V>(bits);
}

// The kLanes<V> U4 codes in kLanes<V> / 2 bytes (the even index in the low nibble), one per
// 32-bit lane. Only the low 4 bits of a lane are its code: a 16-entry table lookup indexes with
// them as they are, arithmetic masks them first. Lane l takes the 32-bit word holding nibble l
// and shifts it into place, so AVX-512 needs one permute and one variable shift (widening the
// bytes instead costs GCC 12 a chain of eight shuffles).
template <class V, int... i>
FATHOM_ALWAYS_INLINE typename VecTraits<V>::U32 loadU4Codes(const uint8_t* p,
                                                            std::integer_sequence<int, i...>) {
  using U32 = typename VecTraits<V>::U32;
  constexpr int kWords = kLanes<V> >= 8 ? kLanes<V> / 8 : 1;
  uint32_t words[kWords] = {};
  std::memcpy(words, p, size_t(kLanes<V> / 2));
  return U32{words[i / 8]...} >> U32{(uint32_t(i % 8) * 4u)...};
}
template <class V> FATHOM_ALWAYS_INLINE typename VecTraits<V>::U32 loadU4Codes(const uint8_t* p) {
  return loadU4Codes<V>(p, std::make_integer_sequence<int, kLanes<V>>{});
}

// float(q - zero) of kLanes<V> U4 codes, exact.
template <class V> FATHOM_ALWAYS_INLINE V loadU4Vec(const uint8_t* p, int32_t zero) {
  using I32 = typename VecTraits<V>::I32;
  return __builtin_convertvector(I32(loadU4Codes<V>(p) & 0xfu) - zero, V);
}

// Horizontal sum of 16 lanes in a fixed tree order, so a reduction never depends on the ISA.
FATHOM_ALWAYS_INLINE float sumLanes(const float (&lanes)[16]) {
  float partial[16];
  std::memcpy(partial, lanes, sizeof partial);
  for (int width = 8; width >= 1; width /= 2)
    for (int i = 0; i < width; ++i)
      partial[i] += partial[i + width];
  return partial[0];
}

// The same tree on a register: each step adds the upper half of the live lanes to the lower half
// (partial[i] += partial[i + width]), as whole-vector shuffles and adds rather than a loop that
// GCC may leave scalar.
FATHOM_ALWAYS_INLINE float sumLanes(Vec16 v) {
  Vec8 eight = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
               __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  Vec4 four = __builtin_shufflevector(eight, eight, 0, 1, 2, 3) +
              __builtin_shufflevector(eight, eight, 4, 5, 6, 7);
  float two0 = four[0] + four[2], two1 = four[1] + four[3];
  return two0 + two1;
}

// sumLanes of Count 16-lane accumulators into sums[0..Count): the same additions in the same tree
// order for each (so the same bits), run eight accumulators at a time on transposed vectors
// instead of one scalar chain each. A decode GEMV over short rows and attention's score dots
// otherwise spend about as long in these sums as in their multiply-adds.
template <int Count>
FATHOM_ALWAYS_INLINE void sumLanesOfEach(const float (&lanes)[Count][16], float (&sums)[Count]) {
  for (int base = 0; base < Count; base += 8) {
    Vec8 e[8]; // width 8: partial[i] = lane i + lane i + 8
    for (int j = 0; j < 8; ++j)
      e[j] = base + j < Count ? loadVec<Vec8>(lanes[base + j]) + loadVec<Vec8>(lanes[base + j] + 8)
                              : Vec8{};
    // Transposed: r[i] holds partial i of accumulators base .. base + 7, one per lane.
    Vec8 t[8], u[8], r[8];
    for (int j = 0; j < 8; j += 2) {
      t[j] = __builtin_shufflevector(e[j], e[j + 1], 0, 8, 1, 9, 4, 12, 5, 13);
      t[j + 1] = __builtin_shufflevector(e[j], e[j + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int j = 0; j < 8; j += 4)
      for (int h = 0; h < 2; ++h) {
        u[j + 2 * h] = __builtin_shufflevector(t[j + h], t[j + h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[j + 2 * h + 1] =
            __builtin_shufflevector(t[j + h], t[j + h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
      }
    for (int i = 0; i < 4; ++i) {
      r[i] = __builtin_shufflevector(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
      r[i + 4] = __builtin_shufflevector(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
    // Widths 4, 2 and 1 of the tree, each lane one accumulator.
    const Vec8 four0 = r[0] + r[4], four1 = r[1] + r[5], four2 = r[2] + r[6], four3 = r[3] + r[7];
    const Vec8 total = (four0 + four2) + (four1 + four3);
    for (int j = 0; j < 8 && base + j < Count; ++j)
      sums[base + j] = total[j];
  }
}

} // namespace fathom::cpu::detail
