// The single-process world, and the self-test's own checks (the MPI world runs under mpirun:
// CommWorldCheck.cpp).
#include "fathom/comm/Communicator.h"

#include <gtest/gtest.h>

namespace fathom::comm {
namespace {

TEST(Communicator, SingleProcessCollectivesAreTheIdentity) {
  auto comm = singleProcess();
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->size(), 1);
  std::vector<float> data = {1.5f, -2.0f};
  comm->allReduceSum(data);
  EXPECT_EQ(data, (std::vector<float>{1.5f, -2.0f}));
  int value = 7, gathered = 0;
  comm->allGather(std::as_bytes(std::span(&value, 1)),
                  std::as_writable_bytes(std::span(&gathered, 1)));
  EXPECT_EQ(gathered, 7);
  EXPECT_THROW(comm->broadcast(std::as_writable_bytes(std::span(&value, 1)), 1), Error);
  EXPECT_NO_THROW(selfTest(*comm));
}

// A world whose all-reduce drops a rank's share: the self-test names the collective.
class BrokenSum final : public Communicator {
public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  std::string_view transport() const override { return "broken"; }
  void setTimeout(std::chrono::milliseconds) override {}
  void allReduceSum(std::span<float> data) override { data[0] += 0.0f; }
  void allGather(std::span<const std::byte>, std::span<std::byte>) override {}
  void broadcast(std::span<std::byte>, int) override {}
  void barrier() override {}
  [[noreturn]] void abortWorld(int) override { throw Error("abort"); }
};

TEST(Communicator, SelfTestNamesTheCollectiveThatFails) {
  BrokenSum broken;
  try {
    selfTest(broken);
    FAIL() << "a wrong all-reduce passed";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "communicator self-test: all-reduce gave 1.000000 and 1.000000, "
                               "expected 3.000000 and 1 (broken, rank 0 of 2)");
  }
}

TEST(Communicator, KnowsWhetherAnMpiLauncherStartedIt) {
  // ctest runs this binary directly, not under mpirun.
  EXPECT_FALSE(launchedByMpi());
}

} // namespace
} // namespace fathom::comm
