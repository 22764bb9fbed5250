#pragma once
// Internal to the executor: what a loaded Program holds (bound buffers, prepared kernels) and
// the CallContext that resolves an entry point's views for one step. Program.cpp runs steps;
// ProgramLoad.cpp binds and checks a program when it is loaded.
#include "fathom/artifact/ArtifactFile.h"
#include "fathom/executor/Program.h"
#include "fathom/executor/StepBuckets.h"

#include "fathom/runtime/Error.h"

#include <algorithm>
#include <map>

namespace fathom::executor {
namespace detail {

inline DType dtypeOf(fb::ElementType type) {
  return static_cast<DType>(type);
}

inline const char* inputName(fb::InputKind kind) {
  return fb::EnumNameInputKind(kind);
}

using artifact::kMaxBatchLimit;
using artifact::kMaxSeqLenLimit;
// Rows per extent unit (routed copies: top_k <= 4096 experts), heads per row and elements per
// head (a vocabulary of logits at most): bounds that keep every product in 64 bits.
inline constexpr uint32_t kMaxMultiplier = uint32_t(1) << 16;
inline constexpr uint32_t kMaxHeads = uint32_t(1) << 16;
inline constexpr uint32_t kMaxHeadDim = uint32_t(1) << 26;
// Recorded steps an entry point keeps (buckets past it are recorded again when they recur).
inline constexpr size_t kMaxRecordings = 64;
// Tokens one KV cache block may hold.
inline constexpr int64_t kMaxBlockTokens = int64_t(1) << 16;
// Elements a view's offset or stride may span: 2^48, past any buffer a machine holds.
inline constexpr uint64_t kMaxElements = uint64_t(1) << 48;

inline bool knownElementType(fb::ElementType type) {
  return uint8_t(type) <= uint8_t(fb::ElementType::MAX) && type != fb::ElementType::U4;
}

// a * b, or UINT64_MAX when it does not fit.
inline uint64_t saturatingProduct(uint64_t a, uint64_t b) {
  uint64_t product;
  return __builtin_mul_overflow(a, b, &product) ? UINT64_MAX : product;
}

// Device memory owned through the backend.
struct DeviceMemory {
  backend::Backend* owner = nullptr;
  void* data = nullptr;
  size_t bytes = 0;
  DeviceMemory() = default;
  DeviceMemory(backend::Backend& backend, size_t size)
      : owner(&backend), data(backend.allocate(size)), bytes(size) {}
  DeviceMemory(DeviceMemory&& other) noexcept { *this = std::move(other); }
  DeviceMemory& operator=(DeviceMemory&& other) noexcept {
    std::swap(owner, other.owner);
    std::swap(data, other.data);
    std::swap(bytes, other.bytes);
    return *this;
  }
  ~DeviceMemory() {
    if (owner)
      owner->release(data);
  }
};

struct BoundBuffer {
  fb::BufferKind kind = fb::BufferKind::Arena;
  DType type = DType::F32;
  int64_t rowElements = 0;
  std::byte* data = nullptr;
  size_t bytes = 0;             // what data may hold
  int64_t capacityPerBatch = 0; // caches: rows per sequence
  int32_t cache = -1;
  DeviceMemory output; // Output buffers, grown as steps need
};

struct BoundEntry {
  const fb::EntryPoint* entry = nullptr;
  std::vector<BoundBuffer> buffers;
  std::vector<std::unique_ptr<backend::Kernel>> kernels;
  backend::PlanLimits limits;
  bool usesCaches = false; // some buffer is a cache: steps need a block table
  // Decode steps run at buckets and replay recordings (StepBuckets.h): the backend records,
  // every kernel is recordable and the entry's inputs are ones padding knows.
  bool recordable = false;
  RecordingCache recordings{kMaxRecordings};
  std::vector<int64_t> runs;   // per call, while profiling
  std::vector<double> seconds; // per call, while profiling
};

// The caches' block pool as kernels address it: the step's block table in device memory.
struct CachePool {
  int64_t blockTokens = 0, blocks = 0, blocksPerSequence = 0;
  // The block past the pool that padded rows of recorded steps write into (-1: none).
  int64_t scratchBlock = -1;
  int64_t allocatedBlocks() const { return blocks + (scratchBlock >= 0 ? 1 : 0); }
  const int64_t* table = nullptr; // [max_batch, blocksPerSequence], device memory
};

// Rows a view of this extent holds at a step.
int64_t rowsOf(fb::Extent extent, uint32_t multiplier, const backend::StepShape& step);

// Resolves views for one step and hands out weights: what kernels see.
class StepContext final : public backend::CallContext {
public:
  StepContext(const std::string& path, const std::vector<backend::Weight>& weights,
              BoundEntry& entry, const backend::StepShape& step, const CachePool& pool,
              bool planning = false)
      : path_(path), weights_(weights), entry_(entry), step_(step), pool_(pool),
        planning_(planning) {}

  backend::Tensor tensor(const fb::View& view) const override;
  const backend::Weight& weight(int32_t index) const override { return weights_.at(size_t(index)); }
  const backend::StepShape& step() const override { return step_; }
  bool planning() const override { return planning_; }

private:
  // What run() allocates for the entry's output at this step; other Output buffers get nothing.
  size_t plannedOutputBytes(int32_t buffer) const {
    const fb::View& output = *entry_.entry->output();
    if (output.buffer() != buffer)
      return 0;
    const BoundBuffer& bound = entry_.buffers[size_t(buffer)];
    return size_t(int64_t(rowsOf(output.extent(), output.multiplier(), step_)) *
                  bound.rowElements) *
           dtypeSize(bound.type);
  }

  const std::string& path_;
  const std::vector<backend::Weight>& weights_;
  BoundEntry& entry_;
  const backend::StepShape& step_;
  const CachePool& pool_;
  bool planning_;
};

} // namespace detail

struct Program::Impl {
  std::unique_ptr<artifact::Artifact> file;
  std::shared_ptr<backend::Backend> device;
  std::vector<backend::Weight> weights;
  detail::DeviceMemory arena;
  std::vector<detail::DeviceMemory> caches;
  detail::CachePool pool;
  detail::DeviceMemory blockTable; // the current step's, copied in by run()
  std::vector<int64_t> hostTable;  // its staging copy, checked before the copy
  std::vector<int64_t> cacheRowElements;
  std::vector<DType> cacheTypes;
  std::map<fb::EntryKind, detail::BoundEntry> entries;
  DType compute = DType::F32;
  int64_t maxBatch = 0, maxSeqLen = 0;
  bool profiling = false;
  bool recordDecode = true;
  int64_t keyGranule = kDefaultKeyGranule;
  uint64_t memoryLimit = 0;
  std::string path;

  void bind(const LoadOptions& options);
  void bindEntry(const fb::EntryPoint& entry);
  // Whether an entry's decode steps can be recorded (BoundEntry::recordable).
  bool canRecord(const fb::EntryPoint& entry, const detail::BoundEntry& bound) const;
  // A step's block table checked against the pool (null: the identity table, sequence b in
  // blocks b * blocksPerSequence onwards), and its copy to the device.
  std::vector<int64_t> checkedBlockTable(const backend::StepShape& step,
                                         const int64_t* table) const;
  void uploadBlockTable(const std::vector<int64_t>& table);
  // Copies the inputs the entry declares to its buffers, checking sizes and token ids.
  void copyInputs(detail::BoundEntry& entry, const backend::StepShape& step,
                  const EntryInputs& inputs);
  // Sizes the output buffer for the step; true when it moved.
  bool ensureOutput(detail::BoundEntry& entry, const backend::StepShape& step);
  // The output rows of `step` (the first rows of a padded one) as fp32.
  std::vector<float> readOutput(const detail::BoundEntry& entry, const backend::StepShape& step);
  // Runs a step (checked against the plan) and waits for it; its output stays on the device.
  void execute(detail::BoundEntry& entry, const backend::StepShape& step,
               const EntryInputs& inputs);
  // A decode step at its bucket: padded, then replayed (recorded the second time it is seen).
  void runRecorded(detail::BoundEntry& entry, const backend::StepShape& step,
                   const EntryInputs& inputs, StepBucket bucket);
  // The program's vocabulary (token id bound, logits width) or labels agree with the config
  // the artifact was compiled from.
  void checkAgainstConfig() const;
  const detail::BoundEntry& entryOf(fb::EntryKind kind) const;
};

} // namespace fathom::executor
