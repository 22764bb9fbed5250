#pragma once
// NCCL: the communicator of ranks that run on CUDA devices (issue 14), one device per rank.
// Built as fathom_comm_nccl where the CUDA toolkit ships NCCL (/usr/local/cuda); it includes no
// CUDA header, so its users need none.
//
// Every span its collectives take is CUDA device memory of this rank's device. Each collective
// is enqueued on the stream the executor set (the default stream until then) and waited for
// with the communicator's timeout; a rank that gives up aborts the NCCL communicator and asks
// the bootstrap world which peers are silent, so the CommError names them as MPI's does.
// NCCL's all-reduce sums in its own order (ring or tree): every rank holds the same bits, which
// may differ in the last bit from the MPI transport's rank-order sum.
#include "fathom/comm/Communicator.h"

#include <memory>

namespace fathom::comm {

class DeviceCommunicator : public Communicator {
public:
  // The CUDA device this rank runs on (cudaSetDevice was called with it).
  virtual int device() const = 0;
  // The cudaStream_t collectives are enqueued on and ordered with (nullptr: the default stream).
  virtual void setStream(void* cudaStream) = 0;
};

// The NCCL world over `bootstrap`'s ranks (the MPI world under mpirun, or singleProcess() for one
// rank): rank 0's ncclUniqueId travels by the bootstrap's broadcast, which then stays to tell
// silent peers apart. Each rank takes device `localRank % deviceCount`, its local rank from the
// launcher (OMPI_COMM_WORLD_LOCAL_RANK and the like) or else its world rank. Throws fathom::Error
// naming the reason when there is no usable CUDA device or NCCL cannot start, CommError when a
// peer does not join within the timeout.
std::unique_ptr<DeviceCommunicator> ncclWorld(std::unique_ptr<Communicator> bootstrap,
                                              const CommOptions& options = {});

// How many CUDA devices this process sees; throws fathom::Error with CUDA's reason when none.
int cudaDeviceCountOrThrow();

// selfTest()'s checks with the values staged through device memory of the rank's device: an
// all-reduce, an all-gather, a broadcast from rank 0 and a barrier.
void deviceSelfTest(DeviceCommunicator& comm);

} // namespace fathom::comm
