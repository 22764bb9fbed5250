#pragma once
// What the executor's kernel bindings share: bound weights, the arena, the KV cache, the
// per-call workspace, and the shape of the step being run.
#include "fathom/cpu/Linear.h"
#include "fathom/cpu/Scratch.h"
#include "fathom/cpu/ThreadPool.h"
#include "fathom/runtime/DType.h"
#include "fathom/runtime/Error.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fathom::executor {

struct BoundWeight {
  std::string name;
  DType type = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  cpu::BlockScales scales; // F8E4M3 only
};

struct BoundBuffer {
  DType type = DType::F32;
  int64_t rowElements = 0;
  int64_t maxRows = 0;
  std::byte* data = nullptr;
};

// Bump allocation inside a buffer sized at load time; reset before every kernel call.
class Workspace {
public:
  void allocate(size_t bytes) { buffer_.reserve(bytes); }
  void reset() { used_ = 0; }
  template <class T> T* take(int64_t count) {
    size_t bytes = (size_t(count) * sizeof(T) + 63) / 64 * 64;
    if (used_ + bytes > buffer_.size())
      throw Error("internal error: executor workspace exhausted (" + std::to_string(used_ + bytes) +
                  " > " + std::to_string(buffer_.size()) + " bytes)");
    T* result = reinterpret_cast<T*>(buffer_.span().data() + used_);
    used_ += bytes;
    return result;
  }

private:
  cpu::ScratchBuffer buffer_;
  size_t used_ = 0;
};

// One attention layer's cache: per token, kv_b_proj's output (every head's k_nope then v) and
// the shared, roped key.
struct LayerCache {
  std::vector<std::byte> kv;   // [maxBatch, maxSeq, heads * (nope + v)]
  std::vector<std::byte> rope; // [maxBatch, maxSeq, ropeDim]
  int64_t kvWidth = 0, ropeDim = 0;
};

struct Step {
  int64_t batch = 0, tokens = 0; // rows = batch * tokens, row r = b * tokens + t
  int64_t cacheOffset = 0;       // cache index of token 0
  const int64_t* ids = nullptr;
  const int64_t* positions = nullptr;
  int64_t rows() const { return batch * tokens; }
};

struct ExecutionContext {
  cpu::ThreadPool* pool = nullptr;
  DType act = DType::F32;
  int64_t maxBatch = 0, maxSeq = 0;
  std::vector<BoundWeight> weights;
  std::vector<BoundBuffer> buffers;
  std::vector<LayerCache> caches;
  std::vector<uint8_t> keyValid; // [maxBatch, maxSeq]
  Workspace workspace;
  cpu::ScratchBuffer kernelScratch;
  Step step;

  const BoundWeight& weight(int32_t index) const { return weights.at(size_t(index)); }
  const BoundWeight* optionalWeight(int32_t index) const {
    return index < 0 ? nullptr : &weights.at(size_t(index));
  }
  BoundBuffer& buffer(int32_t index) { return buffers.at(size_t(index)); }
};

// y[rows, out] = x W^T (+ bias) with the weight's own dtype and scales.
void runLinear(ExecutionContext& context, const BoundWeight& weight, const BoundWeight* bias,
               int64_t rows, DType xType, const void* x, int64_t ldx, DType yType, void* y,
               int64_t ldy);

// One KernelCall of the artifact, copied out of the FlatBuffer at load.
struct ProgramCall {
  std::string kernel;
  std::vector<int32_t> inputs, outputs, weights;
  std::vector<int64_t> ints;
  std::vector<double> floats;
};

// The composite kernels (MlaLayer.cpp, MoeLayer.cpp).
void runMlaAttention(ExecutionContext& context, const ProgramCall& call);
size_t mlaWorkspaceBytes(const ExecutionContext& context, const ProgramCall& call, int64_t rows);
void runMoeRouter(ExecutionContext& context, const ProgramCall& call);
size_t moeRouterWorkspaceBytes(const ExecutionContext& context, const ProgramCall& call,
                               int64_t rows);
void runExpertFfn(ExecutionContext& context, const ProgramCall& call);
size_t expertFfnWorkspaceBytes(const ExecutionContext& context, const ProgramCall& call,
                               int64_t rows);

} // namespace fathom::executor
