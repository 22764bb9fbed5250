// The CUDA backend's host-side decisions, which need no GPU (run in make check as
// cuda.host-logic): which attention form a call takes and how many runs split-KV cuts a row
// into, the split scratch's layout, and which token choices the device leaves to the host
// (decided before any device call).
#include "CudaKernel.h"
#include "Launch.h"
#include "fathom/cuda/Kernels.h"

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

TEST(CudaHostLogic, TokenChoicesTheDeviceLeavesToTheHost) {
  CudaResources gpu; // no device: every case here must decline before touching one
  SelectionScratch scratch;
  backend::Tensor logits;
  logits.type = DType::F32;
  logits.rowsPerBatch = 2;
  logits.rowStride = logits.headDim = 5000;
  const double draws[] = {0.5, 0.5};
  backend::SelectedToken selected[2];
  auto declines = [&](const backend::TokenChoice& choice) {
    return !selectTokensOnDevice(gpu, scratch, logits, choice, draws, selected);
  };
  EXPECT_TRUE(declines({true, 1.0f, 0, 0.9, 1}));    // top-p alone sorts the whole vocabulary
  EXPECT_TRUE(declines({true, 1.0f, 0, 1.0, 1}));    // so does plain sampling
  EXPECT_TRUE(declines({true, 1.0f, 2049, 1.0, 1})); // more candidates than shared memory holds
  EXPECT_TRUE(declines({true, 1.0f, 5, 1.0, 3000})); // min_tokens_to_keep raises k past it
  EXPECT_TRUE(declines({true, 0.0f, 50, 1.0, 1}));   // the host words these errors
  EXPECT_TRUE(declines({true, 1.0f, 50, 1.5, 1}));
  EXPECT_TRUE(declines({true, 1.0f, 50, 1.0, -1}));
  // What the device does take goes on to it: here, without one, that is CUDA's error.
  std::string reason;
  if (!deviceAvailable(reason)) {
    EXPECT_THROW(declines({}), Error);
    EXPECT_THROW(declines({true, 0.6f, 50, 0.95, 1}), Error);
  }
  logits.type = DType::I64; // not logits at all
  EXPECT_TRUE(declines({}));
  logits.type = DType::F32;
  logits.heads = 2; // rows that are not one run
  logits.headDim = 2500;
  logits.headStride = 2600;
  EXPECT_TRUE(declines({}));
}

} // namespace
} // namespace fathom::cuda
