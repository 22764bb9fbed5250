#pragma once
// fathom-run's ranks: under mpirun it joins MPI_COMM_WORLD, checks that the launch matches the
// ranks the artifact is compiled for (from its metadata, before a weight is read), runs the
// collective self-test, and keeps every rank but 0 quiet.
#include "fathom/comm/Communicator.h"

#include <cstdio>
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

// Fills `ranks` (first of all, so that a failure after it knows which rank stays quiet); throws
// fathom::Error naming the artifact, its world size and the launch when they differ.
void joinRanks(const std::string& artifactPath, Ranks& ranks);

// After loading: a quiet rank's stderr (run summaries, warnings) goes to /dev/null, its
// failures still to `ranks.errors`.
void silenceAfterLoad(Ranks& ranks);

} // namespace fathom::run
