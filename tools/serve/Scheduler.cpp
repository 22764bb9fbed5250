#include "Scheduler.h"

#include "run/TextStream.h"

#include "fathom/runtime/Error.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

namespace fathom::serve {
namespace {
using Clock = std::chrono::steady_clock;

double secondsBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

} // namespace

struct Scheduler::Active {
  GenerationRequest request;
  std::shared_ptr<Stream> stream;
  std::vector<int64_t> original; // the prompt as asked (request.prompt grows when preempted)
  int64_t cachedTokens = 0;      // of the prompt, found in the prefix cache
  std::vector<float> imageRows;  // encode_image's rows for the prompt's image tokens, in order
  int64_t imageRowWidth = 0;
  executor::SequenceId sequence = -1;
  int64_t prefilled = 0; // tokens of request.prompt in the cache
  bool decoding = false; // the prompt is in; lastToken is next
  int64_t lastToken = -1;
  std::vector<int64_t> generated; // every token sampled so far
  std::string finishReason;       // set by emit() when the request is done
  cpu::SamplingRng rng;
  run::TextStream text;
  Clock::time_point arrived, lastTokenAt;

  Active(GenerationRequest r, const tokenizer::Tokenizer& tokenizer)
      : request(std::move(r)), stream(std::make_shared<Stream>()), original(request.prompt),
        rng(request.seed), text(tokenizer, request.stops), arrived(Clock::now()) {}
};

Scheduler::Scheduler(executor::Model& model, const tokenizer::Tokenizer& tokenizer,
                     std::vector<int64_t> eosTokenIds, Metrics& metrics, Options options)
    : model_(model), tokenizer_(tokenizer), eos_(std::move(eosTokenIds)), metrics_(metrics),
      options_(options), vocab_(model.outputWidth()),
      scratch_(cpu::samplingScratchBytes(model.outputWidth())) {
  publishGauges();
  worker_ = std::thread([this] { run(); });
}

Scheduler::~Scheduler() {
  stop();
}

void Scheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable())
    worker_.join();
}

std::shared_ptr<Stream> Scheduler::submit(GenerationRequest request) {
  auto active = std::make_unique<Active>(std::move(request), tokenizer_);
  std::shared_ptr<Stream> stream = active->stream;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || int64_t(waiting_.size()) >= options_.maxWaiting)
      return nullptr;
    waiting_.push_back(std::move(active));
  }
  wake_.notify_all();
  return stream;
}

void Scheduler::run() {
  while (true) {
    {
      std::unique_lock lock(mutex_);
      // Idle until there is work; a running batch polls so cancellations land promptly.
      wake_.wait(lock, [&] { return stopping_ || !waiting_.empty() || !active_.empty(); });
      if (stopping_)
        break;
    }
    try {
      admit();
      prefillOne();
      decodeRunning();
    } catch (const std::exception& error) {
      // A failure of the step itself (not of one request's input): every running request ends.
      while (!active_.empty())
        retire(*active_.back(), "", error.what());
    }
    publishGauges();
  }
  std::lock_guard lock(mutex_);
  for (auto& active : active_)
    finish(*active, "", "the server is shutting down");
  active_.clear();
  while (evictCached()) {
  }
  for (auto& waiting : waiting_)
    waiting->stream->finish({"", "the server is shutting down", false, 0, 0});
  waiting_.clear();
}

void Scheduler::admit() {
  // Requests whose client went away end here, their blocks freed before anything else runs.
  for (size_t i = 0; i < active_.size();) {
    if (active_[i]->stream->cancelled()) {
      retire(*active_[i], "cancelled");
    } else {
      ++i;
    }
  }
  // Taken off the queue under the lock, prepared (images encoded) after it, so that handlers
  // queueing requests never wait for the model.
  std::vector<std::unique_ptr<Active>> admitted;
  {
    std::lock_guard lock(mutex_);
    while (!waiting_.empty() && int64_t(active_.size() + admitted.size()) < model_.maxBatch()) {
      admitted.push_back(std::move(waiting_.front()));
      waiting_.pop_front();
    }
  }
  for (std::unique_ptr<Active>& next : admitted) {
    if (next->stream->cancelled()) {
      next->stream->finish({"cancelled", "", false, int64_t(next->original.size()), 0});
      metrics_.countRequest("cancelled");
      continue;
    }
    if (!next->request.pixelValues.empty()) {
      // Images are encoded once, here, on the thread that owns the model.
      try {
        next->imageRows = model_.encodeImages(next->request.pixelValues);
        const int64_t images =
            int64_t(next->request.pixelValues.size()) / model_.pixelValuesPerImage();
        next->imageRowWidth = int64_t(next->imageRows.size()) / (images * model_.imageTokens());
      } catch (const Error& error) {
        next->stream->finish({"", error.what(), false, int64_t(next->original.size()), 0});
        metrics_.countRequest("failed");
        continue;
      }
    }
    // The cached sequence sharing the longest prefix with the prompt (at least its last token
    // is read again, for its logits). Image tokens end a match: the same ids may stand for
    // other pixels.
    size_t best = 0, bestLength = 0;
    for (size_t c = 0; c < cached_.size(); ++c) {
      const std::vector<int64_t>& tokens = cached_[c].tokens;
      size_t length = 0;
      while (length < tokens.size() && length + 1 < next->request.prompt.size() &&
             tokens[length] == next->request.prompt[length] &&
             tokens[length] != next->request.imageTokenId)
        ++length;
      if (length > bestLength)
        best = c, bestLength = length;
    }
    if (bestLength > 0) {
      next->sequence = cached_[best].sequence;
      cached_.erase(cached_.begin() + std::ptrdiff_t(best));
      model_.truncateSequence(next->sequence, int64_t(bestLength));
      next->prefilled = next->cachedTokens = int64_t(bestLength);
      metrics_.countCachedTokens(int64_t(bestLength));
    } else {
      next->sequence = model_.openSequence();
    }
    active_.push_back(std::move(next));
  }
}

void Scheduler::prefillOne() {
  // One newcomer at a time holds blocks while its prompt is read, so two half-read prompts
  // never wait on each other for the pool.
  auto found = std::find_if(active_.begin(), active_.end(),
                            [](const auto& active) { return !active->decoding; });
  if (found == active_.end())
    return;
  Active& active = **found;
  const int64_t length = int64_t(active.request.prompt.size());
  const int64_t chunk = std::min(options_.prefillChunk, length - active.prefilled);
  executor::TokenBatch rows{1, chunk, {}, {}, std::vector<uint8_t>(size_t(chunk), 1)};
  for (int64_t t = 0; t < chunk; ++t) {
    rows.ids.push_back(active.request.prompt[size_t(active.prefilled + t)]);
    rows.positions.push_back(active.prefilled + t);
  }
  // The rows of the image tokens this chunk holds, in order.
  std::vector<float> imageRows;
  if (!active.imageRows.empty()) {
    // Only the prompt as asked has images (a generated image token id is text).
    const auto& prompt = active.request.prompt;
    const int64_t id = active.request.imageTokenId, asked = int64_t(active.original.size());
    auto count = [&](int64_t from, int64_t to) {
      return std::count(prompt.begin() + std::min(from, asked),
                        prompt.begin() + std::min(to, asked), id);
    };
    const int64_t before = count(0, active.prefilled);
    const int64_t inChunk = count(active.prefilled, active.prefilled + chunk);
    imageRows.assign(active.imageRows.begin() + before * active.imageRowWidth,
                     active.imageRows.begin() + (before + inChunk) * active.imageRowWidth);
  }
  std::vector<float> logits;
  try {
    logits = model_.step({active.sequence}, rows, false, imageRows);
  } catch (const executor::CacheExhausted&) {
    if (evictCached())
      return; // read again next turn
    const bool othersHoldBlocks = std::any_of(active_.begin(), active_.end(), [&](const auto& a) {
      return a.get() != &active && a->decoding;
    });
    if (othersHoldBlocks)
      return; // it waits for a running sequence to finish
    retire(active, "",
           "the prompt of " + std::to_string(length) + " tokens needs more KV cache than the " +
               std::to_string(model_.cacheBlocks() * model_.blockTokens()) +
               "-token pool holds (start fathom-serve with a larger --kv-cache-tokens)",
           /*overloaded=*/true);
    return;
  } catch (const Error& error) {
    retire(active, "", error.what());
    return;
  }
  active.prefilled += chunk;
  if (active.prefilled < length)
    return;
  active.decoding = true;
  if (emit(active, logits.data())) {
    retire(active, active.finishReason);
  }
}

void Scheduler::decodeRunning() {
  while (true) {
    std::vector<Active*> running;
    for (auto& active : active_)
      if (active->decoding)
        running.push_back(active.get());
    if (running.empty())
      return;
    std::vector<executor::SequenceId> sequences;
    executor::TokenBatch rows{
        int64_t(running.size()), 1, {}, {}, std::vector<uint8_t>(running.size(), 1)};
    for (Active* active : running) {
      sequences.push_back(active->sequence);
      rows.ids.push_back(active->lastToken);
      rows.positions.push_back(model_.sequenceLength(active->sequence));
    }
    // When no request wants logprobs and all choose alike, the device may choose the tokens
    // (one id per sequence back instead of its logits). The draws come from copies of the
    // requests' generators, kept only once the step has run, so a step that is retried draws
    // again from the same state.
    const bool chooseOnDevice = std::all_of(running.begin(), running.end(), [&](Active* a) {
      const backend::TokenChoice& c = a->request.sampling;
      const backend::TokenChoice& first = running.front()->request.sampling;
      return a->request.topLogprobs < 0 && c.doSample == first.doSample &&
             c.temperature == first.temperature && c.topK == first.topK && c.topP == first.topP &&
             c.minTokensToKeep == first.minTokensToKeep;
    });
    std::vector<cpu::SamplingRng> generators;
    std::vector<double> draws;
    if (chooseOnDevice)
      for (Active* active : running) {
        generators.push_back(active->rng);
        draws.push_back(active->request.sampling.doSample ? generators.back().nextUniform() : 0.0);
      }
    executor::Model::Chosen chosen;
    try {
      if (chooseOnDevice)
        chosen = model_.stepChoosing(sequences, rows, running.front()->request.sampling, draws);
      else
        chosen.logits = model_.step(sequences, rows);
    } catch (const executor::CacheExhausted&) {
      // Blocks go back from a newcomer whose prompt is half read, else from the youngest running
      // sequence, which is read again, generated tokens included, once there is room (vLLM's
      // recompute preemption). A sequence alone that outgrows the pool ends. Cached sequences
      // go first of all.
      if (evictCached())
        continue;
      Active* victim = nullptr;
      for (auto& candidate : active_)
        if (!candidate->decoding && model_.sequenceLength(candidate->sequence) > 0) {
          victim = candidate.get();
          break;
        }
      if (!victim && running.size() > 1)
        victim = running.back();
      if (!victim) {
        Active& alone = *running.front();
        retire(alone, "",
               "the request needs more KV cache than the pool holds (start fathom-serve with a "
               "larger --kv-cache-tokens)",
               /*overloaded=*/true);
        continue;
      }
      if (victim->decoding) {
        victim->request.prompt = victim->original;
        victim->request.prompt.insert(victim->request.prompt.end(), victim->generated.begin(),
                                      victim->generated.end());
      }
      model_.truncateSequence(victim->sequence, 0);
      victim->prefilled = 0;
      victim->decoding = false;
      metrics_.countPreemption();
      continue;
    }
    for (size_t b = 0; b < running.size(); ++b) {
      Active& active = *running[b];
      bool finished;
      if (chosen.onDevice) {
        active.rng = generators[b];
        if (chosen.tokens[b].nonFinite >= 0)
          throw Error("the logits hold NaN or +inf: the model's arithmetic overflowed");
        finished = emitToken(active, chosen.tokens[b].token, {});
      } else if (chooseOnDevice) { // declined: the host chooses with the same draws
        active.rng = generators[b];
        finished = emit(active, chosen.logits.data() + b * size_t(vocab_), draws[b]);
      } else {
        finished = emit(active, chosen.logits.data() + b * size_t(vocab_));
      }
      if (finished) {
        retire(active, active.finishReason);
      }
    }
    return;
  }
}

bool Scheduler::emit(Active& active, const float* row, std::optional<double> draw) {
  std::vector<float> logits(row, row + vocab_);
  for (float value : logits)
    if (std::isnan(value) || value == INFINITY)
      throw Error("the logits hold NaN or +inf: the model's arithmetic overflowed");
  std::vector<double> logprobs;
  if (active.request.topLogprobs >= 0) {
    const float top = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (float value : logits)
      sum += std::exp(double(value) - double(top));
    const double logSum = std::log(sum) + double(top);
    logprobs.resize(logits.size());
    for (size_t i = 0; i < logits.size(); ++i)
      logprobs[i] = double(logits[i]) - logSum;
  }
  const int64_t token = draw ? cpu::selectToken(logits.data(), vocab_, active.request.sampling,
                                                *draw, scratch_.span())
                             : cpu::selectToken(logits.data(), vocab_, active.request.sampling,
                                                active.rng, scratch_.span());
  return emitToken(active, token, logprobs);
}

bool Scheduler::emitToken(Active& active, int64_t token, const std::vector<double>& logprobs) {
  Piece piece;
  piece.token = token;
  piece.text = active.text.push(token);
  if (!logprobs.empty()) {
    piece.logprob = logprobs[size_t(token)];
    const tokenizer::TokenId id[] = {tokenizer::TokenId(token)};
    piece.tokenText = tokenizer_.decode(id);
    std::vector<int64_t> order(logprobs.size());
    std::iota(order.begin(), order.end(), 0);
    const size_t k = size_t(std::min<int64_t>(active.request.topLogprobs, vocab_));
    std::partial_sort(
        order.begin(), order.begin() + std::ptrdiff_t(k), order.end(),
        [&](int64_t a, int64_t b) { return logprobs[size_t(a)] > logprobs[size_t(b)]; });
    for (size_t i = 0; i < k; ++i) {
      const tokenizer::TokenId alternative[] = {tokenizer::TokenId(order[i])};
      piece.top.push_back({tokenizer_.decode(alternative), logprobs[size_t(order[i])]});
    }
  }
  const Clock::time_point now = Clock::now();
  if (active.generated.empty())
    metrics_.observeTimeToFirstToken(secondsBetween(active.arrived, now));
  else
    metrics_.observeInterTokenLatency(secondsBetween(active.lastTokenAt, now));
  active.lastTokenAt = now;
  active.generated.push_back(token);
  active.lastToken = token;
  active.stream->push(std::move(piece));

  const bool eos =
      !active.request.ignoreEos && std::find(eos_.begin(), eos_.end(), token) != eos_.end();
  std::string reason;
  if (eos || active.text.stopped())
    reason = "stop";
  else if (int64_t(active.generated.size()) >= active.request.maxTokens ||
           model_.sequenceLength(active.sequence) + 1 > model_.maxSeqLen())
    reason = "length";
  if (reason.empty())
    return false;
  active.finishReason = reason;
  return true;
}

void Scheduler::retire(Active& active, const std::string& reason, const std::string& error,
                       bool overloaded) {
  finish(active, reason, error, overloaded);
  active_.erase(std::find_if(active_.begin(), active_.end(),
                             [&](const auto& a) { return a.get() == &active; }));
}

void Scheduler::finish(Active& active, const std::string& reason, const std::string& error,
                       bool overloaded) {
  if (std::string rest = active.text.finish(); !rest.empty()) {
    Piece piece;
    piece.text = std::move(rest);
    active.stream->push(std::move(piece));
  }
  const int64_t generated = int64_t(active.generated.size());
  if (model_.isOpen(active.sequence)) {
    if (error.empty() && reason != "cancelled" && options_.cachedSequences > 0) {
      // The cache holds the prompt, then each generated token but the last, in order.
      Cached kept{active.sequence, active.original};
      kept.tokens.insert(kept.tokens.end(), active.generated.begin(), active.generated.end());
      kept.tokens.resize(size_t(model_.sequenceLength(active.sequence)));
      cached_.push_back(std::move(kept));
      if (int64_t(cached_.size()) > options_.cachedSequences)
        evictCached();
    } else {
      model_.closeSequence(active.sequence);
    }
  }
  metrics_.countRequest(!error.empty()          ? "failed"
                        : reason == "cancelled" ? "cancelled"
                                                : "finished");
  const int64_t prompt = int64_t(active.original.size());
  metrics_.addTokens(prompt, generated);
  active.stream->finish({reason, error, overloaded, prompt, generated, active.cachedTokens});
}

bool Scheduler::evictCached() {
  if (cached_.empty())
    return false;
  model_.closeSequence(cached_.front().sequence);
  cached_.pop_front();
  return true;
}

void Scheduler::publishGauges() {
  int64_t waiting;
  {
    std::lock_guard lock(mutex_);
    waiting = int64_t(waiting_.size());
  }
  int64_t cachedBlocks = 0;
  for (const Cached& cached : cached_)
    cachedBlocks +=
        (model_.sequenceLength(cached.sequence) + model_.blockTokens() - 1) / model_.blockTokens();
  metrics_.setGauges(int64_t(active_.size()), waiting,
                     model_.cacheBlocks() - model_.freeBlocks() - cachedBlocks, cachedBlocks,
                     model_.cacheBlocks());
}

} // namespace fathom::serve
