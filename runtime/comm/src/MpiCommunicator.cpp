// MPI_COMM_WORLD through OpenMPI's non-blocking collectives, each waited for with a deadline.
// While a rank waits it answers its peers' pings on a second communicator, so a rank that gives
// up can tell which peers are gone (no answer) from those stuck beside it (they answer).
#include "fathom/comm/Communicator.h"

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <deque>
#include <map>
#include <string>
#include <thread>

namespace fathom::comm {
namespace {

constexpr int kPingTag = 1, kPongTag = 2;
// How long a rank that gave up waits for its peers to answer.
constexpr std::chrono::milliseconds kPingWindow{2000};

using Clock = std::chrono::steady_clock;

void check(int status, const char* what) {
  if (status != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(status, text, &length);
    throw Error(std::string("mpi: ") + what + " failed: " + std::string(text, size_t(length)));
  }
}

int countOf(size_t elements, const char* what) {
  if (elements > size_t(INT_MAX))
    throw Error(std::string(what) + ": " + std::to_string(elements) +
                " elements exceed MPI's int count");
  return int(elements);
}

class MpiWorld final : public Communicator {
public:
  explicit MpiWorld(const CommOptions& options) : options_(options) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      ownsMpi_ = true;
    }
    check(MPI_Comm_dup(MPI_COMM_WORLD, &data_), "MPI_Comm_dup");
    check(MPI_Comm_dup(MPI_COMM_WORLD, &control_), "MPI_Comm_dup");
    MPI_Comm_set_errhandler(data_, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(control_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(data_, &rank_);
    MPI_Comm_size(data_, &size_);
    splitGroups();
    postPingReceive();
  }

  ~MpiWorld() override {
    MPI_Cancel(&pingRequest_);
    MPI_Wait(&pingRequest_, MPI_STATUS_IGNORE);
    // Control messages to or from a peer that never answered stay pending; MPI may still write
    // their buffers (members, alive here) until it is finalized.
    for (MPI_Request& request : pongRequests_)
      if (request != MPI_REQUEST_NULL) {
        MPI_Cancel(&request);
        MPI_Request_free(&request);
      }
    for (Outgoing& send : outgoing_)
      if (send.request != MPI_REQUEST_NULL)
        MPI_Request_free(&send.request);
    for (auto& [ranks, comm] : groups_)
      MPI_Comm_free(&comm);
    MPI_Comm_free(&control_);
    MPI_Comm_free(&data_);
    if (ownsMpi_)
      MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string_view transport() const override { return "mpi"; }
  void setTimeout(std::chrono::milliseconds timeout) override { options_.timeout = timeout; }

  void allReduceSum(std::span<float> data) override { sumOver(data, data_, size_); }

  void groupAllReduceSum(std::span<float> data, int group) override {
    checkGroup(*this, group, "all-reduce");
    if (group > 1)
      sumOver(data, groupComm(group), group);
  }

  void groupAllGather(std::span<const std::byte> send, std::span<std::byte> recv,
                      int group) override {
    checkGroup(*this, group, "all-gather");
    gatherOver(send, recv, group == 1 ? MPI_COMM_SELF : groupComm(group), group);
  }

  void allGather(std::span<const std::byte> send, std::span<std::byte> recv) override {
    gatherOver(send, recv, data_, size_);
  }

  void broadcast(std::span<std::byte> data, int root) override {
    if (root < 0 || root >= size_)
      throw Error("broadcast: root " + std::to_string(root) + " outside a world of " +
                  std::to_string(size_));
    MPI_Request request;
    check(
        MPI_Ibcast(data.data(), countOf(data.size(), "broadcast"), MPI_BYTE, root, data_, &request),
        "MPI_Ibcast");
    wait(request, "broadcast");
  }

  void barrier() override {
    MPI_Request request;
    check(MPI_Ibarrier(data_, &request), "MPI_Ibarrier");
    wait(request, "barrier");
  }

  [[noreturn]] void abortWorld(int exitCode) override {
    MPI_Abort(MPI_COMM_WORLD, exitCode);
    std::_Exit(exitCode); // MPI_Abort does not return; this keeps [[noreturn]] honest
  }

  void answerPeers() override { answerPings(); }
  std::vector<int> silentRanks() override { return silentPeers(); }

private:
  // Gathered, then summed in rank order here: every rank of `comm` gets the same bits, whatever
  // order MPI's own reduction would take.
  void sumOver(std::span<float> data, MPI_Comm comm, int ranks) {
    gathered_.resize(data.size() * size_t(ranks));
    const int count = countOf(data.size(), "all-reduce");
    MPI_Request request;
    check(MPI_Iallgather(data.data(), count, MPI_FLOAT, gathered_.data(), count, MPI_FLOAT, comm,
                         &request),
          "MPI_Iallgather");
    wait(request, "all-reduce");
    for (size_t i = 0; i < data.size(); ++i) {
      float sum = gathered_[i];
      for (int r = 1; r < ranks; ++r)
        sum += gathered_[size_t(r) * data.size() + i];
      data[i] = sum;
    }
  }

  void gatherOver(std::span<const std::byte> send, std::span<std::byte> recv, MPI_Comm comm,
                  int ranks) {
    checkGatherSizes(send.size(), recv.size(), ranks);
    const int count = countOf(send.size(), "all-gather");
    MPI_Request request;
    check(
        MPI_Iallgather(send.data(), count, MPI_BYTE, recv.data(), count, MPI_BYTE, comm, &request),
        "MPI_Iallgather");
    wait(request, "all-gather");
  }

  // One communicator per group size that divides the world (rank / group its colour), made at
  // start-up: MPI_Comm_split blocks, and there every rank is still there to join it, while a
  // split at a group's first collective could hang on a dead peer past any timeout. A world has
  // few divisors (128 ranks: 6 besides 1 and itself).
  void splitGroups() {
    for (int group = 2; group < size_; ++group) {
      if (size_ % group != 0)
        continue;
      MPI_Comm comm = MPI_COMM_NULL;
      check(MPI_Comm_split(data_, rank_ / group, rank_ % group, &comm), "MPI_Comm_split");
      MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
      groups_[group] = comm;
    }
  }

  MPI_Comm groupComm(int group) const { return group == size_ ? data_ : groups_.at(group); }

  void postPingReceive() {
    check(MPI_Irecv(&pingIn_, 1, MPI_INT, MPI_ANY_SOURCE, kPingTag, control_, &pingRequest_),
          "MPI_Irecv");
  }

  // A control message whose buffer lives until MPI is done with it (outgoing_ is a deque, so
  // earlier entries keep their addresses).
  void sendControl(int value, int peer, int tag) {
    outgoing_.push_back({value, MPI_REQUEST_NULL});
    MPI_Isend(&outgoing_.back().value, 1, MPI_INT, peer, tag, control_, &outgoing_.back().request);
    while (!outgoing_.empty()) { // drop the ones that have gone, oldest first
      int done = 0;
      MPI_Test(&outgoing_.front().request, &done, MPI_STATUS_IGNORE);
      if (!done)
        break;
      outgoing_.pop_front();
    }
  }

  // Answers every ping that has arrived (the payload goes back, so the pinger can match it).
  void answerPings() {
    for (;;) {
      int arrived = 0;
      MPI_Status status;
      MPI_Test(&pingRequest_, &arrived, &status);
      if (!arrived)
        return;
      sendControl(pingIn_, status.MPI_SOURCE, kPongTag);
      postPingReceive();
    }
  }

  // Pings every peer and returns those that do not answer within the ping window.
  std::vector<int> silentPeers() {
    const int round = ++pingRound_;
    pongRequests_.resize(size_t(size_), MPI_REQUEST_NULL);
    pongIn_.resize(size_t(size_), 0);
    auto listen = [&](int peer) {
      MPI_Irecv(&pongIn_[size_t(peer)], 1, MPI_INT, peer, kPongTag, control_,
                &pongRequests_[size_t(peer)]);
    };
    for (int peer = 0; peer < size_; ++peer) {
      if (peer == rank_)
        continue;
      sendControl(round, peer, kPingTag);
      if (pongRequests_[size_t(peer)] == MPI_REQUEST_NULL) // else still listening from before
        listen(peer);
    }
    const Clock::time_point deadline = Clock::now() + kPingWindow;
    std::vector<bool> answered(size_t(size_), false);
    answered[size_t(rank_)] = true;
    while (Clock::now() < deadline &&
           std::find(answered.begin(), answered.end(), false) != answered.end()) {
      answerPings();
      for (int peer = 0; peer < size_; ++peer) {
        if (answered[size_t(peer)])
          continue;
        int done = 0;
        MPI_Test(&pongRequests_[size_t(peer)], &done, MPI_STATUS_IGNORE);
        if (done && pongIn_[size_t(peer)] == round)
          answered[size_t(peer)] = true;
        else if (done) // a late answer to an earlier round: listen again
          listen(peer);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::vector<int> silent; // their receives stay posted: a late answer lands in pongIn_
    for (int peer = 0; peer < size_; ++peer)
      if (!answered[size_t(peer)])
        silent.push_back(peer);
    return silent;
  }

  void wait(MPI_Request& request, const char* collective) {
    const Clock::time_point start = Clock::now(), deadline = start + options_.timeout;
    for (int polls = 0;; ++polls) {
      int done = 0;
      check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), collective);
      if (done)
        return;
      answerPings();
      if (Clock::now() >= deadline)
        break;
      if (polls > 1000)
        std::this_thread::sleep_for(std::chrono::microseconds(polls > 100000 ? 1000 : 50));
    }
    std::vector<int> silent = silentPeers();
    const double waited = std::chrono::duration<double>(Clock::now() - start).count();
    const std::string message = timeoutMessage(collective, *this, waited, silent);
    throw CommError(message, silent);
  }

  CommOptions options_;
  bool ownsMpi_ = false;
  MPI_Comm data_ = MPI_COMM_NULL, control_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  int pingIn_ = 0, pingRound_ = 0;
  MPI_Request pingRequest_ = MPI_REQUEST_NULL;
  std::vector<MPI_Request> pongRequests_; // per peer, MPI_REQUEST_NULL when not listening
  std::vector<int> pongIn_;
  struct Outgoing {
    int value;
    MPI_Request request;
  };
  std::deque<Outgoing> outgoing_;
  std::vector<float> gathered_;
  std::map<int, MPI_Comm> groups_; // group size -> this rank's group
};

} // namespace

bool haveMpi() {
  return true;
}

std::unique_ptr<Communicator> mpiWorld(const CommOptions& options) {
  return std::make_unique<MpiWorld>(options);
}

} // namespace fathom::comm
