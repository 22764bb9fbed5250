#pragma once
// fathom-run's ranks: under mpirun it joins MPI_COMM_WORLD, checks that the launch matches the
// ranks the artifact is compiled for (from its metadata, before a weight is read), runs the
// collective self-test, and keeps every rank but 0 quiet.
#include "fathom/comm/Communicator.h"

#include <cstdio>
#include <functional>
#include <memory>
#include <string>

namespace fathom::run {

struct Ranks {
  std::unique_ptr<comm::Communicator> comm; // single process unless launched by mpirun
  bool quiet = false;                       // ranks other than 0 print no results
  // Where this rank reports a failure of the world (a quiet rank's stderr goes quiet once its
  // weights are loaded; this stays its original stderr).
  std::FILE* errors = stderr;
};

// The communicator of ranks on devices (NCCL), made over the MPI world and self-tested; what
// fathom-run passes where it is built with NCCL.
using DeviceWorld =
    std::function<std::unique_ptr<comm::Communicator>(std::unique_ptr<comm::Communicator> mpi)>;

// Fills `ranks` (first of all, so that a failure after it knows which rank stays quiet); throws
// fathom::Error naming the artifact, its world size and the launch when they differ. Under
// mpirun a CUDA artifact's ranks talk over `deviceWorld` when given (NCCL), else over MPI.
void joinRanks(const std::string& artifactPath, Ranks& ranks,
               const DeviceWorld& deviceWorld = nullptr);

// After loading: a quiet rank's stderr (run summaries, warnings) goes to /dev/null, its
// failures still to `ranks.errors`.
void silenceAfterLoad(Ranks& ranks);

} // namespace fathom::run
