// Run under mpirun by ctest (test/CMakeLists.txt). Modes:
//   collectives: the self-test, then all-reduces of rank-seeded data whose sum every rank
//                recomputes in rank order (bit-equal), an all-gather and broadcasts from every
//                root; prints "collectives ok (N ranks)" on rank 0.
//   stall:       the last rank sleeps through a collective; every other rank must give up after
//                the 1 s timeout naming it ("rank K did not answer"), then ends the world.
#include "WorldCheck.h"
#include "fathom/comm/Communicator.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

namespace {

using fathom::comm::Communicator;

int collectives(Communicator& comm) {
  fathom::comm::selfTest(comm);
  const int n = comm.size();
  for (size_t count : {size_t(1), size_t(1000), size_t(70000)}) {
    std::vector<float> data = rankData(comm.rank(), count);
    comm.allReduceSum(data);
    for (size_t i = 0; i < count; ++i) {
      float sum = rankData(0, count)[i];
      for (int r = 1; r < n; ++r)
        sum += rankData(r, count)[i];
      if (std::memcmp(&sum, &data[i], sizeof sum) != 0) {
        std::fprintf(stderr, "rank %d: all-reduce of %zu: element %zu is %.9g, expected %.9g\n",
                     comm.rank(), count, i, double(data[i]), double(sum));
        return 1;
      }
      if (count > 1000 && i > 64)
        break; // the recomputation is quadratic; the head of the long buffer is enough
    }
  }
  for (int root = 0; root < n; ++root) {
    std::vector<int> value(3, comm.rank() == root ? 100 + root : -1);
    comm.broadcast(std::as_writable_bytes(std::span(value)), root);
    if (value[2] != 100 + root) {
      std::fprintf(stderr, "rank %d: broadcast from %d gave %d\n", comm.rank(), root, value[2]);
      return 1;
    }
  }
  // Groups of consecutive ranks (a sharded artifact's tp or ep groups): each sums and gathers
  // only its own ranks, in rank order.
  for (int group = 1; group <= n; ++group) {
    if (n % group != 0)
      continue;
    const int first = comm.rank() - comm.rank() % group;
    std::vector<float> data = rankData(comm.rank(), 100);
    comm.groupAllReduceSum(data, group);
    for (size_t i = 0; i < data.size(); ++i) {
      float sum = rankData(first, 100)[i];
      for (int r = first + 1; r < first + group; ++r)
        sum += rankData(r, 100)[i];
      if (std::memcmp(&sum, &data[i], sizeof sum) != 0) {
        std::fprintf(stderr,
                     "rank %d: all-reduce over groups of %d: element %zu is %.9g, "
                     "expected %.9g\n",
                     comm.rank(), group, i, double(data[i]), double(sum));
        return 1;
      }
    }
    const int rank = comm.rank();
    std::vector<int> ranks(size_t(group), -1);
    comm.groupAllGather(std::as_bytes(std::span(&rank, 1)),
                        std::as_writable_bytes(std::span(ranks)), group);
    if (!gatheredRanksAre(ranks, first, rank, group))
      return 1;
  }
  if (comm.rank() == 0)
    std::printf("collectives ok (%d ranks, %s)\n", n, std::string(comm.transport()).c_str());
  return 0;
}

int stall(Communicator& comm) {
  const int last = comm.size() - 1;
  if (comm.rank() == last) {
    std::this_thread::sleep_for(std::chrono::seconds(8)); // never joins the all-reduce
    return 0;
  }
  std::vector<float> data(4, 1.0f);
  try {
    comm.allReduceSum(data);
  } catch (const fathom::comm::CommError& error) {
    reportAndAbort(comm, error, last);
  }
  std::fprintf(stderr, "rank %d: the all-reduce finished without rank %d\n", comm.rank(), last);
  return 1;
}

// Groups of 2 in a world of 4, the last rank stalled: its group peer must name it, and the
// other group's collective must finish without it (it runs on its own communicator).
int groupStall(Communicator& comm) {
  const int last = comm.size() - 1, group = 2;
  if (comm.rank() == last) {
    std::this_thread::sleep_for(std::chrono::seconds(8)); // never joins its group's all-reduce
    return 0;
  }
  std::vector<float> data(4, 1.0f);
  try {
    comm.groupAllReduceSum(data, group);
  } catch (const fathom::comm::CommError& error) {
    if (comm.rank() / group != last / group)
      std::fprintf(stderr, "rank %d: its group waited on rank %d outside it\n", comm.rank(), last);
    reportAndAbort(comm, error, last);
  }
  if (comm.rank() / group == last / group) {
    std::fprintf(stderr, "rank %d: the all-reduce finished without rank %d\n", comm.rank(), last);
    return 1;
  }
  std::fprintf(stderr, "rank %d: its group's all-reduce gave %g\n", comm.rank(), double(data[0]));
  try { // waits, answering pings as a live rank does, until the stalled group's abort
    comm.barrier();
  } catch (const fathom::comm::CommError& error) {
    std::fprintf(stderr, "rank %d: %s\n", comm.rank(), error.what());
    std::this_thread::sleep_for(std::chrono::seconds(10));
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "collectives";
  try {
    fathom::comm::CommOptions options;
    options.timeout = std::chrono::seconds(mode == "collectives" ? 30 : 1);
    auto comm = fathom::comm::mpiWorld(options);
    if (mode == "group-stall")
      return groupStall(*comm);
    return mode == "stall" ? stall(*comm) : collectives(*comm);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
}
