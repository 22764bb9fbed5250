#include "Ranks.h"

#include "Artifact_generated.h"
#include "fathom/artifact/Artifact.h"
#include "fathom/runtime/Error.h"

#include <cstdio>
#include <unistd.h>

namespace fathom::run {

namespace {
std::string ranksWord(int64_t n) {
  return std::to_string(n) + (n == 1 ? " rank" : " ranks");
}
} // namespace

void joinRanks(const std::string& artifactPath, Ranks& ranks, const DeviceWorld& deviceWorld) {
  int64_t worldSize = 0;
  bool onCuda = false;
  {
    auto file = artifact::Artifact::open(artifactPath, artifact::Artifact::Verify::MetadataOnly);
    worldSize = int64_t(file->metadata().world_size());
    onCuda = file->metadata().target() && file->metadata().target()->str() == "cuda";
  }
  if (!comm::launchedByMpi()) {
    if (worldSize != 1)
      throw Error(artifactPath + ": compiled for " + ranksWord(worldSize) +
                  "; launch it with mpirun -np " + std::to_string(worldSize) + " fathom-run ...");
    ranks.comm = comm::singleProcess();
    return;
  }
  ranks.comm = comm::mpiWorld();
  const int size = ranks.comm->size(), rank = ranks.comm->rank();
  ranks.quiet = rank != 0;
  if (size != worldSize)
    throw Error(artifactPath + ": compiled for " + ranksWord(worldSize) + " but mpirun started " +
                ranksWord(size) + " (launch it with mpirun -np " + std::to_string(worldSize) +
                ", or compile it for " + ranksWord(size) + ")");
  if (onCuda && deviceWorld)
    ranks.comm = deviceWorld(std::move(ranks.comm)); // its own self-test, through device memory
  else
    comm::selfTest(*ranks.comm);
  if (rank == 0)
    std::fprintf(stderr, "fathom-run: %s (%s), collective self-test passed\n",
                 ranksWord(size).c_str(), std::string(ranks.comm->transport()).c_str());
}

void silenceAfterLoad(Ranks& ranks) {
  if (!ranks.quiet)
    return;
  std::fflush(stderr);
  int original = dup(STDERR_FILENO);
  if (original >= 0)
    if (std::FILE* errors = fdopen(original, "w"))
      ranks.errors = errors;
  if (!std::freopen("/dev/null", "w", stderr))
    throw Error("cannot silence the stderr of rank " + std::to_string(ranks.comm->rank()));
}

} // namespace fathom::run
