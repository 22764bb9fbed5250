// axpyHeadsOverRows (attention's value sum, a block of rows with the accumulators in registers)
// against axpyHeads row by row: the probabilities times V must keep their bits.
#include "Dot.h"
#include "fathom/cpu/Isa.h"
#include "fathom/runtime/Numeric.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

namespace fathom::cpu::detail {
namespace {

template <class X> X valueFrom(float v);
template <> float valueFrom<float>(float v) {
  return v;
}
template <> uint16_t valueFrom<uint16_t>(float v) {
  return floatToBf16(v);
}

template <class X>
void expectRowBlocksMatchRowByRow(int count, int rows, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(-2.0f, 2.0f);
  std::vector<std::vector<X>> x(static_cast<size_t>(rows), std::vector<X>(static_cast<size_t>(n)));
  std::vector<const X*> rowPointers;
  for (auto& row : x) {
    for (X& v : row)
      v = valueFrom<X>(value(rng));
    rowPointers.push_back(row.data());
  }
  float weights[kMaxLanes][kRowBlock];
  for (auto& lane : weights)
    for (float& w : lane)
      w = value(rng);
  std::vector<std::vector<float>> blocked(static_cast<size_t>(count),
                                          std::vector<float>(static_cast<size_t>(n)));
  for (auto& lane : blocked)
    for (float& a : lane)
      a = value(rng);
  std::vector<std::vector<float>> oneByOne = blocked;
  std::vector<float*> blockedAcc, oneByOneAcc;
  for (int l = 0; l < count; ++l) {
    blockedAcc.push_back(blocked[size_t(l)].data());
    oneByOneAcc.push_back(oneByOne[size_t(l)].data());
  }

  axpyHeadsOverRows(weights, count, rowPointers.data(), rows, blockedAcc.data(), n);
  for (int r = 0; r < rows; ++r) {
    float alpha[kMaxLanes];
    for (int l = 0; l < count; ++l)
      alpha[l] = weights[l][r];
    axpyHeads(alpha, count, rowPointers[size_t(r)], oneByOneAcc.data(), n);
  }
  for (int l = 0; l < count; ++l)
    ASSERT_EQ(std::memcmp(blocked[size_t(l)].data(), oneByOne[size_t(l)].data(),
                          size_t(n) * sizeof(float)),
              0)
        << count << " heads, " << rows << " rows of " << n << ", head " << l;
}

// On AVX2 machines both forms: the AVX2 kernel, and (pinned lower) the vector-extension one.
TEST(AxpyHeadsOverRows, EqualsRowByRowBitForBit) {
  const Isa before = gemmIsa();
  for (Isa isa : {detectedIsa(), Isa::Baseline}) {
    setGemmIsa(isa);
    uint32_t seed = 1;
    for (int count = 1; count <= kMaxLanes; ++count)
      for (int rows : {1, 3, 7, kRowBlock})
        for (int64_t n : {5, 64, 72, 256}) {
          expectRowBlocksMatchRowByRow<float>(count, rows, n, seed++);
          expectRowBlocksMatchRowByRow<uint16_t>(count, rows, n, seed++);
        }
  }
  setGemmIsa(before);
}

} // namespace
} // namespace fathom::cpu::detail
