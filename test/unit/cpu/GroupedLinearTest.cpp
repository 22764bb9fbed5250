// groupedLinear() against what it replaces: linear() per expert over the expert's rows (and
// siluMul for the gated form), bit for bit, for every weight dtype (FP8 and INT4 included) and
// both GEMM paths.
#include "fathom/cpu/GroupedLinear.h"
#include "TestUtil.h"
#include "fathom/cpu/Elementwise.h"
#include "fathom/runtime/Error.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace fathom::cpu {
namespace {

using test::randomFloats;

// Experts without rows, one row (single-row path), a few (rowwise), 9 and 140 (tiled; 140 takes
// two row blocks of one expert).
const std::vector<int32_t> kRowsPerExpert = {0, 1, 3, 0, 9, 140, 0};
// Partial 128 x 128 FP8 blocks on both edges; more outputs than one task's span (256).
constexpr int64_t kIn = 300, kOut = 260;
// INT4: 1 x 128 groups, the last partial; zero points two per byte.
constexpr int64_t kGroupsPerRow = 3, kZeroBytesPerRow = 2;

struct Stack {
  DType type;
  std::vector<std::byte> data;
  std::vector<float> scales;  // FP8: [matrices, 3, 3]; U4: [matrices, kOut, 3]
  std::vector<uint8_t> zeros; // U4: [matrices, kOut, 2 bytes]
  size_t matrixBytes() const { return storageBytes(type, uint64_t(kIn * kOut), uint64_t(kIn)); }
  int64_t scalesPerMatrix() const { return type == DType::U4 ? kOut * kGroupsPerRow : 3 * 3; }
  BlockScales blockScales(int64_t matrix) const {
    if (type == DType::U4)
      return {scales.data() + matrix * scalesPerMatrix(), 1, 128,
              zeros.data() + matrix * kOut * kZeroBytesPerRow};
    return {scales.data() + matrix * scalesPerMatrix(), 128, 128};
  }
};

Stack makeStack(DType type, int64_t matrices, uint32_t seed) {
  Stack stack{type, {}, {}, {}};
  stack.data.resize(size_t(matrices) * stack.matrixBytes());
  std::vector<float> values = randomFloats(size_t(matrices * kIn * kOut), seed, 0.1f);
  std::mt19937 rng(seed);
  for (size_t i = 0; i < values.size(); ++i) {
    if (type == DType::F8E4M3) {
      uint8_t code = uint8_t(rng() & 0xff);
      stack.data[i] = std::byte((code & 0x7f) == 0x7f ? 0x3c : code); // no NaN codes
    } else if (type == DType::U4) {
      if (i < stack.data.size())
        stack.data[i] = std::byte(rng() & 0xff); // two random codes
    } else {
      storeFloat(type, values[i], stack.data.data() + i * dtypeSize(type));
    }
  }
  if (type == DType::U4) {
    stack.zeros.resize(size_t(matrices * kOut * kZeroBytesPerRow));
    for (uint8_t& z : stack.zeros)
      z = uint8_t(rng() & 0xff);
  }
  if (type == DType::F8E4M3 || type == DType::U4)
    stack.scales = randomFloats(size_t(matrices * stack.scalesPerMatrix()), seed + 1, 0.01f);
  for (float& s : stack.scales)
    s = std::fabs(s) + 1e-3f;
  return stack;
}

LinearArgs matrixArgs(const Stack& w, int64_t matrix, int64_t rows, DType act, const void* x,
                      void* y) {
  LinearArgs args{rows, kIn, kOut,   act,
                  x,    0,   w.type, w.data.data() + size_t(matrix) * w.matrixBytes()};
  if (w.type == DType::F8E4M3 || w.type == DType::U4)
    args.wScales = w.blockScales(matrix);
  args.yType = act;
  args.y = y;
  return args;
}

// What expert_linear + silu_mul compute: each expert's rows through linear().
std::vector<std::byte> perExpert(const Stack& w, bool gated, DType act,
                                 const std::vector<std::byte>& x,
                                 const std::vector<int32_t>& offsets, ThreadPool& pool) {
  const size_t e = dtypeSize(act);
  const int64_t total = offsets.back();
  std::vector<std::byte> y(size_t(total * kOut) * e), gate(y.size()), up(y.size());
  LinearArgs large{kRowwiseMaxRows + 1, kIn, kOut};
  ScratchBuffer scratch(linearScratchBytes(large, pool));
  for (size_t g = 0; g + 1 < offsets.size(); ++g) {
    int64_t begin = offsets[g], rows = offsets[g + 1] - begin;
    if (rows == 0)
      continue;
    const std::byte* xg = x.data() + size_t(begin * kIn) * e;
    size_t at = size_t(begin * kOut) * e;
    int64_t halves = gated ? 2 : 1;
    linear(matrixArgs(w, int64_t(g) * halves, rows, act, xg, (gated ? gate : y).data() + at), pool,
           scratch.span());
    if (gated)
      linear(matrixArgs(w, int64_t(g) * 2 + 1, rows, act, xg, up.data() + at), pool,
             scratch.span());
  }
  if (gated)
    siluMul(pool, act, gate.data(), kOut, up.data(), kOut, total, kOut, y.data(), kOut);
  return y;
}

std::vector<std::byte> grouped(const Stack& w, bool gated, DType act,
                               const std::vector<std::byte>& x, const std::vector<int32_t>& offsets,
                               ThreadPool& pool) {
  std::vector<std::byte> y(size_t(offsets.back() * kOut) * dtypeSize(act));
  GroupedLinearArgs args;
  args.groups = int64_t(offsets.size()) - 1;
  args.offsets = offsets.data();
  args.inFeatures = kIn;
  args.outFeatures = kOut;
  args.gated = gated;
  args.xType = args.yType = act;
  args.x = x.data();
  args.ldx = kIn;
  args.wType = w.type;
  args.w = w.data.data();
  args.wScales = w.blockScales(0);
  args.y = y.data();
  args.ldy = kOut;
  ScratchBuffer scratch(groupedLinearScratchBytes(pool));
  std::vector<GroupedLinearTask> tasks;
  groupedLinear(args, pool, scratch.span(), tasks);
  return y;
}

std::vector<int32_t> offsetsOf(const std::vector<int32_t>& rows) {
  std::vector<int32_t> offsets{0};
  for (int32_t r : rows)
    offsets.push_back(offsets.back() + r);
  return offsets;
}

std::vector<std::byte> activations(DType act, int64_t rows) {
  std::vector<float> values = randomFloats(size_t(rows * kIn), 5);
  std::vector<std::byte> x(values.size() * dtypeSize(act));
  for (size_t i = 0; i < values.size(); ++i)
    storeFloat(act, values[i], x.data() + i * dtypeSize(act));
  return x;
}

struct Case {
  DType weight, activation;
  bool gated;
};

class GroupedLinearCase : public ::testing::TestWithParam<Case> {};

TEST_P(GroupedLinearCase, MatchesLinearPerExpertBitForBit) {
  const Case c = GetParam();
  std::vector<int32_t> offsets = offsetsOf(kRowsPerExpert);
  int64_t experts = int64_t(kRowsPerExpert.size());
  Stack w = makeStack(c.weight, experts * (c.gated ? 2 : 1), 11);
  std::vector<std::byte> x = activations(c.activation, offsets.back());
  ThreadPool pool(3);
  std::vector<std::byte> want = perExpert(w, c.gated, c.activation, x, offsets, pool);
  std::vector<std::byte> got = grouped(w, c.gated, c.activation, x, offsets, pool);
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size()), 0);
  // Nor do the bits depend on the thread count.
  ThreadPool single(1);
  std::vector<std::byte> alone = grouped(w, c.gated, c.activation, x, offsets, single);
  EXPECT_EQ(std::memcmp(alone.data(), want.data(), got.size()), 0);
}

INSTANTIATE_TEST_SUITE_P(
    WeightsAndActivations, GroupedLinearCase,
    ::testing::Values(Case{DType::F32, DType::F32, true}, Case{DType::F32, DType::F32, false},
                      Case{DType::BF16, DType::BF16, true}, Case{DType::BF16, DType::BF16, false},
                      Case{DType::BF16, DType::F32, true}, Case{DType::F8E4M3, DType::F32, true},
                      Case{DType::F8E4M3, DType::BF16, true},
                      Case{DType::F8E4M3, DType::BF16, false}, Case{DType::U4, DType::F32, true},
                      Case{DType::U4, DType::BF16, true}, Case{DType::U4, DType::BF16, false}));

TEST(GroupedLinear, RejectsBadOffsetsAndOperands) {
  Stack w = makeStack(DType::F32, 2, 3);
  std::vector<std::byte> x = activations(DType::F32, 4);
  ThreadPool pool(2);
  auto message = [&](std::vector<int32_t> offsets, DType yType) {
    std::vector<std::byte> y(size_t(4 * kOut) * 4);
    GroupedLinearArgs args;
    args.groups = 2;
    args.offsets = offsets.data();
    args.inFeatures = kIn;
    args.outFeatures = kOut;
    args.xType = DType::F32;
    args.yType = yType;
    args.x = x.data();
    args.ldx = kIn;
    args.wType = DType::F32;
    args.w = w.data.data();
    args.y = y.data();
    args.ldy = kOut;
    ScratchBuffer scratch(groupedLinearScratchBytes(pool));
    std::vector<GroupedLinearTask> tasks;
    try {
      groupedLinear(args, pool, scratch.span(), tasks);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(message({1, 2, 4}, DType::F32),
            "grouped linear: expert row ranges must start at row 0");
  EXPECT_EQ(message({0, 3, 2}, DType::F32),
            "grouped linear: expert row ranges are not ascending at expert 1");
  EXPECT_EQ(message({0, 2, 4}, DType::BF16), "grouped linear: x and y must have the same dtype");
  EXPECT_EQ(message({0, 2, 4}, DType::F32), "");
}

} // namespace
} // namespace fathom::cpu
