#pragma once
// Internal: what the CPU kernel table's entries share. Each entry binds one KernelCall (its
// table of the kernel ABI) to a Kernel that runs the fathom::cpu functions over the operands'
// strided views.
#include "fathom/backend/Backend.h"
#include "fathom/backend/FunctionKernel.h"
#include "fathom/cpu/Linear.h"
#include "fathom/cpu/Scratch.h"
#include "fathom/cpu/ThreadPool.h"
#include "fathom/runtime/Error.h"

#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace fathom::cpu {

namespace fb = artifact::fb;
using backend::CallContext;
using backend::PlanLimits;
using backend::Tensor;
using backend::Weight;

// The backend's shared resources: its threads and one scratch buffer that every kernel's
// worst case fits in (sized when the calls are prepared, so nothing is allocated per step).
struct CpuResources {
  ThreadPool* pool = nullptr;
  ScratchBuffer* scratch = nullptr;
  comm::Communicator* comm = nullptr; // the ranks collectives run over (null: one process)
  void reserveScratch(size_t bytes) { scratch->reserve(bytes); }
};

using backend::makeKernel;

using KernelFactory = std::unique_ptr<backend::Kernel> (*)(CpuResources&, const fb::KernelCall&,
                                                           const std::vector<Weight>&,
                                                           const PlanLimits&);

// The table, by KernelParams member; null where the CPU has no kernel.
const KernelFactory* cpuKernelTable();

// Groups of entries (DenseKernels.cpp, AttentionKernels.cpp, MoeKernels.cpp, VisionKernels.cpp).
void addDenseKernels(KernelFactory* table);
void addAttentionKernels(KernelFactory* table);
void addMoeKernels(KernelFactory* table);
void addVisionKernels(KernelFactory* table);
void addCollectiveKernels(KernelFactory* table);

// The value of a shard_start weight (one i64: where this rank's shard starts).
int64_t shardStart(const Weight& weight, const char* kernel);

// A required View of a call, or an error naming the kernel and the field.
const fb::View& required(const fb::View* view, const char* kernel, const char* field);
const Weight& weightAt(const std::vector<Weight>& weights, int32_t index, const char* kernel);
const Weight* optionalWeightAt(const std::vector<Weight>& weights, int32_t index,
                               const char* kernel);

// Throws unless x [rows, in] -> y [rows, out] fits the matrix `weight` [out, in].
void checkLinearRows(const Weight& weight, const Tensor& x, const Tensor& y);
// y[rows, out] = x W^T (+ bias) over the rows of `x` and `y`, which follow the same extent;
// the caller has checked them with checkLinearRows.
void linearRows(ThreadPool& pool, Scratch scratch, const Weight& weight, const Weight* bias,
                const Tensor& x, const Tensor& y);
LinearArgs linearArgs(const Weight& weight, const Weight* bias, int64_t rows, DType xType,
                      const void* x, int64_t ldx, DType yType, void* y, int64_t ldy);

// Runs fn(rowOfA, rowOfB, rows) over the runs of rows two same-shaped tensors share: one run
// when both are packed, else one per sequence, cut where a paged tensor's block ends.
template <class Fn> void forEachRun(const Tensor& a, const Tensor& b, Fn&& fn) {
  if (a.packed() && b.packed()) {
    fn(a.data, b.data, a.rows());
    return;
  }
  for (int64_t g = 0; g < a.batches; ++g)
    for (int64_t t = 0, n = 0; t < a.rowsPerBatch; t += n) {
      n = std::min(a.runFrom(t), b.runFrom(t));
      fn(a.row(g, t), b.row(g, t), n);
    }
}

[[noreturn]] void shapeError(const char* kernel, const std::string& what);

// Index arrays (token ids, expert rows, cache positions) live in the arena, which an inconsistent
// plan may alias with an operand the kernel writes. A kernel copies each once, checks the copy
// and indexes with the copy only, so what it checked is what it uses. `copy` keeps its capacity
// from step to step.
template <class T> const T* snapshot(std::vector<T>& copy, const Tensor& t) {
  copy.resize(size_t(t.rows() * t.width()));
  T* to = copy.data();
  for (int64_t b = 0; b < t.batches; ++b)
    for (int64_t r = 0; r < t.rowsPerBatch; ++r, to += t.width())
      std::memcpy(to, t.row(b, r), size_t(t.width()) * sizeof(T));
  return copy.data();
}

} // namespace fathom::cpu
