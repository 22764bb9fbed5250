// linear() against a double-precision reference (fp32), against bf16 references with HF's one
// rounding (bf16), FP8 block-scaled weights, and its invariances (threads, ISA, paths).
#include "fathom/cpu/Linear.h"
#include "LinearTestUtil.h"
#include "TestUtil.h"
#include "fathom/cpu/Isa.h"
#include "fathom/runtime/BlockQuant.h"
#include "fathom/runtime/Error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

namespace fathom::cpu {
namespace {

using test::exactFloats;
using test::randomFloats;
using test::toBf16;

using Shape = test::LinearShape;

// Shapes on both paths (rows <= 8 rowwise, more tiled), with edges of every block size.
// {1, 320, 37} takes the single-row path (inputs a multiple of 16); {24, 1030, 100} and
// {130, 64, 129} the bf16 dot-product path where the CPU has it (an even number of inputs, a
// partial block of pairs and of 16-pair transposes).
const Shape kShapes[] = {{1, 1, 1},   {1, 300, 67},  {1, 320, 37},    {3, 17, 5},    {8, 257, 130},
                         {9, 33, 64}, {20, 513, 70}, {24, 1030, 100}, {130, 64, 129}};

std::vector<double> reference(const std::vector<float>& x, const std::vector<float>& w,
                              const std::vector<float>* bias, const Shape& s) {
  return test::linearReference(x, w, bias, s);
}

template <class Y> std::vector<Y> run(const LinearArgs& args, ThreadPool& pool) {
  return test::runLinear<Y>(args, pool);
}

using LinearOnEveryIsa = test::OnEveryGemmIsa;

TEST_P(LinearOnEveryIsa, Fp32MatchesDoubleReference) {
  for (const Shape& s : kShapes) {
    auto x = randomFloats(size_t(s.rows * s.in), 1);
    auto w = randomFloats(size_t(s.out * s.in), 2);
    auto bias = randomFloats(size_t(s.out), 3);
    LinearArgs args{s.rows, s.in, s.out, DType::F32, x.data(), 0, DType::F32, w.data()};
    args.bias = bias.data();
    std::vector<float> y = run<float>(args, pool);
    test::expectClose(y, reference(x, w, &bias, s), 1e-5 * std::sqrt(double(s.in)));
  }
}

TEST_P(LinearOnEveryIsa, Bf16RoundsOnceAfterFp32Accumulation) {
  for (const Shape& s : kShapes) {
    for (bool exact : {true, false}) {
      auto xf =
          exact ? exactFloats(size_t(s.rows * s.in), 4) : randomFloats(size_t(s.rows * s.in), 4);
      auto wf =
          exact ? exactFloats(size_t(s.out * s.in), 5) : randomFloats(size_t(s.out * s.in), 5);
      auto x = toBf16(xf), w = toBf16(wf);
      LinearArgs args{s.rows, s.in, s.out, DType::BF16, x.data(), 0, DType::BF16, w.data()};
      args.yType = DType::BF16;
      std::vector<uint16_t> y = run<uint16_t>(args, pool);
      std::vector<double> ref = reference(test::widen(x), test::widen(w), nullptr, s);
      std::vector<uint16_t> want(ref.size());
      for (size_t i = 0; i < ref.size(); ++i)
        want[i] = floatToBf16(float(ref[i]));
      SCOPED_TRACE("rows " + std::to_string(s.rows) + " in " + std::to_string(s.in));
      if (exact) // every partial sum is exact in fp32: order cannot matter
        test::expectBitsEqual(y, want);
      else
        test::expectBf16MostlyExact(y, want);
    }
  }
}

TEST_P(LinearOnEveryIsa, Fp8BlockScaledWeights) {
  // 130 x 300 with 128 x 128 blocks: partial blocks on both edges.
  for (const Shape& s : {Shape{2, 300, 130}, Shape{24, 300, 130}}) {
    std::mt19937 rng(7);
    std::vector<uint8_t> w8(size_t(s.out * s.in));
    for (uint8_t& code : w8) {
      code = uint8_t(rng() & 0xff);
      if ((code & 0x7f) == 0x7f) // NaN codes
        code = 0x3c;
    }
    const int64_t scaleCols = 3; // scales are [2, 3]
    std::vector<float> scales = {0.5f, 0.013f, 2.0f, 0.0078125f, 1.7f, 0.25f};
    std::vector<float> dequant(w8.size()), dequantBf16(w8.size());
    dequantizeBlockMatrix(DType::F8E4M3, w8.data(), s.out, s.in, scales.data(), scaleCols, 128, 128,
                          DType::F32, dequant.data());
    for (size_t i = 0; i < dequant.size(); ++i)
      dequantBf16[i] = roundToBf16(dequant[i]);
    auto xf = randomFloats(size_t(s.rows * s.in), 8);
    LinearArgs args{s.rows, s.in, s.out, DType::F32, xf.data(), 0, DType::F8E4M3, w8.data()};
    args.wScales = {scales.data(), 128, 128};
    std::vector<float> y = run<float>(args, pool);
    // FP8 weights span 2^-9 .. 896: bound the error by the magnitude of the terms.
    test::expectNearReference(y, xf, dequant, s, 1e-6, 0, "fp32");

    // bf16 model: HF holds the dequantized weight in bf16, then runs a bf16 GEMM.
    auto x = toBf16(xf);
    args.xType = DType::BF16;
    args.x = x.data();
    args.yType = DType::BF16;
    std::vector<uint16_t> yb = run<uint16_t>(args, pool);
    std::vector<double> ref = reference(test::widen(x), dequantBf16, nullptr, s);
    std::vector<uint16_t> want(ref.size());
    for (size_t i = 0; i < ref.size(); ++i)
      want[i] = floatToBf16(float(ref[i]));
    test::expectBf16MostlyExact(yb, want);
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, LinearOnEveryIsa,
                         ::testing::Values(Isa::Baseline, Isa::Avx2, Isa::Avx512, Isa::Avx512Bf16),
                         [](const auto& info) { return std::string(isaName(info.param)); });

TEST(Linear, Bf16InputsWithFp32OutputAsTheRouterLogits) {
  ThreadPool pool(2);
  Shape s{5, 96, 16};
  auto x = toBf16(randomFloats(size_t(s.rows * s.in), 9));
  auto w = toBf16(randomFloats(size_t(s.out * s.in), 10));
  LinearArgs args{s.rows, s.in, s.out, DType::BF16, x.data(), 0, DType::BF16, w.data()};
  std::vector<float> y = run<float>(args, pool);
  test::expectClose(y, reference(test::widen(x), test::widen(w), nullptr, s), 1e-5);
}

TEST(Linear, StridedOperandsAndBf16WeightsInFp32Mode) {
  ThreadPool pool(2);
  Shape s{12, 40, 24};
  auto xPadded = randomFloats(size_t(s.rows * 50), 11);
  auto wPadded = toBf16(randomFloats(size_t(s.out * 48), 12));
  std::vector<float> x(size_t(s.rows * s.in)), w(size_t(s.out * s.in));
  for (int64_t r = 0; r < s.rows; ++r)
    for (int64_t i = 0; i < s.in; ++i)
      x[size_t(r * s.in + i)] = xPadded[size_t(r * 50 + i)];
  for (int64_t o = 0; o < s.out; ++o)
    for (int64_t i = 0; i < s.in; ++i)
      w[size_t(o * s.in + i)] = bf16ToFloat(wPadded[size_t(o * 48 + i)]);
  std::vector<float> yPadded(size_t(s.rows * 30), -7.0f);
  LinearArgs args{s.rows, s.in,        s.out,          DType::F32, xPadded.data(),
                  50,     DType::BF16, wPadded.data(), 48};
  args.y = yPadded.data();
  args.ldy = 30;
  ScratchBuffer scratch(linearScratchBytes(args, pool));
  linear(args, pool, scratch.span());
  std::vector<double> ref = reference(x, w, nullptr, s);
  for (int64_t r = 0; r < s.rows; ++r) {
    for (int64_t o = 0; o < s.out; ++o)
      EXPECT_NEAR(yPadded[size_t(r * 30 + o)], ref[size_t(r * s.out + o)], 1e-4);
    for (int64_t o = s.out; o < 30; ++o)
      EXPECT_EQ(yPadded[size_t(r * 30 + o)], -7.0f) << "wrote past the row";
  }
}

TEST(Linear, BitsDoNotDependOnTheThreadCount) {
  ThreadPool one(1), four(4);
  for (const Shape& s : {Shape{4, 700, 300}, Shape{70, 700, 300}}) {
    auto x = toBf16(randomFloats(size_t(s.rows * s.in), 13));
    auto w = toBf16(randomFloats(size_t(s.out * s.in), 14));
    LinearArgs args{s.rows, s.in, s.out, DType::BF16, x.data(), 0, DType::BF16, w.data()};
    args.yType = DType::BF16;
    EXPECT_EQ(run<uint16_t>(args, one), run<uint16_t>(args, four));
  }
}

TEST(Linear, Avx2AndAvx512AgreeBitForBitOnBothPaths) {
  if (detectedIsa() < Isa::Avx512)
    GTEST_SKIP() << "needs an AVX-512 CPU";
  ThreadPool pool(2);
  for (const Shape& s : {Shape{5, 333, 100}, Shape{50, 333, 100}}) {
    auto x = randomFloats(size_t(s.rows * s.in), 15);
    auto w = toBf16(randomFloats(size_t(s.out * s.in), 16));
    LinearArgs args{s.rows, s.in, s.out, DType::F32, x.data(), 0, DType::BF16, w.data()};
    setGemmIsa(Isa::Avx2);
    std::vector<float> avx2 = run<float>(args, pool);
    setGemmIsa(Isa::Avx512);
    std::vector<float> avx512 = run<float>(args, pool);
    EXPECT_EQ(avx2, avx512) << "rows " << s.rows;
  }
}

// One decode row streams whole weight rows (single-row path); two rows go through the chunked
// rowwise path. Both sum each output in the same order, so a row gives the same bits either way.
TEST_P(LinearOnEveryIsa, SingleRowPathMatchesChunkedPathBitForBit) {
  for (DType type : {DType::F32, DType::BF16})
    for (const Shape& s : {Shape{1, 1024, 45}, Shape{1, 2048, 16}, Shape{1, 48, 3}}) {
      auto xf = randomFloats(size_t(s.in), 20);
      auto wf = randomFloats(size_t(s.out * s.in), 21);
      auto xBf16 = toBf16(xf), wBf16 = toBf16(wf);
      std::vector<float> x2f(xf);
      x2f.insert(x2f.end(), xf.begin(), xf.end());
      std::vector<uint16_t> x2Bf16(xBf16);
      x2Bf16.insert(x2Bf16.end(), xBf16.begin(), xBf16.end());
      const bool bf16 = type == DType::BF16;
      const void* w = bf16 ? static_cast<const void*>(wBf16.data()) : wf.data();
      LinearArgs one{
          1, s.in, s.out, type, bf16 ? static_cast<const void*>(xBf16.data()) : xf.data(),
          0, type, w};
      LinearArgs two{
          2, s.in, s.out, type, bf16 ? static_cast<const void*>(x2Bf16.data()) : x2f.data(),
          0, type, w};
      std::vector<float> single = run<float>(one, pool), pair = run<float>(two, pool);
      for (int64_t o = 0; o < s.out; ++o) {
        EXPECT_EQ(single[size_t(o)], pair[size_t(o)]) << dtypeName(type) << " output " << o;
        EXPECT_EQ(single[size_t(o)], pair[size_t(s.out + o)]) << dtypeName(type) << " output " << o;
      }
    }
}

// FP8 weights: the single-row path dequantizes in registers, the two-row path through a buffer;
// both in fp32 and bf16 (weights rounded to bf16 first) with partial 128 x 128 scale blocks.
// (Except a bf16 model on avx512bf16, whose decode adds pairs with vdpbf16ps:
// Fp8Bf16DotDecodeMatchesTheReference.)
// Batched decode (2-8 distinct rows) gives each row the bits it gets alone, for bf16 and fp32
// weights and activations (AVX2's bf16 weights take the register-blocked multi-row kernel).
TEST_P(LinearOnEveryIsa, EveryBatchedDecodeRowMatchesItsSingleRowBits) {
  const int64_t in = 1024, out = 45;
  auto wf = randomFloats(size_t(out * in), 31);
  auto wBf16 = toBf16(wf);
  for (DType type : {DType::F32, DType::BF16})
    for (DType wType : {DType::F32, DType::BF16})
      for (int64_t rows : {2, 3, 5, 8}) {
        if (type == DType::BF16 && wType == DType::F32)
          continue;
        auto xf = randomFloats(size_t(rows * in), 32 + uint32_t(rows));
        auto xBf16 = toBf16(xf);
        const bool bf16 = type == DType::BF16;
        const void* w = wType == DType::BF16 ? static_cast<const void*>(wBf16.data()) : wf.data();
        LinearArgs batch{
            rows, in,    out, type, bf16 ? static_cast<const void*>(xBf16.data()) : xf.data(),
            0,    wType, w};
        std::vector<float> all = run<float>(batch, pool);
        for (int64_t r = 0; r < rows; ++r) {
          LinearArgs one = batch;
          one.rows = 1;
          one.x = bf16 ? static_cast<const void*>(xBf16.data() + r * in) : xf.data() + r * in;
          std::vector<float> single = run<float>(one, pool);
          for (int64_t o = 0; o < out; ++o)
            ASSERT_EQ(single[size_t(o)], all[size_t(r * out + o)])
                << dtypeName(type) << " x " << dtypeName(wType) << ", " << rows << " rows, row "
                << r << " output " << o;
        }
      }
}

// FP8 codes for the single-row bit test: every finite code; normal codes only (the AVX2 table
// path in every block); or normal codes with a zero, a subnormal and a NaN code dropped into a
// few blocks (those blocks, and only those, take the exact decode).
enum class Fp8Codes { Every, Normal, NormalWithSpecials };

std::vector<uint8_t> fp8Codes(Fp8Codes kind, int64_t out, int64_t in, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> w8(size_t(out * in));
  for (uint8_t& code : w8) {
    const uint8_t sign = uint8_t(rng() & 0x80);
    code = kind == Fp8Codes::Every ? uint8_t(rng() % 0x7f) | sign      // 0x00..0x7e, both signs
                                   : uint8_t(8 + rng() % 0x77) | sign; // 0x08..0x7e
  }
  if (kind == Fp8Codes::NormalWithSpecials)
    for (int64_t o = 0; o < out; o += 5) {
      w8[size_t(o * in + (o * 7) % in)] = 0x00;
      w8[size_t(o * in + (o * 13 + 3) % in)] = 0x85; // -5 * 2^-9
      if (o % 2 == 0)
        w8[size_t(o * in + (o * 29 + 1) % in)] = 0x80; // -0
    }
  return w8;
}

bool sameFloat(float a, float b) {
  return std::isnan(a) ? std::isnan(b) : a == b;
}

// The one-row FP8 path (the AVX2 table kernel, looked up as bytes for a bf16 model where inputs
// and blocks are multiples of 32 (320 x 128), its exact fallback, or the portable loop) against
// the two-row path (on AVX2 the same decoder widening rows): the same bits for every code kind,
// for scales the table takes (negative, large) and ones it leaves to the exact path (tiny:
// entries subnormal), scale blocks of 128 and of 48 columns (not a multiple of 32), partial edge
// blocks, and a row holding a NaN code (its output NaN, the others unchanged). Where the kernels
// use FMA (AVX2 and up), both also equal the emulated sum over the reference dequantization.
TEST_P(LinearOnEveryIsa, Fp8SingleRowPathMatchesChunkedPathBitForBit) {
  for (const Shape& s : {Shape{1, 320, 150}, Shape{1, 336, 37}})
    for (int64_t blockCols : {128, 48})
      for (Fp8Codes kind : {Fp8Codes::Every, Fp8Codes::Normal, Fp8Codes::NormalWithSpecials}) {
        std::vector<uint8_t> w8 = fp8Codes(kind, s.out, s.in, uint32_t(s.in + blockCols));
        if (kind == Fp8Codes::NormalWithSpecials)
          w8[size_t(3 * s.in + 5)] = 0xff; // NaN in output 3
        const int64_t blocks = ((s.out + 127) / 128) * ((s.in + blockCols - 1) / blockCols);
        std::vector<float> scales = randomFloats(size_t(blocks), 22);
        for (float& v : scales)
          v = std::fabs(v) * 0.01f + 1e-3f;
        scales[0] = -scales[0];
        scales[1] = 200.0f;
        scales[2] = 0x1p-120f;
        for (DType act : {DType::F32, DType::BF16}) {
          if (act == DType::BF16 && GetParam() >= Isa::Avx512Bf16)
            continue;
          auto xf = randomFloats(size_t(s.in), 23);
          std::vector<float> x2f(xf);
          x2f.insert(x2f.end(), xf.begin(), xf.end());
          auto xb = toBf16(xf), x2b = toBf16(x2f);
          const bool bf16 = act == DType::BF16;
          LinearArgs one{1,
                         s.in,
                         s.out,
                         act,
                         bf16 ? static_cast<const void*>(xb.data()) : xf.data(),
                         0,
                         DType::F8E4M3,
                         w8.data()};
          one.wScales = {scales.data(), 128, blockCols};
          LinearArgs two = one;
          two.rows = 2;
          two.x = bf16 ? static_cast<const void*>(x2b.data()) : x2f.data();
          std::vector<float> single = run<float>(one, pool), pair = run<float>(two, pool);
          std::vector<float> dequant(w8.size());
          dequantizeBlockMatrix(DType::F8E4M3, w8.data(), s.out, s.in, scales.data(),
                                (s.in + blockCols - 1) / blockCols, 128, blockCols, DType::F32,
                                dequant.data());
          const std::vector<float> xUsed = bf16 ? test::widen(xb) : xf;
          const std::string where = std::string(dtypeName(act)) + " " + std::to_string(s.in) + "x" +
                                    std::to_string(s.out) + " blocks of " +
                                    std::to_string(blockCols) + " codes " +
                                    std::to_string(int(kind)) + " output ";
          for (int64_t o = 0; o < s.out; ++o) {
            const float y = single[size_t(o)];
            EXPECT_TRUE(sameFloat(y, pair[size_t(o)])) << where << o;
            EXPECT_TRUE(sameFloat(y, pair[size_t(s.out + o)])) << where << o;
            EXPECT_EQ(std::isnan(y), kind == Fp8Codes::NormalWithSpecials && o == 3) << where << o;
            if (GetParam() >= Isa::Avx2) {
              std::vector<float> w(dequant.begin() + o * s.in, dequant.begin() + (o + 1) * s.in);
              if (bf16)
                for (float& v : w)
                  v = roundToBf16(v);
              EXPECT_TRUE(sameFloat(y, test::laneTreeDot(w.data(), xUsed.data(), s.in)))
                  << where << o;
            }
          }
        }
      }
}

// A bf16 model's one-row FP8 GEMV, on every ISA (the table and vdpbf16ps kernel on
// avx512bf16): exact products of the bf16-rounded weights and the activations summed in fp32,
// so within fp32 rounding of the double reference. Every finite code of both signs; partial
// scale blocks and outputs past a multiple of 8 ({1, 320, 150}); a long row ({1, 1024, 37});
// inputs the kernel does not take ({1, 304, 20}); a negative scale; and a block whose scale
// would make table entries subnormal, left to the exact path.
TEST_P(LinearOnEveryIsa, Fp8Bf16DotDecodeMatchesTheReference) {
  for (const Shape& s : {Shape{1, 320, 150}, Shape{1, 1024, 37}, Shape{1, 304, 20}}) {
    const int64_t blockRows = (s.out + 127) / 128, blockCols = (s.in + 127) / 128;
    std::mt19937 rng(uint32_t(s.in + s.out));
    std::vector<uint8_t> w8(size_t(s.out * s.in));
    for (uint8_t& code : w8)
      code = uint8_t(rng() % 0x7f) | uint8_t(rng() & 0x80);
    for (bool tinyScale : {false, true}) {
      std::vector<float> scales = randomFloats(size_t(blockRows * blockCols), 22);
      for (float& v : scales)
        v = std::fabs(v) * 0.01f + 1e-3f;
      scales[0] = -scales[0];
      if (tinyScale)
        scales.back() = 0x1p-120f;
      auto x = toBf16(randomFloats(size_t(s.in), 24));
      LinearArgs args{1, s.in, s.out, DType::BF16, x.data(), 0, DType::F8E4M3, w8.data()};
      args.wScales = {scales.data(), 128, 128};
      std::vector<float> y = run<float>(args, pool);
      std::vector<float> w(w8.size());
      for (int64_t o = 0; o < s.out; ++o)
        for (int64_t i = 0; i < s.in; ++i) {
          const size_t at = size_t(o * s.in + i);
          w[at] =
              roundToBf16(f8e4m3ToFloat(w8[at]) * scales[size_t(o / 128 * blockCols + i / 128)]);
        }
      test::expectNearReference(y, test::widen(x), w, s, 2e-6, 1e-38,
                                std::to_string(s.in) + "x" + std::to_string(s.out) +
                                    (tinyScale ? " (tiny scale)" : ""));
    }
  }
}

TEST(Linear, RejectsBadOperands) {
  ThreadPool pool(1);
  std::vector<float> x(16), w(16), y(16);
  LinearArgs args{2, 4, 4, DType::F16, x.data(), 0, DType::F32, w.data()};
  args.y = y.data();
  EXPECT_THROW(linear(args, pool, {}), Error);
  args.xType = DType::F32;
  args.wType = DType::F8E4M3; // no scales
  EXPECT_THROW(linear(args, pool, {}), Error);
  args.wType = DType::F32;
  args.ldx = 2; // shorter than a row
  EXPECT_THROW(linear(args, pool, {}), Error);
  args.ldx = 0;
  args.rows = 16; // tiled path without scratch
  std::vector<float> bigX(64), bigY(64);
  args.x = bigX.data();
  args.y = bigY.data();
  try {
    linear(args, pool, {});
    FAIL() << "expected a scratch error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("scratch"), std::string::npos) << e.what();
  }
}

} // namespace
} // namespace fathom::cpu
