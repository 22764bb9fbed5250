// The CUDA backend's host-side decisions, which need no GPU (run in make check as
// cuda.host-logic): which attention form a call takes and how many runs split-KV cuts a row
// into, and the split scratch's layout.
#include "Launch.h"

#include <gtest/gtest.h>

#include <vector>

namespace fathom::cuda {
namespace {

Attention decodeCall(int64_t batch, int64_t heads, int64_t queries, int64_t keys) {
  Attention a;
  a.batch = batch;
  a.heads = heads;
  a.queryLen = queries;
  a.keyLen = keys;
  a.keyDim = 512;
  a.ropeDim = 64;
  a.valueDim = 512;
  return a;
}

TEST(CudaHostLogic, SplitKvCutsFewRowsOverLongContexts) {
  std::vector<std::byte> memory(splitScratchBytes(528));
  const SplitScratch scratch = carveSplitScratch(memory.data(), 528, 264); // an H100's 132 SMs
  // 32 rows: enough runs to fill the GPU, at least 256 keys each.
  EXPECT_EQ(attentionSplits(decodeCall(2, 16, 1, 3000), scratch), 9);
  EXPECT_EQ(attentionSplits(decodeCall(2, 16, 1, 700), scratch), 2);
  EXPECT_EQ(attentionSplits(decodeCall(1, 16, 1, 32768), scratch), 17);
  EXPECT_EQ(attentionSplits(decodeCall(1, 1, 1, 1 << 20), scratch), kMaxSplits);
  // Short contexts, enough rows already, or no scratch: one block per row.
  EXPECT_EQ(attentionSplits(decodeCall(2, 16, 1, 511), scratch), 1);
  EXPECT_EQ(attentionSplits(decodeCall(64, 16, 1, 4096), scratch), 1);
  EXPECT_EQ(attentionSplits(decodeCall(2, 16, 1, 3000), SplitScratch{}), 1);
  // Never more runs than the scratch holds.
  for (int64_t rows = 1; rows < 264; ++rows)
    EXPECT_LE(rows * attentionSplits(decodeCall(1, rows, 1, 1 << 16), scratch), 528) << rows;
}

TEST(CudaHostLogic, SplitScratchArraysAreAlignedAndDisjoint) {
  const int64_t runs = 100;
  std::vector<double> backing(splitScratchBytes(runs) / sizeof(double) + 1);
  const SplitScratch s = carveSplitScratch(backing.data(), runs, 50);
  const auto at = [](const void* p) { return reinterpret_cast<uintptr_t>(p); };
  EXPECT_EQ(at(s.totals) % alignof(double), 0u);
  EXPECT_EQ(at(s.partials), at(s.totals) + runs * sizeof(double));
  EXPECT_EQ(at(s.maxima), at(s.partials) + runs * kMaxAttentionDim * sizeof(float));
  EXPECT_EQ(at(s.visible), at(s.maxima) + runs * sizeof(float));
  EXPECT_LE(at(s.visible) + runs * sizeof(int), at(backing.data()) + splitScratchBytes(runs));
  EXPECT_EQ(s.capacityRuns, runs);
  EXPECT_EQ(s.targetBlocks, 50);
}

} // namespace
} // namespace fathom::cuda
