// The CPU kernel table's collectives (all_reduce, all_gather) over the backend's communicator,
// and the shard_start weights that sharded kernels read.
#include "CpuKernel.h"

#include "../Elements.h"
#include "fathom/comm/Communicator.h"

#include <algorithm>

namespace fathom::cpu {
namespace {

using Factory = std::unique_ptr<backend::Kernel>;

// The communicator of a call over groups of `parts` ranks, checked at load.
comm::Communicator& groupOf(CpuResources& cpu, uint32_t parts, const char* kernel) {
  const int size = cpu.comm ? cpu.comm->size() : 1;
  if (parts < 2 || !cpu.comm || size % int64_t(parts) != 0)
    shapeError(kernel, "a collective over groups of " + std::to_string(parts) +
                           " ranks cannot run in a world of " + std::to_string(size) +
                           (cpu.comm ? "" : " (no communicator: launch with mpirun)"));
  return *cpu.comm;
}

void requireRows(const char* kernel, const Tensor& in, const Tensor& out) {
  for (const Tensor* t : {&in, &out})
    if (!t->packed() || !t->contiguousRows() || t->rowStride != t->width())
      shapeError(kernel, "operands must be packed rows");
  if (in.rows() != out.rows() || in.type != out.type)
    shapeError(kernel, "input and output differ in rows or element type");
}

Factory allReduce(CpuResources& cpu, const fb::KernelCall& call, const std::vector<Weight>&,
                  const PlanLimits&) {
  const auto* p = call.params_as_AllReduceCall();
  const char* name = "all_reduce";
  const fb::View& x = required(p->x(), name, "x");
  const fb::View& out = required(p->out(), name, "out");
  comm::Communicator& comm = groupOf(cpu, p->parts(), name);
  const int parts = int(p->parts());
  return makeKernel(
      [&x, &out, &comm, parts, sum = std::vector<float>()](const CallContext& c) mutable {
        Tensor in = c.tensor(x), result = c.tensor(out);
        requireRows("all_reduce", in, result);
        if (in.width() != result.width())
          shapeError("all_reduce", "input and output rows differ in width");
        if (c.planning())
          return;
        const size_t count = size_t(in.rows() * in.width());
        detail::withActivationType(in.type, "all_reduce", "x", [&](auto tag) {
          using T = decltype(tag);
          const T* from = in.as<T>();
          T* to = result.as<T>();
          if constexpr (std::is_same_v<T, float>) {
            if (to != from)
              std::copy(from, from + count, to);
            comm.groupAllReduceSum(std::span<float>(to, count), parts);
          } else {
            // bf16 partial sums travel as fp32 and round once at the end.
            sum.resize(count);
            for (size_t i = 0; i < count; ++i)
              sum[i] = detail::toFloat(from[i]);
            comm.groupAllReduceSum(sum, parts);
            for (size_t i = 0; i < count; ++i)
              to[i] = detail::fromFloat<T>(sum[i]);
          }
        });
      });
}

Factory allGather(CpuResources& cpu, const fb::KernelCall& call, const std::vector<Weight>&,
                  const PlanLimits&) {
  const auto* p = call.params_as_AllGatherCall();
  const char* name = "all_gather";
  const fb::View& x = required(p->x(), name, "x");
  const fb::View& out = required(p->out(), name, "out");
  comm::Communicator& comm = groupOf(cpu, p->parts(), name);
  const int parts = int(p->parts());
  return makeKernel(
      [&x, &out, &comm, parts, gathered = std::vector<std::byte>()](const CallContext& c) mutable {
        Tensor in = c.tensor(x), result = c.tensor(out);
        requireRows("all_gather", in, result);
        if (result.width() != in.width() * parts)
          shapeError("all_gather", "out rows must hold " + std::to_string(parts) +
                                       " input rows of the input's element type");
        if (c.planning())
          return;
        // Ranks' blocks arrive one after another; each output row takes one row of every block.
        const size_t rowBytes = size_t(in.width()) * dtypeSize(in.type);
        const size_t rows = size_t(in.rows());
        gathered.resize(rowBytes * rows * size_t(parts));
        comm.groupAllGather(std::span<const std::byte>(in.data, rowBytes * rows), gathered, parts);
        for (size_t r = 0; r < rows; ++r)
          for (size_t part = 0; part < size_t(parts); ++part)
            std::memcpy(result.data + (r * size_t(parts) + part) * rowBytes,
                        gathered.data() + (part * rows + r) * rowBytes, rowBytes);
      });
}

} // namespace

int64_t shardStart(const Weight& weight, const char* kernel) {
  if (weight.type != DType::I64 || weight.shape != std::vector<int64_t>{1})
    shapeError(kernel, "shard start " + weight.name + " must hold one i64");
  int64_t start = 0;
  std::memcpy(&start, weight.data, sizeof start);
  return start;
}

void addCollectiveKernels(KernelFactory* table) {
  table[size_t(fb::KernelParams::AllReduceCall)] = allReduce;
  table[size_t(fb::KernelParams::AllGatherCall)] = allGather;
}

} // namespace fathom::cpu
