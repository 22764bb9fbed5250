// The host side of recorded decode steps: which bucket a step runs at, how its inputs are
// padded, and which recordings are kept.
#include "fathom/executor/StepBuckets.h"

#include <gtest/gtest.h>

namespace fathom::executor {
namespace {

TEST(StepBuckets, BatchesRoundToPowersOfTwoThenMultiplesOfEight) {
  const std::vector<std::pair<int64_t, int64_t>> expected = {
      {1, 1}, {2, 2}, {3, 4}, {4, 4}, {5, 8}, {8, 8}, {9, 16}, {16, 16}, {17, 24}, {63, 64}};
  for (auto [batch, bucket] : expected)
    EXPECT_EQ(batchBucket(batch, 256), bucket) << batch;
  EXPECT_EQ(batchBucket(5, 6), 6); // never past the plan's max batch
  EXPECT_EQ(batchBucket(6, 6), 6);
  EXPECT_EQ(batchBucket(20, 20), 20);
}

TEST(StepBuckets, KeysRoundToTheGranuleWithinTheMaxSequenceLength) {
  EXPECT_EQ(keysBucket(1, 256, 4096), 256);
  EXPECT_EQ(keysBucket(256, 256, 4096), 256);
  EXPECT_EQ(keysBucket(257, 256, 4096), 512);
  EXPECT_EQ(keysBucket(4000, 256, 4000), 4000);
  EXPECT_EQ(keysBucket(33, 16, 40), 40);
  EXPECT_EQ(keysBucket(7, 1, 40), 7);
}

TEST(StepBuckets, OnlyDecodeShapedStepsHaveABucket) {
  using Shape = backend::StepShape;
  EXPECT_EQ(bucketOf(Shape{3, 1, 40, 3, 0}, 8, 512, 256), (StepBucket{4, 256}));
  EXPECT_EQ(bucketOf(Shape{8, 1, 300, 8, 0}, 8, 512, 256), (StepBucket{8, 512}));
  EXPECT_FALSE(bucketOf(Shape{3, 2, 40, 3, 0}, 8, 512, 256)); // two tokens: a prefill chunk
  EXPECT_FALSE(bucketOf(Shape{3, 1, 40, 2, 0}, 8, 512, 256)); // a row without logits
  EXPECT_FALSE(bucketOf(Shape{3, 1, 40, 3, 1}, 8, 512, 256)); // image rows
  EXPECT_FALSE(bucketOf(Shape{9, 1, 40, 9, 0}, 8, 512, 256)); // past the plan
  EXPECT_FALSE(bucketOf(Shape{3, 1, 513, 3, 0}, 8, 512, 256));
}

TEST(StepBuckets, PaddingMasksAddedKeysAndParksAddedSequencesInTheScratchBlock) {
  const backend::StepShape step{2, 1, 3, 2, 0};
  const int64_t ids[] = {11, 12}, positions[] = {2, 1}, cacheStart[] = {2, 1}, headRows[] = {0, 1};
  const uint8_t keyMask[] = {1, 1, 1, 0, 1, 1};
  const int64_t table[] = {5, 6, 7, 8}; // two blocks per sequence
  EntryInputs inputs;
  inputs.ids = ids;
  inputs.positions = positions;
  inputs.keyMask = keyMask;
  inputs.cacheStart = cacheStart;
  inputs.headRows = headRows;
  inputs.blockTable = table;
  const PaddedStep padded = padStep(step, inputs, StepBucket{4, 5}, 2, 9);
  EXPECT_EQ(padded.shape.batch, 4);
  EXPECT_EQ(padded.shape.tokens, 1);
  EXPECT_EQ(padded.shape.keys, 5);
  EXPECT_EQ(padded.shape.headRows, 4);
  EXPECT_EQ(padded.ids, (std::vector<int64_t>{11, 12, 0, 0}));
  EXPECT_EQ(padded.positions, (std::vector<int64_t>{2, 1, 0, 0}));
  EXPECT_EQ(padded.cacheStart, (std::vector<int64_t>{2, 1, 0, 0}));
  EXPECT_EQ(padded.headRows, (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(padded.keyMask, (std::vector<uint8_t>{1, 1, 1, 0, 0, //
                                                  0, 1, 1, 0, 0, //
                                                  1, 0, 0, 0, 0, //
                                                  1, 0, 0, 0, 0}));
  EXPECT_EQ(padded.blockTable, (std::vector<int64_t>{5, 6, 7, 8, 9, 9, 9, 9}));

  inputs.blockTable = nullptr; // the identity table for the real rows
  EXPECT_EQ(padStep(step, inputs, StepBucket{3, 3}, 2, 9).blockTable,
            (std::vector<int64_t>{0, 1, 2, 3, 9, 9}));
}

class CountedRecording final : public backend::Recording {
public:
  explicit CountedRecording(int& live) : live_(live) { ++live_; }
  ~CountedRecording() override { --live_; }
  void replay() override {}

private:
  int& live_;
};

TEST(StepBuckets, RecordingsAreKeptUpToCapacityDroppingTheLeastRecentlyUsed) {
  int live = 0;
  RecordingCache cache(2);
  const StepBucket a{1, 256}, b{2, 256}, c{4, 256};
  EXPECT_TRUE(cache.firstSight(a));
  EXPECT_FALSE(cache.firstSight(a));
  EXPECT_EQ(cache.find(a), nullptr);
  backend::Recording* first = cache.insert(a, std::make_unique<CountedRecording>(live));
  cache.insert(b, std::make_unique<CountedRecording>(live));
  EXPECT_EQ(cache.find(a), first); // a is now the more recently used
  cache.insert(c, std::make_unique<CountedRecording>(live));
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(live, 2);
  EXPECT_NE(cache.find(a), nullptr);
  EXPECT_EQ(cache.find(b), nullptr);
  EXPECT_NE(cache.find(c), nullptr);
  cache.clear();
  EXPECT_EQ(live, 0);
  EXPECT_FALSE(cache.firstSight(a)); // buckets seen stay seen: the next sight records at once
}

} // namespace
} // namespace fathom::executor
