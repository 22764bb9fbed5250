#pragma once
// The backend interface: what the generic executor (runtime/executor) needs from a device.
// A backend allocates and copies device memory, makes the artifact's weights available, and
// turns each KernelCall of the kernel ABI (runtime/artifact/Kernels.fbs) into a prepared Kernel
// through its kernel table; it knows nothing about models. See README.md.
#include "Artifact_generated.h"
#include "fathom/backend/TokenChoice.h"
#include "fathom/runtime/DType.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::artifact {
class Artifact;
}
namespace fathom::comm {
class Communicator;
}

namespace fathom::backend {

// The run-time sizes of one entry-point call; a View's extent picks its rows from them.
struct StepShape {
  int64_t batch = 0;     // sequences
  int64_t tokens = 0;    // new tokens per sequence
  int64_t keys = 0;      // cached keys per sequence after this call's append
  int64_t headRows = 0;  // rows that reach the head
  int64_t imageRows = 0; // image embedding rows given to this call
};

// The limits an entry point was planned for (kernels size their scratch from them).
struct PlanLimits {
  int64_t maxBatch = 1, maxSeqLen = 1, maxTokens = 1;
};

// A View resolved for one step: row (b, t) starts at data + b * batchStride + t * rowStride
// elements and holds `heads` groups of headDim elements, headStride apart. Paged tensors (the
// KV caches, a pool of blocks shared by every sequence) place row t of group b in block
// blockTable[b * blocksPerBatch + t / blockRows], at row t % blockRows of it; block k starts
// k * blockRows rows after data, and batchStride is unused.
struct Tensor {
  std::byte* data = nullptr;
  DType type = DType::F32;
  int64_t batches = 1; // row groups: the batch, or 1 for flat row lists
  int64_t rowsPerBatch = 0;
  int64_t rowStride = 0, batchStride = 0;
  int64_t heads = 1, headDim = 0, headStride = 0;
  // Rows that exist past rowsPerBatch in each group (a cache holds max_seq_len per sequence).
  int64_t capacityPerBatch = 0;
  const int64_t* blockTable = nullptr; // device memory; null: not paged
  int64_t blockRows = 0, blocksPerBatch = 0;

  int64_t rows() const { return batches * rowsPerBatch; }
  bool paged() const { return blockTable != nullptr; }
  int64_t width() const { return heads == 1 ? headDim : heads * headDim; }
  // A row's heads lie back to back: the row is one run of width() elements.
  bool contiguousRows() const { return heads == 1 || headStride == headDim; }
  // Rows of all groups are one run of rows rowStride apart.
  bool packed() const {
    return !paged() && (batches == 1 || batchStride == rowsPerBatch * rowStride);
  }
  // Element offset of row (b, t) from data.
  int64_t rowOffset(int64_t b, int64_t t) const {
    if (!paged())
      return b * batchStride + t * rowStride;
    const int64_t block = blockTable[b * blocksPerBatch + t / blockRows];
    return (block * blockRows + t % blockRows) * rowStride;
  }
  std::byte* row(int64_t b, int64_t t) const {
    return data + rowOffset(b, t) * int64_t(dtypeSize(type));
  }
  // Rows from row t of a group that lie rowStride apart (the rest of its block when paged).
  int64_t runFrom(int64_t t) const {
    return paged() ? std::min(rowsPerBatch - t, blockRows - t % blockRows) : rowsPerBatch - t;
  }
  template <class T> T* as() const { return reinterpret_cast<T*>(data); }
};

struct Weight {
  std::string name;
  DType type = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  // Block-quantized weights (F8E4M3): fp32 scales [ceil(rows / blockRows), ceil(cols / blockCols)].
  const float* scales = nullptr;
  int64_t blockRows = 0, blockCols = 0;
  // INT4 weights (U4): zero points, U4 in the scales' shape (rows byte-aligned).
  const uint8_t* zeros = nullptr;
};

// What a kernel reads at run time: its operands resolved for the current step.
class CallContext {
public:
  virtual ~CallContext() = default;
  virtual Tensor tensor(const artifact::fb::View& view) const = 0;
  virtual const Weight& weight(int32_t index) const = 0;
  virtual const StepShape& step() const = 0;
  // True while the executor checks a program it has just loaded: a kernel resolves its operands,
  // checks them against each other and its weights, and returns before it reads or writes any
  // data. A call that fails here is refused at load, before anything runs.
  virtual bool planning() const { return false; }
};

// One KernelCall bound to a backend, run once per step.
class Kernel {
public:
  virtual ~Kernel() = default;
  virtual void run(const CallContext& context) = 0;
  // False for a kernel that waits on the device from the host (it reads a count back to size
  // its launches): it cannot be part of a Recording.
  virtual bool recordable() const { return true; }
};

// A step's kernel launches captured once and replayed as one (a CUDA graph): the same kernels
// with the same operands (addresses and sizes), reading whatever the buffers hold at replay.
class Recording {
public:
  virtual ~Recording() = default;
  virtual void replay() = 0;
};

class Backend {
public:
  virtual ~Backend() = default;
  // The artifact target this backend runs ("cpu").
  virtual std::string_view name() const = 0;
  // Threads (or streams) kernels use, for reports.
  virtual int parallelism() const = 0;

  // Device memory, 64-byte aligned, zeroed. Throws fathom::Error when it cannot.
  virtual void* allocate(size_t bytes) = 0;
  virtual void release(void* memory) = 0;
  virtual void copyToDevice(void* device, const void* host, size_t bytes) = 0;
  virtual void copyToHost(void* host, const void* device, size_t bytes) = 0;
  // Waits for every kernel launched so far.
  virtual void synchronize() = 0;

  // The artifact's tensors as kernels see them (index = artifact tensor index).
  virtual std::vector<Weight> bindWeights(const artifact::Artifact& artifact) = 0;
  // Binds one call through the kernel table; throws fathom::Error for a kernel the backend
  // lacks or a call whose operands it cannot run.
  virtual std::unique_ptr<Kernel> prepare(const artifact::fb::KernelCall& call,
                                          const std::vector<Weight>& weights,
                                          const PlanLimits& limits) = 0;

  // Whether record() can capture launches. A backend that launches asynchronously gains from
  // replaying a whole step as one launch; the CPU, which runs each call as it is made, does not.
  virtual bool records() const { return false; }
  // Captures what `launches` launches (without running it) into a Recording. Null when the
  // backend does not record or the capture failed (the caller then runs the launches itself).
  virtual std::unique_ptr<Recording> record(const std::function<void()>& launches) {
    (void)launches;
    return nullptr;
  }

  // One token per row of `logits` (packed F32 or BF16 rows in device memory, one per sequence),
  // chosen on the device as the host sampler chooses it (runtime/backends/cpu Sampling.h) with
  // uniforms[r] as row r's draw, so a step copies back a token per row instead of a vocabulary
  // of logits. False when the backend cannot choose so (it does not select on the device, or
  // not with this choice): the caller copies the logits back and chooses with the same draws.
  virtual bool selectTokens(const Tensor& logits, const TokenChoice& choice, const double* uniforms,
                            SelectedToken* selected) {
    (void)logits, (void)choice, (void)uniforms, (void)selected;
    return false;
  }
};

// The artifact's tensors (index = artifact tensor index) as Weights pointing into the mapped
// file, FP8 and INT4 ones with their scales and zero points attached after checking that they
// hold one value per block. Throws fathom::Error naming the file and tensor otherwise.
std::vector<Weight> describeWeights(const artifact::Artifact& artifact);

struct BackendOptions {
  int threads = 0; // CPU: 0 = every hardware thread
  // The ranks a sharded artifact's collectives run over (it outlives the backend); null: this
  // process alone.
  comm::Communicator* communicator = nullptr;
};

} // namespace fathom::backend
