#pragma once
// Recorded decode steps (CUDA graphs): a recording replays fixed launches, so a step runs at a
// bucket, the batch and key count rounded up, with the extra rows and keys as padding that
// changes nothing the real rows compute. Padded keys are masked (and past every real query's
// position, so causally hidden too); padded sequences decode token 0 at position 0 into a
// scratch cache block no sequence owns, and their logits are dropped. So a bucket's recording
// serves every step that rounds to it, and the recordings a run holds are bounded by
// (batch buckets) x (max_seq_len / key granule). Host-side and backend-free: unit-tested here.
#include "fathom/backend/Backend.h"
#include "fathom/executor/Program.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace fathom::executor {

struct StepBucket {
  int64_t batch = 0, keys = 0;
  bool operator<(const StepBucket& other) const {
    return batch != other.batch ? batch < other.batch : keys < other.keys;
  }
  bool operator==(const StepBucket& other) const {
    return batch == other.batch && keys == other.keys;
  }
};

// Keys steps are padded to a multiple of, unless LoadOptions says otherwise.
inline constexpr int64_t kDefaultKeyGranule = 256;

// The batch a step of `batch` sequences runs at: 1, 2, 4, 8, then multiples of 8 (vLLM's
// capture sizes), never more than maxBatch.
int64_t batchBucket(int64_t batch, int64_t maxBatch);
// The keys a step of `keys` keys runs at: a multiple of granule, never more than maxSeqLen.
int64_t keysBucket(int64_t keys, int64_t granule, int64_t maxSeqLen);
// The bucket of a decode-shaped step (one token per sequence, each reaching the head, no image
// rows); nullopt for any other step, which runs as it is.
std::optional<StepBucket> bucketOf(const backend::StepShape& step, int64_t maxBatch,
                                   int64_t maxSeqLen, int64_t granule);

// A step's inputs padded to its bucket. blockTable: the real rows' table (null: the identity
// table), padded rows all in scratchBlock.
struct PaddedStep {
  backend::StepShape shape;
  std::vector<int64_t> ids, positions, cacheStart, headRows, blockTable;
  std::vector<uint8_t> keyMask;
  EntryInputs inputs() const;
};
PaddedStep padStep(const backend::StepShape& step, const EntryInputs& inputs, StepBucket bucket,
                   int64_t blocksPerSequence, int64_t scratchBlock);

// An entry point's recordings by bucket, the least recently used dropped past `capacity`. A
// bucket is recorded the second time it is seen: the first step at it runs eagerly, so what a
// backend sets up lazily (library heuristics, workspaces) happens outside the capture.
class RecordingCache {
public:
  explicit RecordingCache(size_t capacity) : capacity_(capacity) {}
  backend::Recording* find(StepBucket bucket);
  // True the first time a bucket is asked about.
  bool firstSight(StepBucket bucket) { return seen_.insert({bucket, true}).second; }
  backend::Recording* insert(StepBucket bucket, std::unique_ptr<backend::Recording> recording);
  // Recordings hold buffer addresses: when one moves, every recording goes.
  void clear() { entries_.clear(); }
  size_t size() const { return entries_.size(); }

private:
  struct Entry {
    std::unique_ptr<backend::Recording> recording;
    uint64_t lastUse = 0;
  };
  size_t capacity_;
  uint64_t clock_ = 0;
  std::map<StepBucket, Entry> entries_;
  std::map<StepBucket, bool> seen_;
};

} // namespace fathom::executor
