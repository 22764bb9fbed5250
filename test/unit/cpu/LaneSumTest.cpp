// sumLanesOfEach (eight accumulators' lane sums at once, on transposed vectors) against sumLanes
// (one accumulator's fixed tree): every GEMV and attention dot relies on their bits being equal.
#include "Simd.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>

namespace fathom::cpu::detail {
namespace {

// Lanes of wide-ranging magnitude and both signs, so that any change of the adding order moves
// the rounded sum.
template <int Count> void expectEachSumIsTheTrees(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> mantissa(-1.0f, 1.0f);
  std::uniform_int_distribution<int> exponent(-30, 30);
  alignas(64) float lanes[Count][16];
  for (auto& accumulator : lanes)
    for (float& lane : accumulator)
      lane = std::ldexp(mantissa(rng), exponent(rng));
  float sums[Count];
  sumLanesOfEach(lanes, sums);
  for (int j = 0; j < Count; ++j) {
    Vec16 asVector;
    std::memcpy(&asVector, lanes[j], sizeof asVector);
    EXPECT_EQ(std::bit_cast<uint32_t>(sums[j]), std::bit_cast<uint32_t>(sumLanes(lanes[j])))
        << "accumulator " << j << " of " << Count << ", seed " << seed;
    EXPECT_EQ(std::bit_cast<uint32_t>(sums[j]), std::bit_cast<uint32_t>(sumLanes(asVector)));
  }
}

TEST(LaneSums, EachOfManyEqualsItsOwnTreeBitForBit) {
  for (uint32_t seed = 1; seed <= 200; ++seed) {
    expectEachSumIsTheTrees<1>(seed);
    expectEachSumIsTheTrees<6>(seed);  // AVX2's bf16 block
    expectEachSumIsTheTrees<8>(seed);  // AVX2's batched pairs: 4 rows x 2 weight rows
    expectEachSumIsTheTrees<12>(seed); // a count that leaves a partial group of eight
    expectEachSumIsTheTrees<16>(seed);
  }
}

TEST(LaneSums, NonFiniteLanesPropagateAsInTheTree) {
  alignas(64) float lanes[8][16] = {};
  lanes[0][3] = INFINITY;
  lanes[1][5] = INFINITY;
  lanes[1][13] = -INFINITY;
  lanes[2][0] = NAN;
  lanes[3][15] = 1e38f;
  lanes[3][7] = 1e38f;
  lanes[3][11] = 1e38f;
  float sums[8];
  sumLanesOfEach(lanes, sums);
  EXPECT_EQ(sums[0], INFINITY);
  EXPECT_TRUE(std::isnan(sums[1]));
  EXPECT_TRUE(std::isnan(sums[2]));
  EXPECT_EQ(sums[3], sumLanes(lanes[3])); // overflows to inf in both, in the same step
  EXPECT_EQ(sums[4], 0.0f);
}

} // namespace
} // namespace fathom::cpu::detail
