#pragma once
// What a request is and what it sends back: the GenerationRequest a handler hands the
// Scheduler, and the Stream the handler reads its pieces and its completion from, filled by the
// scheduler's worker thread.
#include "fathom/cpu/Sampling.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace fathom::serve {

struct TokenLogprob {
  std::string text;
  double logprob = 0;
};

// What one generated token adds to a response.
struct Piece {
  std::string text; // the text that became final with this token (may be empty)
  int64_t token = -1;
  double logprob = 0;
  std::string tokenText;         // this token alone, decoded
  std::vector<TokenLogprob> top; // the most likely tokens at this step, when asked for
};

struct Completion {
  std::string finishReason; // "stop", "length"; empty while running
  std::string error;        // set when the request failed while it ran
  bool overloaded = false;  // the error is the KV cache pool's (HTTP 503, not 500)
  int64_t promptTokens = 0, completionTokens = 0;
  int64_t cachedTokens = 0; // prompt tokens found in the prefix cache
};

struct GenerationRequest {
  std::vector<int64_t> prompt;
  int64_t maxTokens = 16;
  cpu::SamplingParams sampling;
  uint64_t seed = 0;
  std::vector<std::string> stops;
  int64_t topLogprobs = -1; // -1: no logprobs; else how many alternatives per token
  bool ignoreEos = false;   // generate past the end-of-sequence token (vLLM's ignore_eos)
  // Vision-language prompts: the prompt's images, preprocessed (channels-first pixel values,
  // image after image), and the token their embeddings replace.
  std::vector<float> pixelValues;
  int64_t imageTokenId = -1;
};

// The handler's side of one request: pieces as they come, then the completion.
class Stream {
public:
  // Waits for the next piece; false when the request has ended (see completion()).
  bool next(Piece& piece);
  // The same, waiting at most `timeout`: nullopt when nothing came in that time.
  std::optional<bool> next(Piece& piece, std::chrono::milliseconds timeout);
  const Completion& completion() const { return completion_; }
  void cancel() { cancelled_ = true; }
  bool cancelled() const { return cancelled_; }

private:
  friend class Scheduler;
  void push(Piece piece);
  void finish(Completion completion);

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Piece> pieces_;
  bool done_ = false;
  Completion completion_;
  std::atomic<bool> cancelled_{false};
};

} // namespace fathom::serve
