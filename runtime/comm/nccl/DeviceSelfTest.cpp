// The start-up check of a device communicator: selfTest()'s values, staged through device memory.
#include "fathom/comm/Nccl.h"

#include <cuda_runtime_api.h>

#include <string>
#include <vector>

namespace fathom::comm {
namespace {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw Error(std::string("communicator self-test: ") + what +
                " failed: " + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")");
}

// Device memory holding a copy of `host`, copied back by read().
template <class T> class DeviceCopy {
public:
  explicit DeviceCopy(const std::vector<T>& host) : size_(host.size()) {
    check(cudaMalloc(&data_, bytes()), "cudaMalloc");
    check(cudaMemcpy(data_, host.data(), bytes(), cudaMemcpyHostToDevice), "cudaMemcpy");
  }
  ~DeviceCopy() { cudaFree(data_); }
  DeviceCopy(const DeviceCopy&) = delete;
  DeviceCopy& operator=(const DeviceCopy&) = delete;

  std::span<T> span() { return {static_cast<T*>(data_), size_}; }
  std::vector<T> read() const {
    std::vector<T> host(size_);
    check(cudaMemcpy(host.data(), data_, bytes(), cudaMemcpyDeviceToHost), "cudaMemcpy");
    return host;
  }

private:
  size_t bytes() const { return size_ * sizeof(T); }
  void* data_ = nullptr;
  size_t size_;
};

} // namespace

void deviceSelfTest(DeviceCommunicator& comm) {
  const int n = comm.size(), rank = comm.rank();
  const std::string world = " (" + std::string(comm.transport()) + ", rank " +
                            std::to_string(rank) + " of " + std::to_string(n) + ", device " +
                            std::to_string(comm.device()) + ")";
  DeviceCopy<float> sum(std::vector<float>{float(1 + rank), float(rank == 0)});
  comm.allReduceSum(sum.span());
  const std::vector<float> summed = sum.read();
  const float expected = float(n) * float(n + 1) / 2;
  if (summed[0] != expected || summed[1] != 1.0f)
    throw Error("communicator self-test: all-reduce gave " + std::to_string(summed[0]) + " and " +
                std::to_string(summed[1]) + ", expected " + std::to_string(expected) + " and 1" +
                world);

  DeviceCopy<int> mine(std::vector<int>{rank}), all(std::vector<int>(size_t(n), -1));
  comm.allGather(std::as_bytes(mine.span()), std::as_writable_bytes(all.span()));
  const std::vector<int> ranks = all.read();
  for (int r = 0; r < n; ++r)
    if (ranks[size_t(r)] != r)
      throw Error("communicator self-test: all-gather slot " + std::to_string(r) + " holds " +
                  std::to_string(ranks[size_t(r)]) + world);

  DeviceCopy<int> root(std::vector<int>{rank == 0 ? 12345 : -1});
  comm.broadcast(std::as_writable_bytes(root.span()), 0);
  if (const int got = root.read()[0]; got != 12345)
    throw Error("communicator self-test: broadcast from rank 0 gave " + std::to_string(got) +
                world);
  comm.barrier();
}

} // namespace fathom::comm
