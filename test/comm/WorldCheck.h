#pragma once
// What the collective checks of every transport share (CommWorldCheck, NcclWorldCheck): each
// rank's data, which every rank can recompute, and the checks of what came back.
#include "fathom/comm/Communicator.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

inline std::vector<float> rankData(int rank, size_t count) {
  std::mt19937 random(uint32_t(1000 + rank));
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  std::vector<float> data(count);
  for (float& x : data)
    x = value(random);
  return data;
}

// True when a group all-gather of each rank's number gave ranks first .. first + group - 1.
inline bool gatheredRanksAre(const std::vector<int>& ranks, int first, int rank, int group) {
  for (int r = 0; r < group; ++r)
    if (ranks[size_t(r)] != first + r) {
      std::fprintf(stderr, "rank %d: all-gather over groups of %d: slot %d holds %d\n", rank, group,
                   r, ranks[size_t(r)]);
      return false;
    }
  return true;
}

// A rank that gave up on a stalled peer: prints the error, lets every waiting rank report, then
// ends the job with 3 when the error named exactly `stalledRank`, 4 otherwise.
inline void reportAndAbort(fathom::comm::Communicator& comm, const fathom::comm::CommError& error,
                           int stalledRank) {
  std::fprintf(stderr, "rank %d: %s\n", comm.rank(), error.what());
  std::fflush(stderr);
  const bool named = error.silentRanks() == std::vector<int>{stalledRank};
  std::this_thread::sleep_for(std::chrono::seconds(2));
  comm.abortWorld(named ? 3 : 4);
}
