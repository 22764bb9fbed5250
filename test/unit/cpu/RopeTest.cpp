// RoPE application: the four layouts against scalar references with HF's rounding points, on
// arbitrary cos/sin tables (the tables themselves are the compiler's: RopeTablesTest).
#include "fathom/cpu/Rope.h"
#include "TestUtil.h"
#include "fathom/runtime/Error.h"

#include <gtest/gtest.h>

#include <cmath>

namespace fathom::cpu {
namespace {

using test::randomFloats;
using test::toBf16;

struct RopeCase {
  int64_t tokens = 3, heads = 2, dim = 16;
  std::vector<int64_t> positions = {5, 0, 63};
};

// cos/sin rows for the case's positions: cos(p * f_j), sin(p * f_j) for some frequencies.
template <class T> std::vector<T> tables(const RopeCase& c, DType type, bool sine) {
  std::vector<T> values(size_t(c.tokens * c.dim / 2));
  for (int64_t t = 0; t < c.tokens; ++t)
    for (int64_t j = 0; j < c.dim / 2; ++j) {
      float angle = float(c.positions[size_t(t)]) * std::pow(0.5f, float(j));
      float value = sine ? std::sin(angle) : std::cos(angle);
      if constexpr (sizeof(T) == 2)
        values[size_t(t * c.dim / 2 + j)] = floatToBf16(value);
      else
        values[size_t(t * c.dim / 2 + j)] = value;
    }
  (void)type;
  return values;
}

TEST(ApplyRope, InterleavedBf16RoundsEveryProductAndSum) {
  ThreadPool pool(2);
  RopeCase c;
  const int64_t half = c.dim / 2, stride = 40; // rope part inside a wider head row
  auto x = toBf16(randomFloats(size_t(c.tokens * c.heads * stride), 1, 2.0f));
  auto cos = tables<uint16_t>(c, DType::BF16, false), sin = tables<uint16_t>(c, DType::BF16, true);
  std::vector<uint16_t> out = x;
  RopeApplyArgs args;
  args.layout = RopeLayout::Interleaved;
  args.type = DType::BF16;
  args.tokens = c.tokens;
  args.heads = c.heads;
  args.dim = c.dim;
  args.x = x.data() + 24; // offset of the rope part in each head
  args.xTokenStride = c.heads * stride;
  args.xHeadStride = stride;
  args.out = out.data() + 24;
  args.outTokenStride = args.xTokenStride;
  args.outHeadStride = stride;
  args.tableType = DType::BF16;
  args.cos = cos.data();
  args.sin = sin.data();
  applyRope(pool, args);
  for (int64_t t = 0; t < c.tokens; ++t)
    for (int64_t h = 0; h < c.heads; ++h) {
      const uint16_t* in = x.data() + t * c.heads * stride + h * stride + 24;
      const uint16_t* got = out.data() + t * c.heads * stride + h * stride + 24;
      for (int64_t j = 0; j < half; ++j) {
        float a = bf16ToFloat(in[2 * j]), b = bf16ToFloat(in[2 * j + 1]);
        float cs = bf16ToFloat(cos[size_t(t * half + j)]),
              sn = bf16ToFloat(sin[size_t(t * half + j)]);
        EXPECT_EQ(got[j], floatToBf16(roundToBf16(a * cs) - roundToBf16(b * sn)));
        EXPECT_EQ(got[half + j], floatToBf16(roundToBf16(b * cs) + roundToBf16(a * sn)));
      }
      for (int64_t d = 0; d < 24; ++d) // the non-rope part is untouched
        EXPECT_EQ(got[d - 24], in[d - 24]);
    }
}

TEST(ApplyRope, InterleavedEqualsHalfSplitOnTheDeinterleavedInput) {
  ThreadPool pool(2);
  RopeCase c;
  c.heads = 1;
  const int64_t half = c.dim / 2;
  auto x = toBf16(randomFloats(size_t(c.tokens * c.dim), 2));
  std::vector<uint16_t> deinterleaved(x.size());
  for (int64_t t = 0; t < c.tokens; ++t)
    for (int64_t j = 0; j < half; ++j) {
      deinterleaved[size_t(t * c.dim + j)] = x[size_t(t * c.dim + 2 * j)];
      deinterleaved[size_t(t * c.dim + half + j)] = x[size_t(t * c.dim + 2 * j + 1)];
    }
  auto cos = tables<uint16_t>(c, DType::BF16, false), sin = tables<uint16_t>(c, DType::BF16, true);
  RopeApplyArgs args;
  args.type = DType::BF16;
  args.tokens = c.tokens;
  args.dim = c.dim;
  args.xTokenStride = args.outTokenStride = c.dim;
  args.tableType = DType::BF16;
  args.cos = cos.data();
  args.sin = sin.data();
  args.layout = RopeLayout::Interleaved;
  args.x = args.out = x.data(); // in place
  applyRope(pool, args);
  args.layout = RopeLayout::HalfSplit;
  args.x = args.out = deinterleaved.data();
  applyRope(pool, args);
  EXPECT_EQ(x, deinterleaved);
}

TEST(ApplyRope, ComplexPairsRotateInFp32AndRoundOnce) {
  ThreadPool pool(2);
  RopeCase c;
  const int64_t half = c.dim / 2;
  auto x = toBf16(randomFloats(size_t(c.tokens * c.heads * c.dim), 3, 2.0f));
  auto cos = tables<float>(c, DType::F32, false), sin = tables<float>(c, DType::F32, true);
  std::vector<uint16_t> out(x.size());
  RopeApplyArgs args;
  args.layout = RopeLayout::ComplexPairs;
  args.type = DType::BF16;
  args.tokens = c.tokens;
  args.heads = c.heads;
  args.dim = c.dim;
  args.x = x.data();
  args.xTokenStride = args.outTokenStride = c.heads * c.dim;
  args.xHeadStride = args.outHeadStride = c.dim;
  args.out = out.data();
  args.tableType = DType::F32;
  args.cos = cos.data();
  args.sin = sin.data();
  applyRope(pool, args);
  for (int64_t t = 0; t < c.tokens; ++t)
    for (int64_t h = 0; h < c.heads; ++h)
      for (int64_t j = 0; j < half; ++j) {
        size_t base = size_t(t * c.heads * c.dim + h * c.dim + 2 * j);
        float re = bf16ToFloat(x[base]), im = bf16ToFloat(x[base + 1]);
        float cs = cos[size_t(t * half + j)], sn = sin[size_t(t * half + j)];
        float outRe = re * cs - im * sn; // each product rounded to fp32, no fused multiply-add
        float outIm = re * sn + im * cs;
        EXPECT_EQ(out[base], floatToBf16(outRe));
        EXPECT_EQ(out[base + 1], floatToBf16(outIm));
      }
  args.tableType = DType::BF16; // ComplexPairs needs fp32 tables
  EXPECT_THROW(applyRope(pool, args), Error);
}

TEST(ApplyRope, Fp32HalfSplitReadsTheTableRowOfEachPosition) {
  ThreadPool pool(1);
  RopeCase c;
  c.heads = 1;
  // Tables for positions 0..63, selected per token through positionRows.
  std::vector<float> cos(64 * 8), sin(64 * 8);
  for (int64_t p = 0; p < 64; ++p)
    for (int64_t j = 0; j < 8; ++j) {
      cos[size_t(p * 8 + j)] = std::cos(float(p) * float(j + 1) * 0.1f);
      sin[size_t(p * 8 + j)] = std::sin(float(p) * float(j + 1) * 0.1f);
    }
  auto x = randomFloats(size_t(c.tokens * c.dim), 4);
  std::vector<float> out(x.size());
  RopeApplyArgs args;
  args.layout = RopeLayout::HalfSplit;
  args.type = DType::F32;
  args.tokens = c.tokens;
  args.dim = c.dim;
  args.x = x.data();
  args.out = out.data();
  args.xTokenStride = args.outTokenStride = c.dim;
  args.tableType = DType::F32;
  args.cos = cos.data();
  args.sin = sin.data();
  args.tableRows = 64;
  args.positionRows = c.positions.data();
  applyRope(pool, args);
  for (int64_t t = 0; t < c.tokens; ++t)
    for (int64_t j = 0; j < 8; ++j) {
      float cs = cos[size_t(c.positions[size_t(t)] * 8 + j)];
      float sn = sin[size_t(c.positions[size_t(t)] * 8 + j)];
      float a = x[size_t(t * 16 + j)], b = x[size_t(t * 16 + 8 + j)];
      EXPECT_EQ(out[size_t(t * 16 + j)], a * cs - b * sn);
      EXPECT_EQ(out[size_t(t * 16 + 8 + j)], b * cs + a * sn);
    }
  // A position past the tables is refused, not read.
  std::vector<int64_t> outside = {5, 64, 0};
  args.positionRows = outside.data();
  EXPECT_THROW(applyRope(pool, args), Error);
}

TEST(ApplyRope, ComplexHalvesEqualsComplexPairsOnTheDeinterleavedInput) {
  ThreadPool pool(1);
  RopeCase c;
  c.heads = 1;
  const int64_t half = c.dim / 2;
  auto pairs = toBf16(randomFloats(size_t(c.tokens * c.dim), 5, 2.0f));
  std::vector<uint16_t> halves(pairs.size());
  for (int64_t t = 0; t < c.tokens; ++t)
    for (int64_t j = 0; j < half; ++j) {
      halves[size_t(t * c.dim + j)] = pairs[size_t(t * c.dim + 2 * j)];
      halves[size_t(t * c.dim + half + j)] = pairs[size_t(t * c.dim + 2 * j + 1)];
    }
  auto cos = tables<float>(c, DType::F32, false), sin = tables<float>(c, DType::F32, true);
  RopeApplyArgs args;
  args.type = DType::BF16;
  args.tokens = c.tokens;
  args.dim = c.dim;
  args.xTokenStride = args.outTokenStride = c.dim;
  args.tableType = DType::F32;
  args.cos = cos.data();
  args.sin = sin.data();
  args.layout = RopeLayout::ComplexPairs;
  args.x = args.out = pairs.data();
  applyRope(pool, args);
  args.layout = RopeLayout::ComplexHalves;
  args.x = args.out = halves.data();
  applyRope(pool, args);
  for (int64_t t = 0; t < c.tokens; ++t)
    for (int64_t j = 0; j < half; ++j) {
      EXPECT_EQ(halves[size_t(t * c.dim + j)], pairs[size_t(t * c.dim + 2 * j)]);
      EXPECT_EQ(halves[size_t(t * c.dim + half + j)], pairs[size_t(t * c.dim + 2 * j + 1)]);
    }
}

} // namespace
} // namespace fathom::cpu
