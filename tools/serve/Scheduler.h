#pragma once
// Continuous batching over one Model. One worker thread owns the model; requests queue up and
// are admitted into the running batch as sequences finish, up to the compiled max batch. Each
// turn of the loop prefills one chunk of one newcomer's prompt and runs one decode step for
// every running sequence, so running sequences keep streaming while a long prompt is read.
// A request's events (text pieces, then the end) reach its HTTP handler through its Stream;
// cancelling a stream (the client went away) frees its KV blocks at the next turn. A finished
// request's sequence stays cached (up to Options::cachedSequences, evicted oldest first whenever
// the pool runs short), so a request that starts with its tokens (the next turn of a chat, which
// OpenAI's API resends whole) prefills only the rest.
#include "Metrics.h"
#include "Stream.h"

#include "fathom/cpu/Sampling.h"
#include "fathom/executor/Model.h"
#include "fathom/tokenizer/Tokenizer.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace fathom::serve {

class Scheduler {
public:
  struct Options {
    int64_t maxWaiting = 64;      // queued requests past this are refused (HTTP 429)
    int64_t prefillChunk = 64;    // prompt tokens per prefill step
    int64_t cachedSequences = 16; // finished sequences kept for their prefixes (0: none)
  };
  Scheduler(executor::Model& model, const tokenizer::Tokenizer& tokenizer,
            std::vector<int64_t> eosTokenIds, Metrics& metrics, Options options);
  ~Scheduler();

  // Queues a request; null when the queue is full.
  std::shared_ptr<Stream> submit(GenerationRequest request);
  // Stops the worker; running requests end with an error.
  void stop();

private:
  struct Active;
  void run();
  void admit();
  void prefillOne();
  void decodeRunning();
  // Samples the next token of a sequence from its logits row (with `draw` where it was made
  // already, else from the request's generator), streams it, and says whether the sequence has
  // finished.
  bool emit(Active& active, const float* logits, std::optional<double> draw = std::nullopt);
  // Streams a token chosen already (with its logprobs when the request asks for them).
  bool emitToken(Active& active, int64_t token, const std::vector<double>& logprobs);
  void finish(Active& active, const std::string& reason, const std::string& error = {},
              bool overloaded = false);
  // finish(), then out of the running batch.
  void retire(Active& active, const std::string& reason, const std::string& error = {},
              bool overloaded = false);
  void publishGauges();
  // Closes the oldest cached sequence; false when there is none.
  bool evictCached();

  executor::Model& model_;
  const tokenizer::Tokenizer& tokenizer_;
  std::vector<int64_t> eos_;
  Metrics& metrics_;
  Options options_;
  int64_t vocab_ = 0;
  cpu::ScratchBuffer scratch_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Active>> waiting_; // guarded by mutex_
  bool stopping_ = false;                       // guarded by mutex_
  std::vector<std::unique_ptr<Active>> active_; // the worker's: prefilling, then decoding
  struct Cached {
    executor::SequenceId sequence;
    std::vector<int64_t> tokens; // what its cache holds
  };
  std::deque<Cached> cached_; // the worker's, oldest first
  std::thread worker_;
};

} // namespace fathom::serve
