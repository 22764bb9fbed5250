// The AVX2 single-row decode of FP8 weights. A normal code (exponent e >= 1, mantissa m) is
// worth (8 + m) * 2^(e - 10), so its dequantized weight round(code * scale) (rounded to bf16 for
// a bf16 model) is round(scale * (8 + m)) * 2^(e - 10): an 8-entry table per scale block, looked
// up by vpermps, with the code's exponent and sign added to the entry's bits (5 instructions per
// 8 weights). Exact while every entry times 2^1..2^15 stays normal and finite, which each
// block's table checks. Zero, subnormal and NaN codes break the formula, and are rare in
// quantized weights (about 1 code in 10^4): each row's codes of a block are tested for them first
// (three byte operations per 32), and a block that holds one takes the exact bit trick instead
// (the code's sign and magnitude moved into fp32 position, one multiply by scale * 2^120, bf16
// rounding on the bits; its subnormal products cost microcode assists on some CPUs). Either way
// each weight is the portable path's and each lane's FMA chain too, so are the bits (LinearTest).
// Rows go two at a time: 4 accumulators, 2 activation vectors and two tables leave the registers
// to the decode (four rows at once spilled the accumulators to the stack).
// A bf16 model's weights are bf16, so where inputs and blocks are multiples of 32 the table is
// looked up as bytes instead (decodeFp8Bytes: vpshufb on the code's two nibbles, 17
// instructions per 32 weights with their FMAs where the vpermps decode takes 24), on activations
// permuted once per call.
#include "Avx2.h"
#include "LinearKernels.h"

#include <algorithm>
#include <vector>

#if FATHOM_X86_DISPATCH

namespace fathom::cpu::detail {
namespace {

// 8 FP8 codes, any, times their block's scale: the code's sign and 7 magnitude bits moved to
// fp32's bit 31 and bits 20-26 are its value times 2^-120 exactly (subnormal codes as fp32
// subnormals of the same ratio), then one multiply by wideScale = scale * 2^120.
FATHOM_AVX2 FATHOM_ALWAYS_INLINE __m256 decodeAnyFp8(const uint8_t* codes, __m256 wideScale,
                                                     bool toBf16) {
  const __m256i c = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes)));
  __m256i bits = _mm256_and_si256(_mm256_srai_epi32(_mm256_slli_epi32(c, 24), 4),
                                  _mm256_set1_epi32(int(0x87f00000u)));
  const __m256i magnitudes = _mm256_set1_epi32(0x7f);
  const __m256i isNan = _mm256_cmpeq_epi32(_mm256_and_si256(c, magnitudes), magnitudes);
  bits = _mm256_blendv_epi8(bits, _mm256_set1_epi32(0x7fc00000), isNan);
  const __m256 w = _mm256_mul_ps(_mm256_castsi256_ps(bits), wideScale);
  // The only NaN here is 0x7fc00000, which the rounding without the NaN case keeps.
  return toBf16 ? toM256(roundVecToBf16NoNan(reinterpret_cast<Vec8>(w))) : w;
}

// round(scale * (8 + m)) * 2^-10 for m = 0..7, false where an entry times 2^1..2^15 would not
// be a normal finite float (the exponent fields 1..239 are the ones that stay normal).
FATHOM_AVX2 FATHOM_ALWAYS_INLINE bool mantissaTable(float scale, bool toBf16, __m256& table) {
  Vec8 entries = Vec8{8, 9, 10, 11, 12, 13, 14, 15} * scale;
  if (toBf16)
    entries = roundVecToBf16(entries);
  table = _mm256_mul_ps(toM256(entries), _mm256_set1_ps(0x1p-10f));
  const __m256i exponent = _mm256_srli_epi32(
      _mm256_and_si256(_mm256_castps_si256(table), _mm256_set1_epi32(0x7f800000)), 23);
  const __m256i normal = _mm256_and_si256(_mm256_cmpgt_epi32(exponent, _mm256_setzero_si256()),
                                          _mm256_cmpgt_epi32(_mm256_set1_epi32(240), exponent));
  return _mm256_movemask_epi8(normal) == -1;
}

// Whether a minimum of t = (code + 1) & 0x7f over codes (below) is below 9 in some byte.
FATHOM_AVX2 FATHOM_ALWAYS_INLINE bool anySpecial(__m256i least) {
  const __m256i atLeastNine = _mm256_cmpeq_epi8(_mm256_max_epu8(least, _mm256_set1_epi8(9)), least);
  return _mm256_movemask_epi8(atLeastNine) != -1;
}

// Whether any of `count` codes (a multiple of 8) is zero, subnormal (magnitude < 8) or NaN
// (magnitude 0x7f): t = (code + 1) & 0x7f is below 9 exactly for those (NaN wraps to 0), so the
// minimum t of the codes says it.
FATHOM_AVX2 FATHOM_ALWAYS_INLINE bool hasSpecialCodes(const uint8_t* codes, int64_t count) {
  const __m256i one = _mm256_set1_epi8(1), magnitude = _mm256_set1_epi8(0x7f);
  __m256i least = _mm256_set1_epi8(0x7f);
  auto fold = [&](__m256i c) FATHOM_AVX2 {
    least = _mm256_min_epu8(least, _mm256_and_si256(_mm256_add_epi8(c, one), magnitude));
  };
  int64_t k = 0;
#pragma GCC unroll 4
  for (; k + 32 <= count; k += 32)
    fold(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + k)));
  for (; k < count; k += 8) // the rest of the vector normal codes, so that only these 8 count
    fold(_mm256_blend_epi32(
        _mm256_set1_epi8(0x38),
        _mm256_castsi128_si256(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes + k))),
        0x03));
  return anySpecial(least);
}

// 8 normal codes: the table entry of each code's mantissa (vpermps reads an index's low 3 bits)
// plus its exponent (bits 23-26) and sign (bit 31, which the add flips). Sign-extended and
// shifted by 20, a code's sign lands on bits 27-31, its exponent on 23-26 and its mantissa on
// 20-22: one shift where zero-extension takes two.
FATHOM_AVX2 FATHOM_ALWAYS_INLINE __m256 decodeNormalFp8(const uint8_t* codes, __m256 table) {
  const __m256i c = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes)));
  const __m256i signAndExponent =
      _mm256_and_si256(_mm256_slli_epi32(c, 20), _mm256_set1_epi32(int(0x87800000u)));
  const __m256i entry = _mm256_castps_si256(_mm256_permutevar8x32_ps(table, c));
  return _mm256_castsi256_ps(_mm256_add_epi32(entry, signAndExponent));
}

// Inputs [k0, kEnd) of R rows into their accumulators (lanes of k % 16 < 8 in a[r][0]), each
// group of 8 weights from decode(r, codes); each row's line prefetchBytes on is prefetched
// (none for 0).
template <int R, class Decode>
FATHOM_AVX2 FATHOM_ALWAYS_INLINE void fmaRows(const float* x, int64_t k0, int64_t kEnd,
                                              const uint8_t* const* wRow, int64_t prefetchBytes,
                                              __m256 (&a)[R][2], Decode decode) {
  for (int64_t k = k0; k < kEnd; k += 16) {
    if (prefetchBytes && k % 64 == 0)
      for (int r = 0; r < R; ++r)
        __builtin_prefetch(wRow[r] + k + prefetchBytes, 0, 2);
    const __m256 x0 = _mm256_loadu_ps(x + k), x1 = _mm256_loadu_ps(x + k + 8);
    for (int r = 0; r < R; ++r) {
      a[r][0] = _mm256_fmadd_ps(decode(r, wRow[r] + k), x0, a[r][0]);
      a[r][1] = _mm256_fmadd_ps(decode(r, wRow[r] + k + 8), x1, a[r][1]);
    }
  }
}

struct BlockTables {
  const float* scaleRow = nullptr;
  std::vector<float> entries; // 8 per block
  std::vector<uint8_t> fits;  // whether each block's table applies
  // bf16 models: per block the low and high bytes (16 each) of entry m times 2^e0, indexed by a
  // code's low nibble e0 m (decodeFp8Bytes).
  std::vector<uint8_t> bytes;
};

FATHOM_AVX2 void buildTables(const float* scaleRow, int64_t blocks, bool toBf16, BlockTables& t) {
  t.scaleRow = scaleRow;
  t.entries.resize(size_t(blocks * 8));
  t.fits.resize(size_t(blocks));
  t.bytes.resize(toBf16 ? size_t(blocks * 32) : 0);
  for (int64_t b = 0; b < blocks; ++b) {
    __m256 table;
    t.fits[size_t(b)] = mantissaTable(scaleRow[b], toBf16, table);
    _mm256_storeu_ps(t.entries.data() + b * 8, table);
    if (toBf16) { // times 2 is exact: the entries times 2^1..2^15 are normal where they fit
      __m256i low, high;
      bf16ByteTables(_mm256_castps_si256(table), _mm256_castps_si256(_mm256_add_ps(table, table)),
                     low, high);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(t.bytes.data() + b * 32),
                       _mm256_castsi256_si128(low));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(t.bytes.data() + b * 32 + 16),
                       _mm256_castsi256_si128(high));
    }
  }
}

// 32 normal codes of one row as their bf16 weights in four fp32 vectors, inputs {0-3, 8-11},
// {4-7, 12-15}, {16-19, 24-27} and {20-23, 28-31}. A code s eeee mmm is worth entry m times
// 2^e, negated for s: its low nibble (e0 m) looks entry m times 2^e0 up in the block's byte
// tables, and its high nibble (s e3 e2 e1) adds e3e2e1 to the high byte (2 * e3e2e1 to the
// exponent) and s to the sign bit; no exponent overflows where the block's table fits.
// `least` folds in hasSpecialCodes' test of the 32 codes, which this decode gets wrong.
FATHOM_AVX2 FATHOM_ALWAYS_INLINE void decodeFp8Bytes(const uint8_t* codes, __m256i low,
                                                     __m256i high, __m256 (&w)[4], __m256i& least) {
  const __m256i highNibbleTerms =
      _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, -128, -127, -126, -125, -124, -123, -122, -121, 0, 1,
                       2, 3, 4, 5, 6, 7, -128, -127, -126, -125, -124, -123, -122, -121);
  const __m256i nibble = _mm256_set1_epi8(0x0f);
  // Quadwords 0, 2 | 1, 3: lane 0 holds codes 0-7 and 16-23, lane 1 codes 8-15 and 24-31.
  const __m256i c =
      _mm256_permute4x64_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes)), 0xd8);
  least = _mm256_min_epu8(
      least, _mm256_and_si256(_mm256_add_epi8(c, _mm256_set1_epi8(1)), _mm256_set1_epi8(0x7f)));
  const __m256i lowNibbles = _mm256_and_si256(c, nibble);
  const __m256i highNibbles = _mm256_and_si256(_mm256_srli_epi16(c, 4), nibble);
  const __m256i lowBytes = _mm256_shuffle_epi8(low, lowNibbles);
  const __m256i highBytes = _mm256_add_epi8(_mm256_shuffle_epi8(high, lowNibbles),
                                            _mm256_shuffle_epi8(highNibbleTerms, highNibbles));
  bf16BytesToFloats(lowBytes, highBytes, w);
}

// The byte path's accumulator lanes: a[0] sums inputs k % 16 in {0-3, 8-11}, a[1] {4-7, 12-15},
// where the other paths' a[0] sums 0-7 and a[1] 8-15. Exchanging the middle 128-bit halves
// converts either way.
FATHOM_AVX2 FATHOM_ALWAYS_INLINE void switchByteLayout(__m256 (&a)[2]) {
  const __m256 first = _mm256_permute2f128_ps(a[0], a[1], 0x20);
  const __m256 second = _mm256_permute2f128_ps(a[0], a[1], 0x31);
  a[0] = first;
  a[1] = second;
}

// Inputs [k0, kEnd) (multiples of 32) of two rows through their blocks' byte tables, the
// activations in fp8ByteActivations order, the accumulators in the byte layout; false where
// the rows hold a special code, the accumulators then to be restored. Testing the codes as they
// are decoded saves hasSpecialCodes' pass over them (a fifth of the kernel's time).
FATHOM_AVX2 FATHOM_ALWAYS_INLINE bool fp8BytesTwoRows(const float* xBytes, int64_t k0, int64_t kEnd,
                                                      const uint8_t* const (&wRow)[2],
                                                      const uint8_t* const (&tables)[2],
                                                      int64_t prefetchBytes, __m256 (&a)[2][2]) {
  __m256i low[2], high[2];
  for (int r = 0; r < 2; ++r) {
    low[r] =
        _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tables[r])));
    high[r] = _mm256_broadcastsi128_si256(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(tables[r] + 16)));
  }
  __m256i least = _mm256_set1_epi8(0x7f);
  for (int64_t k = k0; k < kEnd; k += 32) {
    if (prefetchBytes && k % 64 == 0)
      for (int r = 0; r < 2; ++r)
        __builtin_prefetch(wRow[r] + k + prefetchBytes, 0, 2);
    for (int r = 0; r < 2; ++r) {
      __m256 w[4];
      decodeFp8Bytes(wRow[r] + k, low[r], high[r], w, least);
      a[r][0] = _mm256_fmadd_ps(w[0], _mm256_loadu_ps(xBytes + k), a[r][0]);
      a[r][1] = _mm256_fmadd_ps(w[1], _mm256_loadu_ps(xBytes + k + 8), a[r][1]);
      a[r][0] = _mm256_fmadd_ps(w[2], _mm256_loadu_ps(xBytes + k + 16), a[r][0]);
      a[r][1] = _mm256_fmadd_ps(w[3], _mm256_loadu_ps(xBytes + k + 24), a[r][1]);
    }
  }
  return !anySpecial(least);
}

// Which scale blocks of a weight row take the table: its table fits and the block holds no
// special code.
FATHOM_AVX2 void tableBlocks(const LinearProblem& p, const uint8_t* wRow, const BlockTables& t,
                             uint8_t* fast) {
  for (int64_t k0 = 0, b = 0; k0 < p.in; k0 += p.w.blockCols, ++b)
    fast[b] = t.fits[size_t(b)] && !hasSpecialCodes(wRow + k0, std::min(p.w.blockCols, p.in - k0));
}

// Two weight rows against every input: both rows' blocks through the table where both take it,
// else each row's block by its own decode. `fast` says which blocks take the table; null with
// xBytes, where the byte path finds out as it goes (and tests a block again when it does not).
FATHOM_AVX2 FATHOM_ALWAYS_INLINE void
fp8TwoRows(const LinearProblem& p, const float* x, const float* xBytes,
           const uint8_t* const (&wRow)[2], const float* const (&scaleRow)[2],
           const BlockTables* const (&tables)[2], const uint8_t* const* fast, int64_t prefetchBytes,
           __m256 (&a)[2][2]) {
  const bool toBf16 = p.w.roundDequantizedToBf16;
  bool byteLayout = false;
  auto useByteLayout = [&](bool bytes) FATHOM_AVX2 {
    if (bytes != byteLayout)
      for (int r = 0; r < 2; ++r)
        switchByteLayout(a[r]);
    byteLayout = bytes;
  };
  for (int64_t k0 = 0, b = 0; k0 < p.in; k0 += p.w.blockCols, ++b) {
    const int64_t kEnd = std::min(p.in, k0 + p.w.blockCols);
    if (xBytes && tables[0]->fits[size_t(b)] && tables[1]->fits[size_t(b)]) {
      useByteLayout(true);
      const __m256 before[2][2] = {{a[0][0], a[0][1]}, {a[1][0], a[1][1]}};
      if (fp8BytesTwoRows(xBytes, k0, kEnd, wRow,
                          {tables[0]->bytes.data() + b * 32, tables[1]->bytes.data() + b * 32},
                          prefetchBytes, a))
        continue;
      for (int r = 0; r < 2; ++r)
        for (int part = 0; part < 2; ++part)
          a[r][part] = before[r][part];
    }
    useByteLayout(false);
    bool takesTable[2];
    for (int r = 0; r < 2; ++r)
      takesTable[r] = fast
                          ? fast[r][b] != 0
                          : tables[r]->fits[size_t(b)] && !hasSpecialCodes(wRow[r] + k0, kEnd - k0);
    const __m256 table[2] = {_mm256_loadu_ps(tables[0]->entries.data() + b * 8),
                             _mm256_loadu_ps(tables[1]->entries.data() + b * 8)};
    if (takesTable[0] && takesTable[1]) {
      fmaRows<2>(x, k0, kEnd, wRow, prefetchBytes, a, [&](int r, const uint8_t* codes) FATHOM_AVX2 {
        return decodeNormalFp8(codes, table[r]);
      });
      continue;
    }
    for (int r = 0; r < 2; ++r) {
      __m256(&row)[1][2] = reinterpret_cast<__m256(&)[1][2]>(a[r]);
      if (takesTable[r]) {
        fmaRows<1>(x, k0, kEnd, wRow + r, prefetchBytes, row,
                   [&](int, const uint8_t* codes)
                       FATHOM_AVX2 { return decodeNormalFp8(codes, table[r]); });
      } else {
        const __m256 wide = _mm256_set1_ps(scaleRow[r][b] * 0x1p120f);
        fmaRows<1>(x, k0, kEnd, wRow + r, prefetchBytes, row,
                   [&](int, const uint8_t* codes)
                       FATHOM_AVX2 { return decodeAnyFp8(codes, wide, toBf16); });
      }
    }
  }
  useByteLayout(false);
}

} // namespace

bool fp8ByteLookupApplies(const LinearProblem& p) {
  return p.w.type == DType::F8E4M3 && p.w.roundDequantizedToBf16 && p.in % 32 == 0 &&
         p.w.blockCols % 32 == 0;
}

FATHOM_AVX2 void fp8ByteActivations(const float* x, int64_t in, float* out) {
  for (int64_t k = 0; k < in; k += 16) {
    const __m256 first = _mm256_loadu_ps(x + k), second = _mm256_loadu_ps(x + k + 8);
    _mm256_storeu_ps(out + k, _mm256_permute2f128_ps(first, second, 0x20));
    _mm256_storeu_ps(out + k + 8, _mm256_permute2f128_ps(first, second, 0x31));
  }
}

FATHOM_AVX2 bool fp8RowsAvx2(const LinearProblem& p, const float* x, const float* xBytes,
                             const uint8_t* const (&wRow)[4], const float* const (&scaleRow)[4],
                             int64_t outBegin, int64_t numOut, int64_t ahead, Vec8 (&acc)[4][2]) {
  const int64_t blocks = (p.in + p.w.blockCols - 1) / p.w.blockCols;
  for (int j = 0; j < 4; ++j)
    for (int64_t b = 0; b < blocks; ++b)
      if (!fp8ScaleFitsBitTrick(scaleRow[j][b]))
        return false;
  // Rows of one 128-row scale block share their tables: built once per distinct scale row.
  thread_local BlockTables built[4];
  const BlockTables* tables[4];
  int distinct = 0;
  for (int j = 0; j < 4; ++j) {
    int i = 0;
    while (i < distinct && built[i].scaleRow != scaleRow[j])
      ++i;
    if (i == distinct)
      buildTables(scaleRow[j], blocks, p.w.roundDequantizedToBf16, built[distinct++]);
    tables[j] = &built[i];
  }
  thread_local std::vector<uint8_t> fastBlocks;
  fastBlocks.resize(size_t(4 * blocks));
  const uint8_t* fast[4];
  for (int j = 0; j < 4; ++j) {
    uint8_t* rowFast = fastBlocks.data() + j * blocks;
    if (j < numOut && !xBytes) // the byte path tests the codes as it decodes them
      tableBlocks(p, wRow[j], *tables[j], rowFast);
    fast[j] = rowFast;
  }
  for (int j0 = 0; j0 < numOut; j0 += 2) { // padding outputs past numOut are never stored
    __m256 a[2][2];
    for (int r = 0; r < 2; ++r) {
      a[r][0] = toM256(acc[j0 + r][0]);
      a[r][1] = toM256(acc[j0 + r][1]);
    }
    // A padding row repeats the last real one, whose blocks are known.
    const uint8_t* pairFast[2] = {fast[j0], j0 + 1 < numOut ? fast[j0 + 1] : fast[j0]};
    const uint8_t* const* known = xBytes ? nullptr : pairFast;
    const int64_t prefetchBytes = outBegin + j0 + 1 + ahead < p.out ? ahead * p.w.ld : 0;
    fp8TwoRows(p, x, xBytes, {wRow[j0], wRow[j0 + 1]}, {scaleRow[j0], scaleRow[j0 + 1]},
               {tables[j0], tables[j0 + 1]}, known, prefetchBytes, a);
    for (int r = 0; r < 2; ++r) {
      acc[j0 + r][0] = reinterpret_cast<Vec8>(a[r][0]);
      acc[j0 + r][1] = reinterpret_cast<Vec8>(a[r][1]);
    }
  }
  return true;
}

FATHOM_AVX2 void widenFp8RowAvx2(const WeightSource& w, int64_t row, int64_t k0, int64_t count,
                                 float* dst) {
  const uint8_t* src = static_cast<const uint8_t*>(w.data) + row * w.ld;
  const float* scaleRow = w.scales + (row / w.blockRows) * w.scaleCols;
  const bool toBf16 = w.roundDequantizedToBf16;
  for (int64_t k = k0; k < k0 + count;) {
    const int64_t blockEnd = std::min(k0 + count, (k / w.blockCols + 1) * w.blockCols);
    const float scale = scaleRow[k / w.blockCols];
    const int64_t vectorEnd = k + (blockEnd - k) / 8 * 8;
    __m256 table;
    if (mantissaTable(scale, toBf16, table) && !hasSpecialCodes(src + k, vectorEnd - k)) {
      for (; k < vectorEnd; k += 8)
        _mm256_storeu_ps(dst + (k - k0), decodeNormalFp8(src + k, table));
    } else if (fp8ScaleFitsBitTrick(scale)) {
      const __m256 wide = _mm256_set1_ps(scale * 0x1p120f);
      for (; k < vectorEnd; k += 8)
        _mm256_storeu_ps(dst + (k - k0), decodeAnyFp8(src + k, wide, toBf16));
    }
    for (; k < blockEnd; ++k) {
      const float v = f8e4m3ToFloat(src[k]) * scale;
      dst[k - k0] = toBf16 ? roundToBf16(v) : v;
    }
  }
}

} // namespace fathom::cpu::detail
#endif
