// RoPE: YaRN tables against values torch computed, and the three application layouts against
// scalar references with HF's rounding points.
#include "fathom/cpu/Rope.h"
#include "TestUtil.h"
#include "fathom/runtime/Error.h"

#include <gtest/gtest.h>

namespace fathom::cpu {
namespace {

using test::randomFloats;
using test::toBf16;

// The constants below were produced with transformers 5.23 / torch 2.15 (CPU):
//   from transformers import DeepseekV3Config
//   from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
//   def yarn(dim, factor, orig, maxpos, **extra):
//       rp = {"rope_type": "yarn", "rope_theta": 10000.0, "factor": factor,
//             "original_max_position_embeddings": orig, "beta_fast": 32.0, "beta_slow": 1.0,
//             **extra}
//       cfg = DeepseekV3Config(qk_rope_head_dim=dim, max_position_embeddings=maxpos,
//                              rope_parameters=rp)
//       return ROPE_INIT_FUNCTIONS["yarn"](cfg)   # (inv_freq, attention_factor)
//   yarn(64, 40.0, 4096, 163840, mscale=1.0, mscale_all_dim=1.0)        # V3
//   yarn(16, 4.0, 64, 256, mscale=1.0, mscale_all_dim=0.8)              # small
//   yarn(16, 4.0, 64, 256)                                              # small, no mscale keys
//   # cos/sin bits: f = pos[:, None] * inv; ((f.cos() * af).bfloat16()).view(torch.int16)
const float kV3InvFreq[32] = {1.0f,
                              0.749894202f,
                              0.562341332f,
                              0.421696514f,
                              0.316227764f,
                              0.237137362f,
                              0.177827939f,
                              0.133352146f,
                              0.100000001f,
                              0.0749894157f,
                              0.0562341288f,
                              0.0390069261f,
                              0.0268793609f,
                              0.0183781441f,
                              0.012447956f,
                              0.0083345091f,
                              0.00550000044f,
                              0.00356199732f,
                              0.00224936521f,
                              0.00137051346f,
                              0.000790569407f,
                              0.000414990413f,
                              0.00017782794f,
                              3.3338034e-05f,
                              2.49999994e-05f,
                              1.87473543e-05f,
                              1.40585325e-05f,
                              1.05424124e-05f,
                              7.90569447e-06f,
                              5.92843435e-06f,
                              4.44569832e-06f,
                              3.33380353e-06f};
const float kSmallInvFreq[8] = {1.0f,           0.237170815f,    0.049999997f,    0.00790569466f,
                                0.00249999994f, 0.000790569466f, 0.000250000012f, 7.90569466e-05f};

RopeConfig v3Config() {
  RopeConfig c;
  c.dim = 64;
  c.yarn = true;
  c.factor = 40.0;
  c.originalMaxPositions = 4096;
  c.mscale = 1.0;
  c.mscaleAllDim = 1.0;
  return c;
}

RopeConfig smallConfig() {
  RopeConfig c;
  c.dim = 16;
  c.yarn = true;
  c.factor = 4.0;
  c.originalMaxPositions = 64;
  c.mscale = 1.0;
  c.mscaleAllDim = 0.8;
  return c;
}

TEST(RopeFrequencies, MatchTorchForTheV3Config) {
  RopeFrequencies f = ropeFrequencies(v3Config());
  ASSERT_EQ(f.invFreq.size(), 32u);
  for (size_t i = 0; i < 32; ++i)
    EXPECT_EQ(f.invFreq[i], kV3InvFreq[i]) << "inv_freq[" << i << "]";
  EXPECT_EQ(f.attentionFactor, 1.0f); // mscale == mscale_all_dim
}

TEST(RopeFrequencies, MatchTorchForASmallConfigAndItsAttentionFactors) {
  RopeConfig c = smallConfig();
  RopeFrequencies f = ropeFrequencies(c);
  ASSERT_EQ(f.invFreq.size(), 8u);
  for (size_t i = 0; i < 8; ++i)
    EXPECT_EQ(f.invFreq[i], kSmallInvFreq[i]) << "inv_freq[" << i << "]";
  EXPECT_EQ(f.attentionFactor, float(1.0249579607969668)); // (0.1 ln4 + 1) / (0.08 ln4 + 1)
  c.mscale.reset();
  c.mscaleAllDim.reset();
  EXPECT_EQ(ropeFrequencies(c).attentionFactor, float(1.138629436111989)); // get_mscale(4)
  c.attentionFactor = 0.5;
  EXPECT_EQ(ropeFrequencies(c).attentionFactor, 0.5f);
}

TEST(RopeFrequencies, DefaultRopeAndSoftmaxScale) {
  RopeConfig plain;
  plain.dim = 128;
  RopeFrequencies f = ropeFrequencies(plain);
  EXPECT_EQ(f.invFreq[0], 1.0f);
  EXPECT_FLOAT_EQ(f.invFreq[1], 1.0f / std::pow(10000.0f, 2.0f / 128.0f));
  EXPECT_EQ(f.attentionFactor, 1.0f);
  EXPECT_NEAR(deepseekSoftmaxScale(192, v3Config()), 0.1352337789, 1e-10);
  EXPECT_DOUBLE_EQ(deepseekSoftmaxScale(192, plain), std::pow(192.0, -0.5));
  EXPECT_THROW(ropeFrequencies(RopeConfig{.dim = 7}), Error);
}

TEST(RopeTables, MatchTorchBf16CosSin) {
  ThreadPool pool(2);
  RopeFrequencies f = ropeFrequencies(v3Config());
  const std::vector<int64_t> positions = {0, 1, 7, 4095, 163839};
  std::vector<uint16_t> cos(positions.size() * 32), sin(positions.size() * 32);
  ropeTables(pool, f, positions.data(), 5, DType::BF16, cos.data(), sin.data());
  const uint16_t wantCos[5][4] = {{0x3f80, 0x3f80, 0x3f80, 0x3f80},
                                  {0x3f0a, 0x3f3b, 0x3f59, 0x3f6a},
                                  {0x3f41, 0x3f03, 0xbf33, 0xbf7b},
                                  {0xbd87, 0xbdb8, 0xbf80, 0x3f04},
                                  {0x3e6a, 0x3f60, 0xbf80, 0x3f69}};
  const uint16_t wantSin[5][4] = {{0x0000, 0x0000, 0x0000, 0x0000},
                                  {0x3f57, 0x3f2e, 0x3f08, 0x3ed2},
                                  {0x3f28, 0xbf5c, 0xbf37, 0x3e41},
                                  {0xbf7f, 0xbf7f, 0xb9e0, 0xbf5b},
                                  {0xbf79, 0x3ef9, 0x3d2e, 0x3ed6}};
  for (size_t p = 0; p < 5; ++p)
    for (size_t j = 0; j < 4; ++j) {
      EXPECT_EQ(cos[p * 32 + j], wantCos[p][j]) << "position " << positions[p] << " j " << j;
      EXPECT_EQ(sin[p * 32 + j], wantSin[p][j]) << "position " << positions[p] << " j " << j;
    }
}

struct RopeCase {
  int64_t tokens = 3, heads = 2, dim = 16;
  RopeFrequencies freqs = ropeFrequencies(smallConfig());
  std::vector<int64_t> positions = {5, 0, 63};
};

template <class T> std::vector<T> tables(const RopeCase& c, DType type, bool sine) {
  ThreadPool pool(1);
  std::vector<T> cos(size_t(c.tokens * c.dim / 2)), sin(cos.size());
  ropeTables(pool, c.freqs, c.positions.data(), c.tokens, type, cos.data(), sin.data());
  return sine ? sin : cos;
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

TEST(ApplyRope, Fp32HalfSplitAndPositionRows) {
  ThreadPool pool(1);
  RopeCase c;
  c.heads = 1;
  // Tables for positions 0..63, selected per token through positionRows.
  std::vector<int64_t> all(64);
  for (int64_t p = 0; p < 64; ++p)
    all[size_t(p)] = p;
  std::vector<float> cos(64 * 8), sin(64 * 8);
  ropeTables(pool, c.freqs, all.data(), 64, DType::F32, cos.data(), sin.data());
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
  args.positionRows = c.positions.data();
  applyRope(pool, args);
  for (int64_t t = 0; t < c.tokens; ++t)
    for (int64_t j = 0; j < 8; ++j) {
      double angle = double(float(c.positions[size_t(t)]) * c.freqs.invFreq[size_t(j)]);
      double cs = std::cos(angle) * c.freqs.attentionFactor,
             sn = std::sin(angle) * c.freqs.attentionFactor;
      double a = x[size_t(t * 16 + j)], b = x[size_t(t * 16 + 8 + j)];
      EXPECT_NEAR(out[size_t(t * 16 + j)], a * cs - b * sn, 1e-6);
      EXPECT_NEAR(out[size_t(t * 16 + 8 + j)], b * cs + a * sn, 1e-6);
    }
}

} // namespace
} // namespace fathom::cpu
