// The CUDA kernel table's collectives (all_reduce, all_gather) over the backend's communicator,
// which for CUDA is NCCL's (comm::DeviceCommunicator: device memory, enqueued on this backend's
// stream, waited for with the communicator's timeout). bf16 partial sums travel as fp32 and
// round once at the end, as on the CPU. A collective waits on the host for its peers, so an entry
// point that holds one is never recorded into a CUDA graph.
#include "CudaKernel.h"
#include "Launch.h"

#include <memory>

namespace fathom::cuda {
namespace {

using Factory = std::unique_ptr<backend::Kernel>;

comm::DeviceCommunicator& groupOf(CudaResources& gpu, uint32_t parts, const char* kernel) {
  const int size = gpu.communicator ? gpu.communicator->size() : 1;
  if (parts < 2 || !gpu.communicator || size % int64_t(parts) != 0)
    shapeError(kernel, "a collective over groups of " + std::to_string(parts) +
                           " ranks cannot run in a world of " + std::to_string(size) +
                           (gpu.communicator ? "" : " (no communicator: launch with mpirun)"));
  if (!gpu.deviceCommunicator)
    shapeError(kernel, "the ranks' communicator is " + std::string(gpu.communicator->transport()) +
                           ", which moves host memory; CUDA collectives run over NCCL "
                           "(fathom-run uses it for CUDA artifacts under mpirun)");
  return *gpu.deviceCommunicator;
}

void requireRows(const char* kernel, const Tensor& in, const Tensor& out) {
  for (const Tensor* t : {&in, &out})
    if (!t->packed() || !t->contiguousRows() || t->rowStride != t->width())
      shapeError(kernel, "operands must be packed rows");
  if (in.rows() != out.rows() || in.type != out.type)
    shapeError(kernel, "input and output differ in rows or element type");
  requireActivation(kernel, "x", in.type);
}

Factory allReduce(CudaResources& gpu, const fb::KernelCall& call, const std::vector<Weight>&,
                  const PlanLimits& limits) {
  const auto* p = call.params_as_AllReduceCall();
  const char* name = "all_reduce";
  const fb::View& x = required(p->x(), name, "x");
  const fb::View& out = required(p->out(), name, "out");
  comm::DeviceCommunicator& comm = groupOf(gpu, p->parts(), name);
  const int parts = int(p->parts());
  // bf16 rows widened to fp32 for the sum: scratch for the planned rows, sized at first use.
  auto sums = std::make_shared<std::unique_ptr<OwnedDeviceMemory>>();
  const int64_t maxRows = std::max<int64_t>(1, limits.maxBatch * limits.maxTokens);
  return makeHostSyncingKernel([&gpu, &x, &out, &comm, parts, sums, maxRows](const CallContext& c) {
    const Tensor in = c.tensor(x), result = c.tensor(out);
    requireRows("all_reduce", in, result);
    if (in.width() != result.width())
      shapeError("all_reduce", "input and output rows differ in width");
    if (c.planning())
      return;
    const int64_t count = in.rows() * in.width();
    if (in.type == DType::F32) {
      if (result.data != in.data)
        check(cudaMemcpyAsync(result.data, in.data, size_t(count) * sizeof(float),
                              cudaMemcpyDeviceToDevice, gpu.stream),
              "all_reduce");
      comm.groupAllReduceSum(std::span<float>(result.as<float>(), size_t(count)), parts);
      return;
    }
    if (!*sums)
      *sums = std::make_unique<OwnedDeviceMemory>(size_t(maxRows * in.width()) * sizeof(float),
                                                  "all_reduce scratch");
    if (in.rows() > maxRows)
      shapeError("all_reduce", "more rows than the plan holds");
    auto* wide = static_cast<float*>((*sums)->data);
    check(launchConvert(DType::BF16, in.data, DType::F32, wide, count, gpu.stream), "all_reduce");
    comm.groupAllReduceSum(std::span<float>(wide, size_t(count)), parts);
    check(launchConvert(DType::F32, wide, DType::BF16, result.data, count, gpu.stream),
          "all_reduce");
  });
}

Factory allGather(CudaResources& gpu, const fb::KernelCall& call, const std::vector<Weight>&,
                  const PlanLimits& limits) {
  const auto* p = call.params_as_AllGatherCall();
  const char* name = "all_gather";
  const fb::View& x = required(p->x(), name, "x");
  const fb::View& out = required(p->out(), name, "out");
  comm::DeviceCommunicator& comm = groupOf(gpu, p->parts(), name);
  const int parts = int(p->parts());
  auto gathered = std::make_shared<std::unique_ptr<OwnedDeviceMemory>>();
  const int64_t maxRows = std::max<int64_t>(1, limits.maxBatch * limits.maxTokens);
  return makeHostSyncingKernel(
      [&gpu, &x, &out, &comm, parts, gathered, maxRows](const CallContext& c) {
        const Tensor in = c.tensor(x), result = c.tensor(out);
        requireRows("all_gather", in, result);
        if (result.width() != in.width() * parts)
          shapeError("all_gather", "out rows must hold " + std::to_string(parts) +
                                       " input rows of the input's element type");
        if (c.planning())
          return;
        if (in.rows() > maxRows)
          shapeError("all_gather", "more rows than the plan holds");
        const size_t element = dtypeSize(in.type);
        const size_t bytes = size_t(in.rows() * in.width()) * element;
        if (!*gathered)
          *gathered = std::make_unique<OwnedDeviceMemory>(
              size_t(maxRows * in.width() * parts) * element, "all_gather scratch");
        auto* blocks = static_cast<std::byte*>((*gathered)->data);
        comm.groupAllGather(std::span<const std::byte>(in.data, bytes),
                            std::span<std::byte>(blocks, bytes * size_t(parts)), parts);
        // Ranks' blocks arrive one after another; output row r is row r of every block.
        DeviceRows from;
        from.data = blocks;
        from.rowsPerBatch = in.rows();
        from.rowStride = in.width();
        from.heads = parts;
        from.headDim = in.width();
        from.headStride = in.rows() * in.width();
        DeviceRows to = deviceRows(result);
        to.heads = parts;
        to.headDim = in.width();
        to.headStride = in.width();
        check(launchCopy(element, from, to, gpu.stream), "all_gather");
      });
}

} // namespace

void addCollectiveKernels(KernelFactory* table) {
  table[size_t(fb::KernelParams::AllReduceCall)] = allReduce;
  table[size_t(fb::KernelParams::AllGatherCall)] = allGather;
}

} // namespace fathom::cuda
