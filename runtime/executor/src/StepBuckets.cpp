#include "fathom/executor/StepBuckets.h"

#include <algorithm>

namespace fathom::executor {

int64_t batchBucket(int64_t batch, int64_t maxBatch) {
  int64_t bucket = 1;
  while (bucket < batch && bucket < 8)
    bucket *= 2;
  if (bucket < batch)
    bucket = (batch + 7) / 8 * 8;
  return std::min(bucket, maxBatch);
}

int64_t keysBucket(int64_t keys, int64_t granule, int64_t maxSeqLen) {
  const int64_t step = std::max<int64_t>(granule, 1);
  return std::min((keys + step - 1) / step * step, maxSeqLen);
}

std::optional<StepBucket> bucketOf(const backend::StepShape& step, int64_t maxBatch,
                                   int64_t maxSeqLen, int64_t granule) {
  if (step.tokens != 1 || step.headRows != step.batch || step.imageRows != 0 || step.batch < 1 ||
      step.batch > maxBatch || step.keys < 1 || step.keys > maxSeqLen)
    return std::nullopt;
  return StepBucket{batchBucket(step.batch, maxBatch), keysBucket(step.keys, granule, maxSeqLen)};
}

EntryInputs PaddedStep::inputs() const {
  EntryInputs in;
  in.ids = ids.data();
  in.positions = positions.data();
  in.keyMask = keyMask.data();
  in.cacheStart = cacheStart.data();
  in.headRows = headRows.data();
  in.blockTable = blockTable.data();
  return in;
}

PaddedStep padStep(const backend::StepShape& step, const EntryInputs& inputs, StepBucket bucket,
                   int64_t blocksPerSequence, int64_t scratchBlock) {
  const int64_t real = step.batch, batch = bucket.batch, keys = bucket.keys;
  PaddedStep padded;
  padded.shape = {batch, 1, keys, batch, 0};
  // Padded sequences decode token 0 at position 0, the first row of the scratch block, and see
  // that one key (a row that sees none would divide by zero).
  padded.ids.assign(size_t(batch), 0);
  padded.positions.assign(size_t(batch), 0);
  padded.cacheStart.assign(size_t(batch), 0);
  padded.keyMask.assign(size_t(batch * keys), 0);
  padded.blockTable.assign(size_t(batch * blocksPerSequence), scratchBlock);
  padded.headRows.resize(size_t(batch));
  for (int64_t b = 0; b < batch; ++b) {
    padded.headRows[size_t(b)] = b < real && inputs.headRows ? inputs.headRows[b] : b;
    if (b >= real) {
      padded.keyMask[size_t(b * keys)] = 1;
      continue;
    }
    if (inputs.ids)
      padded.ids[size_t(b)] = inputs.ids[b];
    if (inputs.positions)
      padded.positions[size_t(b)] = inputs.positions[b];
    if (inputs.cacheStart)
      padded.cacheStart[size_t(b)] = inputs.cacheStart[b];
    if (inputs.keyMask)
      std::copy_n(inputs.keyMask + b * step.keys, step.keys, padded.keyMask.begin() + b * keys);
    else
      std::fill_n(padded.keyMask.begin() + b * keys, step.keys, uint8_t(1));
    for (int64_t i = 0; i < blocksPerSequence; ++i)
      padded.blockTable[size_t(b * blocksPerSequence + i)] =
          inputs.blockTable ? inputs.blockTable[b * blocksPerSequence + i]
                            : b * blocksPerSequence + i;
  }
  return padded;
}

backend::Recording* RecordingCache::find(StepBucket bucket) {
  auto found = entries_.find(bucket);
  if (found == entries_.end())
    return nullptr;
  found->second.lastUse = ++clock_;
  return found->second.recording.get();
}

backend::Recording* RecordingCache::insert(StepBucket bucket,
                                           std::unique_ptr<backend::Recording> recording) {
  if (entries_.size() >= capacity_ && !entries_.count(bucket)) {
    auto oldest = std::min_element(entries_.begin(), entries_.end(), [](auto& a, auto& b) {
      return a.second.lastUse < b.second.lastUse;
    });
    if (oldest != entries_.end())
      entries_.erase(oldest);
  }
  Entry& entry = entries_[bucket];
  entry.recording = std::move(recording);
  entry.lastUse = ++clock_;
  return entry.recording.get();
}

} // namespace fathom::executor
