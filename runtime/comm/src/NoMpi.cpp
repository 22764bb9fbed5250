// The build without MPI (FATHOM_ENABLE_MPI=OFF or no MPI found): one process only.
#include "fathom/comm/Communicator.h"

namespace fathom::comm {

bool haveMpi() {
  return false;
}

std::unique_ptr<Communicator> mpiWorld(const CommOptions&) {
  throw Error("this build has no MPI (configure with OpenMPI installed, FATHOM_ENABLE_MPI=ON) "
              "so it runs one rank only");
}

} // namespace fathom::comm
