// NCCL in non-blocking mode (ncclConfig_t::blocking = 0): every call returns at once and the
// communicator's state is polled, so initialization, splits and collectives all wait with the
// deadline, and a rank that gives up can abort NCCL instead of hanging in it.
#include "fathom/comm/Nccl.h"
#include "fathom/cuda/Kernels.h"

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstdlib>
#include <map>
#include <string>
#include <thread>

namespace fathom::comm {
namespace {

using Clock = std::chrono::steady_clock;

std::string cudaReason(cudaError_t status) {
  return std::string(cudaGetErrorName(status)) + " (" + cudaGetErrorString(status) + ")";
}

void checkCuda(cudaError_t status, const std::string& what) {
  if (status != cudaSuccess)
    throw Error("nccl: " + what + " failed: " + cudaReason(status));
}

std::string ncclReason(ncclResult_t result, ncclComm_t comm) {
  std::string reason = ncclGetErrorString(result);
  const char* last = ncclGetLastError(comm);
  if (last && *last)
    reason += ": " + std::string(last);
  return reason;
}

// Errors that come from a peer or the network (a dead rank), not from this rank's own call.
bool peerFailure(ncclResult_t result) {
  return result == ncclRemoteError || result == ncclSystemError || result == ncclInternalError;
}

// The local rank the launcher gives (ranks of one host take different devices), or -1.
int launcherLocalRank() {
  for (const char* variable :
       {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID", "LOCAL_RANK"})
    if (const char* value = std::getenv(variable)) {
      char* end = nullptr;
      const long rank = std::strtol(value, &end, 10);
      if (end != value && *end == '\0' && rank >= 0 && rank < 1 << 20)
        return int(rank);
    }
  return -1;
}

ncclConfig_t nonBlockingConfig() {
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  return config;
}

class NcclWorld final : public DeviceCommunicator {
public:
  NcclWorld(std::unique_ptr<Communicator> bootstrap, const CommOptions& options)
      : bootstrap_(std::move(bootstrap)), options_(options) {
    const int devices = cudaDeviceCountOrThrow();
    const int localRank = launcherLocalRank();
    device_ = (localRank >= 0 ? localRank : bootstrap_->rank()) % devices;
    checkCuda(cudaSetDevice(device_), "cudaSetDevice(" + std::to_string(device_) + ")");

    ncclUniqueId id{};
    if (bootstrap_->rank() == 0) {
      const ncclResult_t made = ncclGetUniqueId(&id);
      if (made != ncclSuccess)
        throw Error("nccl: ncclGetUniqueId failed: " + ncclReason(made, nullptr));
    }
    bootstrap_->broadcast(std::as_writable_bytes(std::span(&id, 1)), 0);
    ncclConfig_t config = nonBlockingConfig();
    const ncclResult_t started =
        ncclCommInitRankConfig(&world_, bootstrap_->size(), id, bootstrap_->rank(), &config);
    finish(world_, started, "communicator start-up", /*onStream=*/false);
  }

  ~NcclWorld() override {
    for (auto& [group, comm] : groups_)
      close(comm);
    close(world_);
  }

  int rank() const override { return bootstrap_->rank(); }
  int size() const override { return bootstrap_->size(); }
  std::string_view transport() const override { return "nccl"; }
  int device() const override { return device_; }
  void setStream(void* cudaStream) override { stream_ = static_cast<cudaStream_t>(cudaStream); }
  void setTimeout(std::chrono::milliseconds timeout) override {
    options_.timeout = timeout;
    bootstrap_->setTimeout(timeout);
  }

  void allReduceSum(std::span<float> data) override {
    ncclComm_t comm = live(world_);
    finish(
        comm,
        ncclAllReduce(data.data(), data.data(), data.size(), ncclFloat32, ncclSum, comm, stream_),
        "all-reduce");
  }

  void allGather(std::span<const std::byte> send, std::span<std::byte> recv) override {
    checkGatherSizes(send.size(), recv.size(), size());
    ncclComm_t comm = live(world_);
    finish(comm, ncclAllGather(send.data(), recv.data(), send.size(), ncclUint8, comm, stream_),
           "all-gather");
  }

  void broadcast(std::span<std::byte> data, int root) override {
    if (root < 0 || root >= size())
      throw Error("broadcast: root " + std::to_string(root) + " outside a world of " +
                  std::to_string(size()));
    ncclComm_t comm = live(world_);
    finish(comm,
           ncclBroadcast(data.data(), data.data(), data.size(), ncclUint8, root, comm, stream_),
           "broadcast");
  }

  void barrier() override {
    checkCuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize before the barrier");
    bootstrap_->barrier();
  }

  [[noreturn]] void abortWorld(int exitCode) override {
    abortAll();
    bootstrap_->abortWorld(exitCode);
    std::_Exit(exitCode); // a virtual call is not known not to return
  }

  void groupAllReduceSum(std::span<float> data, int group) override {
    checkGroup(*this, group, "all-reduce");
    if (group == size())
      return allReduceSum(data);
    if (group == 1)
      return;
    ncclComm_t comm = groupComm(group);
    finish(
        comm,
        ncclAllReduce(data.data(), data.data(), data.size(), ncclFloat32, ncclSum, comm, stream_),
        "all-reduce");
  }

  void groupAllGather(std::span<const std::byte> send, std::span<std::byte> recv,
                      int group) override {
    checkGroup(*this, group, "all-gather");
    checkGatherSizes(send.size(), recv.size(), group);
    if (group == size())
      return allGather(send, recv);
    ncclComm_t comm = groupComm(group);
    finish(comm, ncclAllGather(send.data(), recv.data(), send.size(), ncclUint8, comm, stream_),
           "all-gather");
  }

  void answerPeers() override { bootstrap_->answerPeers(); }
  std::vector<int> silentRanks() override { return bootstrap_->silentRanks(); }

private:
  ncclComm_t live(ncclComm_t comm) const {
    if (!comm)
      throw Error("nccl: the communicator was aborted after an earlier error; the run cannot "
                  "continue");
    return comm;
  }

  // The communicator of this rank's group of `group` consecutive ranks, split off the world the
  // first time a collective needs it (every rank reaches its first group collective together).
  ncclComm_t groupComm(int group) {
    auto found = groups_.find(group);
    if (found != groups_.end())
      return live(found->second);
    ncclComm_t world = live(world_), split = nullptr;
    ncclConfig_t config = nonBlockingConfig();
    const ncclResult_t started =
        ncclCommSplit(world, rank() / group, rank() % group, &split, &config);
    groups_[group] = split;
    finish(split ? split : world, started, "communicator split", /*onStream=*/false);
    return split;
  }

  // Waits, within the timeout, until `comm` has taken the call that returned `started` and, for
  // a collective, until the stream has run it.
  void finish(ncclComm_t comm, ncclResult_t started, const char* what, bool onStream = true) {
    if (started != ncclSuccess && started != ncclInProgress)
      fail(comm, started, what);
    const Clock::time_point start = Clock::now(), deadline = start + options_.timeout;
    for (int polls = 0;; ++polls) {
      ncclResult_t state = ncclSuccess;
      const ncclResult_t asked = ncclCommGetAsyncError(comm, &state);
      if (asked != ncclSuccess)
        fail(comm, asked, what);
      if (state == ncclSuccess) {
        if (!onStream)
          return;
        const cudaError_t ran = cudaStreamQuery(stream_);
        if (ran == cudaSuccess)
          return;
        if (ran != cudaErrorNotReady)
          throw Error(std::string("nccl: ") + what + " on device " + std::to_string(device_) +
                      " failed: " + cudaReason(ran));
      } else if (state != ncclInProgress) {
        fail(comm, state, what);
      }
      bootstrap_->answerPeers();
      if (Clock::now() >= deadline)
        break;
      if (polls > 1000)
        std::this_thread::sleep_for(std::chrono::microseconds(polls > 100000 ? 1000 : 50));
    }
    abortAll();
    const std::vector<int> silent = bootstrap_->silentRanks();
    const double waited = std::chrono::duration<double>(Clock::now() - start).count();
    throw CommError(timeoutMessage(std::string("nccl ") + what, *this, waited, silent), silent);
  }

  [[noreturn]] void fail(ncclComm_t comm, ncclResult_t result, const char* what) {
    const std::string reason = ncclReason(result, comm);
    abortAll();
    const std::string message = std::string("nccl ") + what + ": rank " + std::to_string(rank()) +
                                " of " + std::to_string(size()) + ": " + reason;
    if (!peerFailure(result))
      throw Error(message);
    const std::vector<int> silent = bootstrap_->silentRanks();
    throw CommError(
        silent.empty() ? message : message + "; " + timeoutMessage(what, *this, 0, silent), silent);
  }

  // After an error or a timeout NCCL's kernels may never finish: abort frees the communicators
  // without waiting for them.
  void abortAll() {
    for (auto& [group, comm] : groups_)
      if (comm) {
        ncclCommAbort(comm);
        comm = nullptr;
      }
    if (world_) {
      ncclCommAbort(world_);
      world_ = nullptr;
    }
  }

  // Flushes a healthy communicator's work (within the timeout) and frees it; aborts it otherwise.
  void close(ncclComm_t& comm) {
    if (!comm)
      return;
    const ncclResult_t started = ncclCommFinalize(comm);
    bool flushed = started == ncclSuccess || started == ncclInProgress;
    const Clock::time_point deadline = Clock::now() + options_.timeout;
    while (flushed) {
      ncclResult_t state = ncclSuccess;
      if (ncclCommGetAsyncError(comm, &state) != ncclSuccess)
        flushed = false;
      else if (state == ncclSuccess)
        break;
      else if (state != ncclInProgress || Clock::now() >= deadline)
        flushed = false;
      else
        std::this_thread::yield();
    }
    if (flushed)
      ncclCommDestroy(comm);
    else
      ncclCommAbort(comm);
    comm = nullptr;
  }

  std::unique_ptr<Communicator> bootstrap_;
  CommOptions options_;
  int device_ = 0;
  cudaStream_t stream_ = nullptr;
  ncclComm_t world_ = nullptr;
  std::map<int, ncclComm_t> groups_;
};

} // namespace

int cudaDeviceCountOrThrow() {
  std::string reason;
  if (!cuda::deviceAvailable(reason))
    throw Error("nccl: no usable CUDA device: " + reason);
  int count = 0;
  checkCuda(cudaGetDeviceCount(&count), "cudaGetDeviceCount");
  return count;
}

std::unique_ptr<DeviceCommunicator> ncclWorld(std::unique_ptr<Communicator> bootstrap,
                                              const CommOptions& options) {
  return std::make_unique<NcclWorld>(std::move(bootstrap), options);
}

} // namespace fathom::comm
