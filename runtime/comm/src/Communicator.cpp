#include "fathom/comm/Communicator.h"

#include <cstdlib>
#include <cstring>
#include <numeric>
#include <string>

namespace fathom::comm {
namespace {

class SingleProcess final : public Communicator {
public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string_view transport() const override { return "single"; }
  void setTimeout(std::chrono::milliseconds) override {}
  void allReduceSum(std::span<float>) override {}
  void allGather(std::span<const std::byte> send, std::span<std::byte> recv) override {
    checkGatherSizes(send.size(), recv.size(), 1);
    std::memcpy(recv.data(), send.data(), send.size());
  }
  void broadcast(std::span<std::byte>, int root) override {
    if (root != 0)
      throw Error("broadcast: root " + std::to_string(root) + " outside a world of 1");
  }
  void barrier() override {}
  [[noreturn]] void abortWorld(int exitCode) override { std::exit(exitCode); }
};

} // namespace

std::unique_ptr<Communicator> singleProcess() {
  return std::make_unique<SingleProcess>();
}

bool launchedByMpi() {
  for (const char* variable : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(variable))
      return true;
  return false;
}

void checkGroup(const Communicator& comm, int group, const char* collective) {
  if (group < 1 || comm.size() % group != 0)
    throw Error(std::string(collective) + ": a group of " + std::to_string(group) +
                " ranks does not divide a world of " + std::to_string(comm.size()));
}

void checkGatherSizes(size_t sendBytes, size_t recvBytes, int ranks) {
  if (recvBytes != sendBytes * size_t(ranks))
    throw Error("all-gather: " + std::to_string(ranks) + " ranks of " + std::to_string(sendBytes) +
                " bytes need recv of " + std::to_string(sendBytes * size_t(ranks)) +
                " bytes, got " + std::to_string(recvBytes));
}

std::string timeoutMessage(std::string_view collective, const Communicator& comm,
                           double waitedSeconds, const std::vector<int>& silentRanks) {
  std::string message = std::string(collective) + ": rank " + std::to_string(comm.rank()) + " of " +
                        std::to_string(comm.size()) + " waited " +
                        std::to_string(int(waitedSeconds)) + " s; ";
  if (silentRanks.empty())
    return message + "every rank answered, so they wait in different collectives (ranks "
                     "running different programs?)";
  message += silentRanks.size() == 1 ? "rank " : "ranks ";
  for (size_t i = 0; i < silentRanks.size(); ++i)
    message += (i ? ", " : "") + std::to_string(silentRanks[i]);
  return message + (silentRanks.size() == 1 ? " did not answer (it died or stalled)"
                                            : " did not answer (they died or stalled)");
}

void Communicator::groupAllReduceSum(std::span<float> data, int group) {
  checkGroup(*this, group, "all-reduce");
  if (group == size())
    return allReduceSum(data);
  if (group == 1)
    return;
  const size_t bytes = data.size_bytes();
  gathered_.resize(bytes * size_t(size()));
  allGather(std::as_bytes(data), gathered_);
  const auto* all = reinterpret_cast<const float*>(gathered_.data());
  const size_t first = size_t(rank() - rank() % group);
  // Rank order within the group, as allReduceSum sums the world.
  for (size_t i = 0; i < data.size(); ++i) {
    float sum = all[first * data.size() + i];
    for (size_t r = first + 1; r < first + size_t(group); ++r)
      sum += all[r * data.size() + i];
    data[i] = sum;
  }
}

void Communicator::groupAllGather(std::span<const std::byte> send, std::span<std::byte> recv,
                                  int group) {
  checkGroup(*this, group, "all-gather");
  checkGatherSizes(send.size(), recv.size(), group);
  if (group == size())
    return allGather(send, recv);
  gathered_.resize(send.size() * size_t(size()));
  allGather(send, gathered_);
  const size_t first = size_t(rank() - rank() % group);
  std::memcpy(recv.data(), gathered_.data() + first * send.size(), recv.size());
}

void selfTest(Communicator& comm) {
  const int n = comm.size(), rank = comm.rank();
  const std::string world = " (" + std::string(comm.transport()) + ", rank " +
                            std::to_string(rank) + " of " + std::to_string(n) + ")";
  std::vector<float> sum = {float(1 + rank), float(rank == 0)};
  comm.allReduceSum(sum);
  const float expected = float(n) * float(n + 1) / 2;
  if (sum[0] != expected || sum[1] != 1.0f)
    throw Error("communicator self-test: all-reduce gave " + std::to_string(sum[0]) + " and " +
                std::to_string(sum[1]) + ", expected " + std::to_string(expected) + " and 1" +
                world);
  std::vector<int> ranks(size_t(n), -1);
  comm.allGather(std::as_bytes(std::span(&rank, 1)), std::as_writable_bytes(std::span(ranks)));
  for (int r = 0; r < n; ++r)
    if (ranks[size_t(r)] != r)
      throw Error("communicator self-test: all-gather slot " + std::to_string(r) + " holds " +
                  std::to_string(ranks[size_t(r)]) + world);
  int root = rank == 0 ? 12345 : -1;
  comm.broadcast(std::as_writable_bytes(std::span(&root, 1)), 0);
  if (root != 12345)
    throw Error("communicator self-test: broadcast from rank 0 gave " + std::to_string(root) +
                world);
  comm.barrier();
}

} // namespace fathom::comm
