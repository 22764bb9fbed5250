#include "fathom/runtime/Numeric.h"
#include "fathom/runtime/DType.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace fathom {
namespace {

TEST(Bf16, RoundsToNearestEven) {
  // 1 + 2^-8 lies exactly between two bf16 values (1 and 1 + 2^-7): ties go to even (1).
  EXPECT_EQ(floatToBf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  // 1 + 3*2^-8 lies between 1+2^-7 (odd mantissa) and 1+2^-6: ties go to even (1+2^-6).
  EXPECT_EQ(floatToBf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  EXPECT_EQ(floatToBf16(-2.0f), 0xc000);
  EXPECT_FLOAT_EQ(bf16ToFloat(0x4049), 3.140625f);
  EXPECT_TRUE(std::isnan(bf16ToFloat(floatToBf16(std::nanf("")))));
  EXPECT_EQ(floatToBf16(INFINITY), 0x7f80);
}

TEST(F16, RoundTripsAndRounds) {
  EXPECT_EQ(floatToF16(1.0f), 0x3c00);
  EXPECT_EQ(floatToF16(-2.5f), 0xc100);
  EXPECT_EQ(floatToF16(65504.0f), 0x7bff);
  EXPECT_EQ(floatToF16(1e6f), 0x7c00);
  EXPECT_EQ(floatToF16(std::ldexp(1.0f, -24)), 0x0001); // smallest subnormal
  EXPECT_FLOAT_EQ(f16ToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_FLOAT_EQ(f16ToFloat(0x3555), 0.333251953125f);
  for (uint32_t bits = 0; bits < 0x7c00; bits += 7)
    EXPECT_EQ(floatToF16(f16ToFloat(uint16_t(bits))), bits);
}

TEST(F8E4M3, DecodesTheFormat) {
  EXPECT_EQ(f8e4m3ToFloat(0x00), 0.0f);
  EXPECT_EQ(f8e4m3ToFloat(0x38), 1.0f);   // exponent 7, mantissa 0
  EXPECT_EQ(f8e4m3ToFloat(0x7e), 448.0f); // largest finite
  EXPECT_EQ(f8e4m3ToFloat(0xfe), -448.0f);
  EXPECT_EQ(f8e4m3ToFloat(0x01), std::ldexp(1.0f, -9)); // smallest subnormal
  EXPECT_EQ(f8e4m3ToFloat(0x07), 7 * std::ldexp(1.0f, -9));
  EXPECT_EQ(f8e4m3ToFloat(0x08), std::ldexp(1.0f, -6)); // smallest normal
  EXPECT_TRUE(std::isnan(f8e4m3ToFloat(0x7f)));
  EXPECT_TRUE(std::isnan(f8e4m3ToFloat(0xff)));
}

TEST(F8E4M3, EncodesWithRoundingAndSaturation) {
  for (int code = 0; code < 0x7f; ++code)
    EXPECT_EQ(floatToF8e4m3(f8e4m3ToFloat(uint8_t(code))), code);
  EXPECT_EQ(floatToF8e4m3(1000.0f), 0x7e);
  EXPECT_EQ(floatToF8e4m3(-1000.0f), 0xfe);
  EXPECT_EQ(floatToF8e4m3(1.0625f), 0x38); // halfway between 1 and 1.125: even code wins
  EXPECT_EQ(floatToF8e4m3(1.1875f), 0x3a); // halfway between 1.125 and 1.25: even code wins
}

// The nearest code by search (ties to the even code), saturating at 448: the definition the bit
// manipulation of floatToF8e4m3 must reproduce.
uint8_t nearestF8e4m3(float value) {
  float magnitude = std::fmin(std::fabs(value), 448.0f);
  uint8_t best = 0;
  float bestError = INFINITY;
  for (uint8_t code = 0; code < 0x7f; ++code) {
    float error = std::fabs(f8e4m3ToFloat(code) - magnitude);
    if (error < bestError || (error == bestError && (code & 1u) == 0)) {
      best = code;
      bestError = error;
    }
  }
  return uint8_t((std::signbit(value) ? 0x80 : 0) | best);
}

TEST(F8E4M3, EncodingMatchesTheNearestCodeEverywhere) {
  // Every midpoint between neighbouring codes and its fp32 neighbours, then random magnitudes
  // across the whole range and beyond, both signs.
  std::vector<float> values;
  for (int code = 0; code + 1 < 0x7f; ++code) {
    float mid = (f8e4m3ToFloat(uint8_t(code)) + f8e4m3ToFloat(uint8_t(code + 1))) / 2;
    values.insert(values.end(), {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e9f)});
  }
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> exponent(-14.0f, 10.0f);
  for (int i = 0; i < 200000; ++i)
    values.push_back(std::exp2(exponent(rng)));
  values.insert(values.end(), {0.0f, 447.99f, 448.0f, 460.0f, 1e30f, 1e-30f});
  for (float v : values)
    for (float signed_ : {v, -v})
      ASSERT_EQ(floatToF8e4m3(signed_), nearestF8e4m3(signed_)) << signed_;
}

TEST(F8E5M2, DecodesTheFormat) {
  EXPECT_EQ(f8e5m2ToFloat(0x3c), 1.0f);
  EXPECT_EQ(f8e5m2ToFloat(0x7b), 57344.0f);
  EXPECT_TRUE(std::isinf(f8e5m2ToFloat(0x7c)));
  EXPECT_TRUE(std::isnan(f8e5m2ToFloat(0x7e)));
}

TEST(DType, ParsesSafetensorsNames) {
  EXPECT_EQ(parseSafetensorsDType("BF16"), DType::BF16);
  EXPECT_EQ(parseSafetensorsDType("F8_E4M3"), DType::F8E4M3);
  EXPECT_EQ(parseSafetensorsDType("BOOL"), DType::Bool);
  EXPECT_EQ(parseSafetensorsDType("bf16"), std::nullopt);
  EXPECT_EQ(parseSafetensorsDType("F4"), std::nullopt);
  EXPECT_EQ(dtypeSize(DType::I64), 8u);
  EXPECT_EQ(dtypeName(DType::F8E5M2), "F8_E5M2");
}

} // namespace
} // namespace fathom
