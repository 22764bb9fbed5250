// The activation arena: buffers alive at the same time never overlap; the others share bytes.
#include "passes/MemoryPlanner.h"

#include <gtest/gtest.h>

#include <random>

namespace mlir::fathom {
namespace {

bool bytesOverlap(uint64_t a, uint64_t aSize, uint64_t b, uint64_t bSize) {
  return a < b + bSize && b < a + aSize;
}

TEST(MemoryPlanner, AChainReusesTheSameTwoSlots) {
  // x0 -> x1 -> x2 -> x3: each value dies when the next is made, so two slots suffice.
  std::vector<BufferLifetime> chain = {{1000, 0, 1}, {1000, 1, 2}, {1000, 2, 3}, {1000, 3, 4}};
  Placement placement = placeBuffers(chain);
  EXPECT_EQ(placement.arenaSize, 2 * 1024u); // 64-byte aligned slots
  EXPECT_NE(placement.offsets[0], placement.offsets[1]);
  EXPECT_EQ(placement.offsets[0], placement.offsets[2]);
  EXPECT_EQ(placement.offsets[1], placement.offsets[3]);
}

class MemoryPlannerAlignment : public ::testing::TestWithParam<uint64_t> {};

TEST_P(MemoryPlannerAlignment, LiveBuffersNeverShareBytesAndOffsetsAreAligned) {
  const uint64_t alignment = GetParam();
  std::mt19937 rng(7);
  std::vector<BufferLifetime> buffers;
  for (int i = 0; i < 200; ++i) {
    int64_t first = int64_t(rng() % 100);
    buffers.push_back({uint64_t(1 + rng() % 5000), first, first + int64_t(rng() % 20)});
  }
  Placement placement = placeBuffers(buffers, alignment);
  for (size_t i = 0; i < buffers.size(); ++i) {
    EXPECT_EQ(placement.offsets[i] % alignment, 0u);
    EXPECT_LE(placement.offsets[i] + buffers[i].size, placement.arenaSize);
    for (size_t j = i + 1; j < buffers.size(); ++j) {
      bool live = buffers[i].firstCall <= buffers[j].lastCall &&
                  buffers[j].firstCall <= buffers[i].lastCall;
      if (live) {
        EXPECT_FALSE(bytesOverlap(placement.offsets[i], buffers[i].size, placement.offsets[j],
                                  buffers[j].size))
            << i << " and " << j;
      }
    }
  }
}

// The CPU's 64 bytes and CUDA's 256 (compiler/targets).
INSTANTIATE_TEST_SUITE_P(TargetAlignments, MemoryPlannerAlignment, ::testing::Values(64, 256));

TEST(MemoryPlanner, SmallBuffersTakeOneAlignedSlotEach) {
  // Three 8-byte values alive together: 64-byte slots on the CPU, 256-byte ones on CUDA.
  std::vector<BufferLifetime> ids = {{8, 0, 2}, {8, 0, 2}, {8, 0, 2}};
  EXPECT_EQ(placeBuffers(ids, 64).arenaSize, 3 * 64u);
  Placement cuda = placeBuffers(ids, 256);
  EXPECT_EQ(cuda.arenaSize, 3 * 256u);
  EXPECT_EQ(cuda.offsets, (std::vector<uint64_t>{0, 256, 512}));
}

} // namespace
} // namespace mlir::fathom
