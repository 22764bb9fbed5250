// INT4 weights: the recipe of fathom/runtime/BlockQuant.h on known values, and linear() on U4
// weights against a double reference on the dequantized matrix, on every path and ISA.
#include "LinearTestUtil.h"
#include "TestUtil.h"
#include "fathom/cpu/Isa.h"
#include "fathom/cpu/Linear.h"
#include "fathom/runtime/BlockQuant.h"
#include "fathom/runtime/Error.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <string>

namespace fathom::cpu {
namespace {

using test::randomFloats;
using test::toBf16;

TEST(Int4Recipe, ScaleZeroAndCodesRoundHalfToEven) {
  // One row, groups of 4: a spread group, one with codes at exact halves, a constant positive
  // one, a constant negative one, and a partial last group of one value.
  const std::vector<float> w = {-1.0f, 0.0f, 0.5f, 2.0f,  0.0f,  15.0f, 2.5f,  3.5f, 3.0f,
                                3.0f,  3.0f, 3.0f, -2.0f, -2.0f, -2.0f, -2.0f, 7.0f};
  const int64_t cols = int64_t(w.size()), group = 4, groups = 5;
  std::vector<uint8_t> codes(size_t(u4RowBytes(cols))), zeros(size_t(u4RowBytes(groups)));
  std::vector<float> scales(groups);
  quantizeInt4Matrix(DType::F32, w.data(), 1, cols, group, codes.data(), scales.data(),
                     zeros.data());
  // Spread: scale = 3 / 15, zero = round(1 / scale) = 5. Halves: scale 1, 2.5 -> 2, 3.5 -> 4.
  // Constant: scale 1, the zero clamps to 0 for 3 and is 2 for -2 (q = -2 + 2 = 0); the
  // one-value group likewise (q = 7).
  const float wantScales[] = {3.0f / 15.0f, 1, 1, 1, 1};
  const int wantZeros[] = {5, 0, 0, 2, 0};
  for (int64_t g = 0; g < groups; ++g) {
    EXPECT_EQ(scales[size_t(g)], wantScales[g]) << g;
    EXPECT_EQ(loadU4(zeros.data(), g), wantZeros[g]) << g;
  }
  const int wantCodes[] = {0, 5, 7, 15, 0, 15, 2, 4, 3, 3, 3, 3, 0, 0, 0, 0, 7};
  for (int64_t i = 0; i < cols; ++i)
    EXPECT_EQ(loadU4(codes.data(), i), wantCodes[i]) << i;
  std::vector<float> back(w.size());
  dequantizeInt4Matrix(codes.data(), 1, cols, scales.data(), zeros.data(), group, DType::F32,
                       back.data());
  const float wantBack[] = {
      -1.0f, 0.0f, 2 * (3.0f / 15.0f), 2.0f, 0, 15, 2, 4, 3, 3, 3, 3, -2, -2, -2, -2, 7};
  for (int64_t i = 0; i < cols; ++i)
    EXPECT_EQ(back[size_t(i)], wantBack[i]) << i;

  std::vector<float> bad = w;
  bad[6] = std::nanf("");
  EXPECT_THROW(quantizeInt4Matrix(DType::F32, bad.data(), 1, cols, group, codes.data(),
                                  scales.data(), zeros.data()),
               Error);
  // A range fp32 cannot hold (max - min overflows) has no scale either.
  bad = w;
  bad[0] = -3e38f;
  bad[1] = 3e38f;
  EXPECT_THROW(quantizeInt4Matrix(DType::F32, bad.data(), 1, cols, group, codes.data(),
                                  scales.data(), zeros.data()),
               Error);
}

struct Int4Matrix {
  int64_t out, in;
  std::vector<uint8_t> codes, zeros;
  std::vector<float> scales;
  int64_t groups() const { return (in + 127) / 128; }
  BlockScales blockScales() const { return {scales.data(), 1, 128, zeros.data()}; }
  std::vector<float> dequantized(DType as) const {
    std::vector<float> w(size_t(out * in));
    dequantizeInt4Matrix(codes.data(), out, in, scales.data(), zeros.data(), 128, DType::F32,
                         w.data());
    if (as == DType::BF16)
      for (float& v : w)
        v = roundToBf16(v);
    return w;
  }
};

Int4Matrix randomInt4(int64_t out, int64_t in, uint32_t seed) {
  Int4Matrix m{out, in, {}, {}, {}};
  std::mt19937 rng(seed);
  m.codes.resize(size_t(out * u4RowBytes(in)));
  for (uint8_t& byte : m.codes)
    byte = uint8_t(rng() & 0xff);
  m.zeros.resize(size_t(out * u4RowBytes(m.groups())));
  for (uint8_t& byte : m.zeros)
    byte = uint8_t(rng() & 0xff);
  m.scales = randomFloats(size_t(out * m.groups()), seed + 1, 0.05f);
  for (float& s : m.scales)
    s = std::fabs(s) + 1e-3f;
  return m;
}

using LinearInt4 = test::OnEveryGemmIsa;
using test::runLinear;

// Single-row ({1, 320, 37}), rowwise with partial chunks and an odd row length ({1, 301, 5},
// {3, 257, 130}), tiled and the bf16 dot-product path ({24, 300, 130}, {130, 64, 129}).
TEST_P(LinearInt4, MatchesTheDequantizedMatrixOnEveryPath) {
  using Shape = test::LinearShape;
  for (const Shape& s : {Shape{1, 320, 37}, Shape{1, 301, 5}, Shape{3, 257, 130},
                         Shape{24, 300, 130}, Shape{130, 64, 129}}) {
    Int4Matrix w = randomInt4(s.out, s.in, uint32_t(s.in + s.out));
    auto xf = randomFloats(size_t(s.rows * s.in), 8);
    LinearArgs args{s.rows, s.in, s.out, DType::F32, xf.data(), 0, DType::U4, w.codes.data()};
    args.wScales = w.blockScales();
    std::vector<float> y = runLinear<float>(args, pool);
    test::expectNearReference(y, xf, w.dequantized(DType::F32), s, 1e-6, 0,
                              std::to_string(s.rows) + "x" + std::to_string(s.in));

    // bf16 model: the dequantized weight held in bf16, then a bf16 GEMM.
    auto x = toBf16(xf);
    args.xType = DType::BF16;
    args.x = x.data();
    args.yType = DType::BF16;
    std::vector<uint16_t> yb = runLinear<uint16_t>(args, pool);
    std::vector<double> ref =
        test::linearReference(test::widen(x), w.dequantized(DType::BF16), nullptr, s);
    std::vector<uint16_t> want(ref.size());
    for (size_t i = 0; i < ref.size(); ++i)
      want[i] = floatToBf16(float(ref[i]));
    test::expectBf16MostlyExact(yb, want);
  }
}

// The single-row path dequantizes in registers (a table lookup on AVX-512), the two-row path
// through a buffer: the same bits, in fp32 and bf16 (except a bf16 model on avx512bf16, whose
// decode adds pairs with vdpbf16ps: Bf16DotDecodeMatchesTheReference).
// Where the kernels use FMA (AVX2 and up), both also equal the emulated sum over the reference
// dequantization. Output counts 149-151 end in blocks of 1, 2 and 3 rows; one row has an infinite
// scale (its weights infinite, and NaN where the code equals the zero point), one a NaN scale, and
// one 1 + 3 * 2^-8, whose products with +-1, 2, 4 and 8 are bf16 ties (between an odd and an even
// mantissa).
TEST_P(LinearInt4, SingleRowPathMatchesChunkedPathBitForBit) {
  const int64_t in = 320;
  for (int64_t out : {149, 150, 151})
    for (DType act : {DType::F32, DType::BF16}) {
      Int4Matrix w = randomInt4(out, in, 9);
      w.scales[size_t(5 * w.groups() + 1)] = std::numeric_limits<float>::infinity();
      w.scales[size_t(9 * w.groups())] = std::nanf("");
      for (int64_t g = 0; g < w.groups(); ++g)
        w.scales[size_t(3 * w.groups() + g)] = 1.01171875f;
      if (act == DType::BF16 && GetParam() >= Isa::Avx512Bf16)
        continue;
      auto xf = randomFloats(size_t(in), 23);
      std::vector<float> x2f(xf);
      x2f.insert(x2f.end(), xf.begin(), xf.end());
      auto xb = toBf16(xf), x2b = toBf16(x2f);
      const bool bf16 = act == DType::BF16;
      LinearArgs one{
          1, in,        out,           act, bf16 ? static_cast<const void*>(xb.data()) : xf.data(),
          0, DType::U4, w.codes.data()};
      one.wScales = w.blockScales();
      LinearArgs two = one;
      two.rows = 2;
      two.x = bf16 ? static_cast<const void*>(x2b.data()) : x2f.data();
      std::vector<float> single = runLinear<float>(one, pool), pair = runLinear<float>(two, pool);
      auto same = [](float a, float b) {
        return (std::isnan(a) && std::isnan(b)) ||
               std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b);
      };
      EXPECT_TRUE(std::isnan(single[5]) && std::isnan(single[9])) << dtypeName(act);
      const std::vector<float> dequant = w.dequantized(act);
      const std::vector<float> xUsed = bf16 ? test::widen(xb) : xf;
      for (int64_t o = 0; o < out; ++o) {
        EXPECT_PRED2(same, single[size_t(o)], pair[size_t(o)]) << dtypeName(act) << " output " << o;
        EXPECT_PRED2(same, single[size_t(o)], pair[size_t(out + o)])
            << dtypeName(act) << " output " << o;
        if (GetParam() >= Isa::Avx2) {
          EXPECT_PRED2(same, single[size_t(o)],
                       test::laneTreeDot(dequant.data() + o * in, xUsed.data(), in))
              << dtypeName(act) << " output " << o;
        }
      }
    }
}

// A bf16 model's one-row INT4 GEMV, on every ISA (the vdpbf16ps kernel on avx512bf16, where
// inputs and groups are multiples of 64): exact products of the bf16 weights and activations
// summed in fp32, so within fp32 rounding of the double reference. Shapes: a partial group and
// outputs past a multiple of 8 and 16 ({1, 320, 150}), a long row ({1, 1024, 37}), inputs the
// kernel does not take ({1, 301, 5}); and rows whose scales are subnormal, which it leaves to
// the exact path.
TEST_P(LinearInt4, Bf16DotDecodeMatchesTheReference) {
  using Shape = test::LinearShape;
  for (const Shape& s : {Shape{1, 320, 150}, Shape{1, 1024, 37}, Shape{1, 301, 5}}) {
    for (bool subnormalScales : {false, true}) {
      Int4Matrix w = randomInt4(s.out, s.in, uint32_t(3 * s.in + s.out));
      if (subnormalScales)
        for (int64_t g = 0; g < w.groups(); ++g)
          w.scales[size_t(3 * w.groups() + g)] = 1e-39f;
      auto x = toBf16(randomFloats(size_t(s.in), 31));
      LinearArgs args{1, s.in, s.out, DType::BF16, x.data(), 0, DType::U4, w.codes.data()};
      args.wScales = w.blockScales();
      std::vector<float> y = runLinear<float>(args, pool);
      test::expectNearReference(y, test::widen(x), w.dequantized(DType::BF16), s, 2e-6, 1e-38,
                                std::to_string(s.in) + "x" + std::to_string(s.out) +
                                    (subnormalScales ? " (subnormal)" : ""));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, LinearInt4,
                         ::testing::Values(Isa::Baseline, Isa::Avx2, Isa::Avx512, Isa::Avx512Bf16),
                         [](const auto& info) { return std::string(isaName(info.param)); });

TEST(LinearInt4Operands, RejectsMissingZeroPointsAndOddRowStrides) {
  ThreadPool pool(1);
  Int4Matrix w = randomInt4(4, 6, 1);
  std::vector<float> x(12), y(8);
  LinearArgs args{2, 6, 4, DType::F32, x.data(), 0, DType::U4, w.codes.data()};
  args.y = y.data();
  args.wScales = {w.scales.data(), 1, 128, nullptr};
  EXPECT_THROW(linear(args, pool, {}), Error);
  args.wScales = {w.scales.data(), 128, 128, w.zeros.data()}; // groups span one row
  EXPECT_THROW(linear(args, pool, {}), Error);
  args.wScales = w.blockScales();
  args.ldw = 7;
  EXPECT_THROW(linear(args, pool, {}), Error);
  args.ldw = 0;
  EXPECT_NO_THROW(linear(args, pool, {}));
}

} // namespace
} // namespace fathom::cpu
