#pragma once
// The one communicator interface the multi-rank runtime uses (issue 14): a world of ranks that
// run the same artifact, and the collectives tensor and expert parallelism need. Two
// implementations sit on existing engines, never our own transport: one process alone, and MPI
// (OpenMPI, under `mpirun`), on host memory; NCCL (Nccl.h), on CUDA device memory.
//
// Every collective waits at most CommOptions::timeout. A rank that gives up asks every peer
// whether it is still there (the waiting peers answer from inside their own collectives) and
// throws CommError naming the ranks that did not answer, so a dead or stalled peer ends the run
// with an error instead of a hang.
#include "fathom/runtime/Error.h"

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::comm {

struct CommOptions {
  // A peer that dies mid-generation is named within this plus the 2 s ping window.
  std::chrono::milliseconds timeout{std::chrono::seconds(20)};
};

// A collective that could not finish; `silentRanks` did not answer (empty when unknown).
class CommError : public Error {
public:
  CommError(const std::string& message, std::vector<int> silentRanks)
      : Error(message), silentRanks_(std::move(silentRanks)) {}
  const std::vector<int>& silentRanks() const { return silentRanks_; }

private:
  std::vector<int> silentRanks_;
};

class Communicator {
public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // "single", "mpi" or "nccl", for messages.
  virtual std::string_view transport() const = 0;
  // How long each later collective waits (the first one after loading may wait for the slowest
  // rank to verify its weights, minutes on a big model).
  virtual void setTimeout(std::chrono::milliseconds timeout) = 0;

  // data[i] = the sum over ranks of their data[i], in place; every rank passes the same count.
  // Summed in rank order in fp32 on every rank, so all ranks hold the same bits.
  virtual void allReduceSum(std::span<float> data) = 0;
  // recv = every rank's `send` (one size everywhere) in rank order; recv holds size() of them.
  virtual void allGather(std::span<const std::byte> send, std::span<std::byte> recv) = 0;
  // Every rank's data becomes root's.
  virtual void broadcast(std::span<std::byte> data, int root) = 0;
  virtual void barrier() = 0;
  // Ends every rank of the world at once (after a CommError, which leaves collectives
  // unfinished); a single process just exits.
  [[noreturn]] virtual void abortWorld(int exitCode) = 0;

  // The same over this rank's group of `group` consecutive ranks (rank / group names it; group
  // must divide size()): what a sharded artifact's collectives of `parts` ranks run. MPI and
  // NCCL run it on a communicator split off the world, so it moves only the group's bytes; this
  // fallback, for a transport without one, is a world all-gather of which each rank keeps its
  // group's part.
  virtual void groupAllReduceSum(std::span<float> data, int group);
  virtual void groupAllGather(std::span<const std::byte> send, std::span<std::byte> recv,
                              int group);

  // Liveness, for a transport bootstrapped over this one (NCCL over MPI): a rank waiting on
  // the other transport keeps answering its peers here, and one that gave up asks which peers
  // are silent (pings them; empty when this transport cannot tell).
  virtual void answerPeers() {}
  virtual std::vector<int> silentRanks() { return {}; }

private:
  std::vector<std::byte> gathered_;
};

// A world of one: every collective is the identity.
std::unique_ptr<Communicator> singleProcess();

// Whether this process was started by an MPI launcher (mpirun / mpiexec set its environment).
bool launchedByMpi();

// Whether this build has the MPI transport.
bool haveMpi();

// MPI_COMM_WORLD (MPI initialized here, finalized with the communicator); throws fathom::Error
// when the build has no MPI.
std::unique_ptr<Communicator> mpiWorld(const CommOptions& options = {});

// The start-up check: an all-reduce of every rank's number (1 + rank, so the sum is n(n+1)/2),
// an all-gather of the ranks and a broadcast from rank 0, each compared with what it must give;
// throws fathom::Error naming the collective and what came back.
void selfTest(Communicator& comm);

// What a rank that gave up on a collective says: how long it waited and which ranks were silent.
std::string timeoutMessage(std::string_view collective, const Communicator& comm,
                           double waitedSeconds, const std::vector<int>& silentRanks);

// Throws fathom::Error unless `group` ranks divide the world.
void checkGroup(const Communicator& comm, int group, const char* collective);

// Throws fathom::Error unless an all-gather over `ranks` of `sendBytes` each fills `recvBytes`.
void checkGatherSizes(size_t sendBytes, size_t recvBytes, int ranks);

} // namespace fathom::comm
