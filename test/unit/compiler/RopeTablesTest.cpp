// RoPE tables as the initializer computes them (fathom.rope_table), against values torch
// computed: inverse frequencies for plain, YaRN, llama3 and longrope ropes, and bf16 cos/sin bits.
#include "compiler/initializer/RopeTables.h"
#include "fathom/runtime/Error.h"
#include "fathom/runtime/Numeric.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

namespace fathom::compiler {
namespace {

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

RopeTableSpec v3Spec() {
  RopeTableSpec s;
  s.dim = 64;
  s.scaling = RopeScalingKind::Yarn;
  s.factor = 40.0;
  s.originalMaxPositions = 4096;
  return s;
}

RopeTableSpec smallSpec() {
  RopeTableSpec s;
  s.dim = 16;
  s.scaling = RopeScalingKind::Yarn;
  s.factor = 4.0;
  s.originalMaxPositions = 64;
  return s;
}

TEST(RopeInverseFrequencies, MatchTorchForTheV3Config) {
  std::vector<float> f = ropeInverseFrequencies(v3Spec());
  ASSERT_EQ(f.size(), 32u);
  for (size_t i = 0; i < 32; ++i)
    EXPECT_EQ(f[i], kV3InvFreq[i]) << "inv_freq[" << i << "]";
}

TEST(RopeInverseFrequencies, MatchTorchForASmallConfig) {
  std::vector<float> f = ropeInverseFrequencies(smallSpec());
  ASSERT_EQ(f.size(), 8u);
  for (size_t i = 0; i < 8; ++i)
    EXPECT_EQ(f[i], kSmallInvFreq[i]) << "inv_freq[" << i << "]";
}

// Llama 3.1's rope, from transformers 5.23 / torch 2.15 (CPU):
//   rp = {"rope_type": "llama3", "rope_theta": theta, "factor": factor, "low_freq_factor": 1.0,
//         "high_freq_factor": 4.0, "original_max_position_embeddings": orig}
//   cfg = LlamaConfig(hidden_size=4 * dim, num_attention_heads=4, head_dim=dim,
//                     max_position_embeddings=maxpos, rope_parameters=rp)
//   ROPE_INIT_FUNCTIONS["llama3"](cfg)[0].view(torch.int32)   # attention factor 1.0
// (dim 128, theta 500000, factor 8, orig 8192: Llama 3.1 8B; dim 16, theta 1e4, factor 4, orig
// 64: all three bands in 8 frequencies).
const uint32_t kLlama31InvFreqBits[64] = {
    0x3f800000, 0x3f508ac1, 0x3f29e1c6, 0x3f0a6384, 0x3ee177bc, 0x3eb7ab7d, 0x3e959ee3, 0x3e73c461,
    0x3e4693b0, 0x3e21c3a0, 0x3e03c6a0, 0x3dd6b19c, 0x3daee4ad, 0x3d8e7898, 0x3d681e67, 0x3d3d1684,
    0x3d1a08c8, 0x3cfaf53f, 0x3ccc6f49, 0x3ca68939, 0x3c87a9c3, 0x3c5d06ec, 0x3c340d6d, 0x3c12ac7f,
    0x3beef74f, 0x3bc2aa76, 0x3b9e9402, 0x3b812e35, 0x3b527720, 0x3b0dfd06, 0x3ab3d11d, 0x3a60979e,
    0x3a0995d2, 0x39a3f108, 0x393b2dd2, 0x38c86886, 0x38a3418d, 0x3884fdbf, 0x3858ac81, 0x38308199,
    0x380fc8f8, 0x37ea426f, 0x37bed4f4, 0x379b7475, 0x377d45c3, 0x374e51f5, 0x3728126b, 0x3708ea0f,
    0x36df10c4, 0x36b5b687, 0x369406cb, 0x36712b80, 0x36447610, 0x36200a69, 0x36025f34, 0x35d46808,
    0x35ad07a7, 0x358cf400, 0x3565a54d, 0x353b12c7, 0x351864a7, 0x34f848c2, 0x34ca41b0, 0x34a4c2ff};
const uint32_t kSmallLlama3InvFreqBits[8] = {0x3f800000, 0x3e826136, 0x3cd09b89, 0x3c0186e3,
                                             0x3b23d70a, 0x3a4f3e38, 0x3983126f, 0x38a5cb60};

RopeTableSpec llama3Spec(int64_t dim, double theta, double factor, double original) {
  RopeTableSpec spec;
  spec.dim = dim;
  spec.theta = theta;
  spec.scaling = RopeScalingKind::Llama3;
  spec.factor = factor;
  spec.originalMaxPositions = original;
  spec.lowFreqFactor = 1.0;
  spec.highFreqFactor = 4.0;
  return spec;
}

uint32_t bitsOf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

TEST(RopeInverseFrequencies, Llama3MatchesTorchBits) {
  std::vector<float> big = ropeInverseFrequencies(llama3Spec(128, 500000.0, 8.0, 8192));
  ASSERT_EQ(big.size(), 64u);
  for (size_t i = 0; i < big.size(); ++i)
    EXPECT_EQ(bitsOf(big[i]), kLlama31InvFreqBits[i]) << "frequency " << i;
  std::vector<float> small = ropeInverseFrequencies(llama3Spec(16, 10000.0, 4.0, 64));
  ASSERT_EQ(small.size(), 8u);
  for (size_t i = 0; i < small.size(); ++i)
    EXPECT_EQ(bitsOf(small[i]), kSmallLlama3InvFreqBits[i]) << "frequency " << i;
}

// longrope below its original context (short_factor), from transformers 5.23 / torch 2.15:
//   rp = {"rope_type": "longrope", "rope_theta": 1e4, "original_max_position_embeddings": 64,
//         "short_factor": [1, 1.25, 1.5, 2, 3, 4.5, 7, 11], "long_factor": [...]}
//   cfg = LlamaConfig(hidden_size=64, num_attention_heads=4, head_dim=16,
//                     max_position_embeddings=256, rope_parameters=rp)
//   ROPE_INIT_FUNCTIONS["longrope"](cfg)   # attention factor sqrt(1 + ln 4 / ln 64)
const uint32_t kLongRopeInvFreqBits[8] = {0x3f800000, 0x3e8186e3, 0x3d888889, 0x3c8186e3,
                                          0x3b5a740e, 0x3a38374e, 0x3915cbec, 0x37f127d0};

TEST(RopeInverseFrequencies, LongRopeShortFactorsMatchTorchBits) {
  RopeTableSpec spec;
  spec.dim = 16;
  spec.scaling = RopeScalingKind::LongRope;
  spec.divisors = {1.0f, 1.25f, 1.5f, 2.0f, 3.0f, 4.5f, 7.0f, 11.0f};
  std::vector<float> f = ropeInverseFrequencies(spec);
  ASSERT_EQ(f.size(), 8u);
  for (size_t i = 0; i < f.size(); ++i)
    EXPECT_EQ(bitsOf(f[i]), kLongRopeInvFreqBits[i]) << "frequency " << i;
  spec.divisors.pop_back();
  EXPECT_THROW(ropeInverseFrequencies(spec), Error);
}

TEST(RopeInverseFrequencies, DefaultAndLinearRope) {
  RopeTableSpec plain;
  plain.dim = 128;
  std::vector<float> f = ropeInverseFrequencies(plain);
  EXPECT_EQ(f[0], 1.0f);
  EXPECT_FLOAT_EQ(f[1], 1.0f / std::pow(10000.0f, 2.0f / 128.0f));
  RopeTableSpec linear = plain;
  linear.scaling = RopeScalingKind::Linear;
  linear.factor = 4.0;
  std::vector<float> scaled = ropeInverseFrequencies(linear);
  for (size_t i = 0; i < f.size(); ++i)
    EXPECT_EQ(scaled[i], f[i] / 4.0f);
  RopeTableSpec odd;
  odd.dim = 7;
  EXPECT_THROW(ropeInverseFrequencies(odd), Error);
}

TEST(RopeTable, ScalesByTheAttentionFactorBeforeRounding) {
  RopeTableSpec spec = smallSpec();
  spec.attentionFactor = 1.0249579607969668;
  std::vector<float> cos(64 * 8);
  ropeTable(spec, 64, /*sine=*/false, DType::F32, cos.data());
  std::vector<float> inv = ropeInverseFrequencies(spec);
  for (int64_t p = 0; p < 64; ++p)
    for (int64_t j = 0; j < 8; ++j)
      EXPECT_EQ(cos[size_t(p * 8 + j)],
                std::cos(float(p) * inv[size_t(j)]) * float(spec.attentionFactor));
}

TEST(RopeTables, MatchTorchBf16CosSin) {
  // Rows 0, 1, 7, 4095 and 163839 of the V3 tables.
  const std::vector<int64_t> positions = {0, 1, 7, 4095, 163839};
  std::vector<uint16_t> all(size_t(163840) * 32), allSin(all.size());
  ropeTable(v3Spec(), 163840, false, DType::BF16, all.data());
  ropeTable(v3Spec(), 163840, true, DType::BF16, allSin.data());
  std::vector<uint16_t> cos, sin;
  for (int64_t p : positions) {
    cos.insert(cos.end(), all.begin() + p * 32, all.begin() + (p + 1) * 32);
    sin.insert(sin.end(), allSin.begin() + p * 32, allSin.begin() + (p + 1) * 32);
  }
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

} // namespace
} // namespace fathom::compiler
