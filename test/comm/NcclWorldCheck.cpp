// The NCCL communicator on CUDA devices (label gpu), one device per rank; run directly (one
// rank over singleProcess) or under mpirun (bootstrapped over MPI). Exits 77 with the reason
// where there is no usable device or fewer devices than ranks. Modes:
//   collectives: the device self-test, then all-reduces of rank-seeded data against the sum
//                recomputed here (NCCL sums in its own order: exact for up to 2 ranks, within
//                1e-6 relative beyond), all-gathers, broadcasts from every root and the group
//                collectives for every group size that divides the world; rank 0 prints
//                "nccl collectives ok (N ranks)".
//   stall:       the last rank sleeps through an all-reduce; the others must give up after the
//                1 s timeout naming it.
#include "WorldCheck.h"
#include "fathom/comm/Nccl.h"

#include <cuda_runtime_api.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>

namespace {

using fathom::comm::DeviceCommunicator;

constexpr int kSkip = 77;

void cudaOrThrow(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw fathom::Error(std::string(what) + ": " + cudaGetErrorString(status));
}

// Host data copied to the device, run through `collective`, copied back.
template <class T, class Collective>
std::vector<T> onDevice(const std::vector<T>& in, size_t outCount, Collective&& collective) {
  void *send = nullptr, *recv = nullptr;
  cudaOrThrow(cudaMalloc(&send, in.size() * sizeof(T) + 1), "cudaMalloc");
  cudaOrThrow(cudaMalloc(&recv, outCount * sizeof(T) + 1), "cudaMalloc");
  cudaOrThrow(cudaMemcpy(send, in.data(), in.size() * sizeof(T), cudaMemcpyHostToDevice),
              "cudaMemcpy");
  collective(std::span<T>(static_cast<T*>(send), in.size()),
             std::span<T>(static_cast<T*>(recv), outCount));
  std::vector<T> out(outCount);
  cudaOrThrow(cudaMemcpy(out.data(), outCount == in.size() ? send : recv, outCount * sizeof(T),
                         cudaMemcpyDeviceToHost),
              "cudaMemcpy");
  cudaFree(send);
  cudaFree(recv);
  return out;
}

// The sum of ranks [first, first + count) of rankData, recomputed in rank order.
bool sumMatches(const std::vector<float>& got, int first, int count, int rank, const char* what) {
  for (size_t i = 0; i < got.size() && i < 4096; ++i) {
    float sum = rankData(first, got.size())[i];
    for (int r = first + 1; r < first + count; ++r)
      sum += rankData(r, got.size())[i];
    const bool close = count <= 2 ? got[i] == sum
                                  : std::fabs(got[i] - sum) <=
                                        1e-6f * float(count) * std::max(1.0f, std::fabs(sum));
    if (!close) {
      std::fprintf(stderr, "rank %d: %s of %zu: element %zu is %.9g, expected %.9g\n", rank, what,
                   got.size(), i, double(got[i]), double(sum));
      return false;
    }
    if (got.size() > 1000 && i > 64)
      break; // the recomputation is quadratic; the head of a long buffer is enough
  }
  return true;
}

int collectives(DeviceCommunicator& comm) {
  fathom::comm::deviceSelfTest(comm);
  const int n = comm.size(), rank = comm.rank();
  for (size_t count : {size_t(1), size_t(1000), size_t(70000)}) {
    auto got = onDevice(rankData(rank, count), count,
                        [&](std::span<float> data, std::span<float>) { comm.allReduceSum(data); });
    if (!sumMatches(got, 0, n, rank, "all-reduce"))
      return 1;
  }
  for (int root = 0; root < n; ++root) {
    auto got = onDevice(std::vector<int>(3, rank == root ? 100 + root : -1), 3,
                        [&](std::span<int> data, std::span<int>) {
                          comm.broadcast(std::as_writable_bytes(data), root);
                        });
    if (got[2] != 100 + root) {
      std::fprintf(stderr, "rank %d: broadcast from %d gave %d\n", rank, root, got[2]);
      return 1;
    }
  }
  for (int group = 1; group <= n; ++group) {
    if (n % group != 0)
      continue;
    const int first = rank - rank % group;
    auto sum = onDevice(rankData(rank, 100), 100, [&](std::span<float> data, std::span<float>) {
      comm.groupAllReduceSum(data, group);
    });
    if (!sumMatches(sum, first, group, rank, "group all-reduce"))
      return 1;
    auto ranks = onDevice(
        std::vector<int>{rank}, size_t(group), [&](std::span<int> send, std::span<int> recv) {
          comm.groupAllGather(std::as_bytes(send), std::as_writable_bytes(recv), group);
        });
    if (!gatheredRanksAre(ranks, first, rank, group))
      return 1;
  }
  if (rank == 0)
    std::printf("nccl collectives ok (%d ranks, rank 0 on device %d)\n", n, comm.device());
  return 0;
}

int stall(DeviceCommunicator& comm) {
  const int last = comm.size() - 1;
  if (comm.rank() == last) {
    std::this_thread::sleep_for(std::chrono::seconds(8)); // never joins the all-reduce
    return 0;
  }
  try {
    onDevice(std::vector<float>(4, 1.0f), 4,
             [&](std::span<float> data, std::span<float>) { comm.allReduceSum(data); });
  } catch (const fathom::comm::CommError& error) {
    reportAndAbort(comm, error, last);
  }
  std::fprintf(stderr, "rank %d: the all-reduce finished without rank %d\n", comm.rank(), last);
  return 1;
}

} // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "collectives";
  try {
    fathom::comm::CommOptions options;
    options.timeout = std::chrono::seconds(mode == "stall" ? 1 : 60);
    auto bootstrap = fathom::comm::launchedByMpi() ? fathom::comm::mpiWorld(options)
                                                   : fathom::comm::singleProcess();
    int devices = 0;
    try {
      devices = fathom::comm::cudaDeviceCountOrThrow();
    } catch (const fathom::Error& error) {
      std::printf("SKIP: %s\n", error.what());
      return kSkip;
    }
    const int needed = mode == "stall" ? std::max(2, bootstrap->size()) : bootstrap->size();
    if (devices < needed) {
      std::printf("SKIP: %d ranks need %d CUDA devices (one each), this machine has %d\n", needed,
                  needed, devices);
      return kSkip;
    }
    if (mode == "stall" && bootstrap->size() < 2) {
      std::printf("SKIP: the stall check needs 2 or more ranks\n");
      return kSkip;
    }
    auto comm = fathom::comm::ncclWorld(std::move(bootstrap), options);
    return mode == "stall" ? stall(*comm) : collectives(*comm);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
}
