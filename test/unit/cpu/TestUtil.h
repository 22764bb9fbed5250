#pragma once
// Shared helpers for the CPU kernel tests: deterministic data, bf16 views and comparisons.
#include "fathom/runtime/Numeric.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <vector>

namespace fathom::cpu::test {

inline std::vector<float> randomFloats(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> values(n);
  for (float& v : values)
    v = normal(rng);
  return values;
}

// Values k / 8 with |k| <= 8: products and short sums of them are exact in fp32, so a kernel's
// summation order cannot change its result and bf16 references can demand identical bits.
inline std::vector<float> exactFloats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> eighths(-8, 8);
  std::vector<float> values(n);
  for (float& v : values)
    v = float(eighths(rng)) / 8.0f;
  return values;
}

inline std::vector<uint16_t> toBf16(const std::vector<float>& values) {
  std::vector<uint16_t> bits(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    bits[i] = floatToBf16(values[i]);
  return bits;
}

inline std::vector<float> widen(const std::vector<uint16_t>& bits) {
  std::vector<float> values(bits.size());
  for (size_t i = 0; i < bits.size(); ++i)
    values[i] = bf16ToFloat(bits[i]);
  return values;
}

// Distance in representable bf16 values (adjacent values are 1 apart across zero too).
inline int64_t bf16Ulps(uint16_t a, uint16_t b) {
  auto ordered = [](uint16_t v) -> int64_t {
    return (v & 0x8000) ? -int64_t(v & 0x7fff) : int64_t(v);
  };
  return std::llabs(ordered(a) - ordered(b));
}

// For results whose fp32 summation order legitimately differs from the reference: every
// element within 1 bf16 ulp and at least 99% identical.
inline void expectBf16MostlyExact(const std::vector<uint16_t>& got,
                                  const std::vector<uint16_t>& want) {
  ASSERT_EQ(got.size(), want.size());
  size_t exact = 0;
  int64_t worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    int64_t ulps = bf16Ulps(got[i], want[i]);
    exact += ulps == 0;
    worst = std::max(worst, ulps);
  }
  EXPECT_LE(worst, 1);
  EXPECT_GE(double(exact), 0.99 * double(got.size()))
      << exact << " of " << got.size() << " identical";
}

inline void expectBitsEqual(const std::vector<uint16_t>& got, const std::vector<uint16_t>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_EQ(got[i], want[i]) << "element " << i << ": " << bf16ToFloat(got[i]) << " vs "
                               << bf16ToFloat(want[i]);
}

// |got - want| <= tolerance * max(1, |want|) elementwise.
inline void expectClose(const std::vector<float>& got, const std::vector<double>& want,
                        double tolerance) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tolerance * std::max(1.0, std::fabs(want[i]))) << "element " << i;
}

} // namespace fathom::cpu::test
