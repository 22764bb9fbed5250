#include "Chat.h"

#include "fathom/runtime/Error.h"

#include <algorithm>

namespace fathom::run {

Conversation::Conversation(executor::Model& model, const tokenizer::Tokenizer& tokenizer,
                           tokenizer::ChatFormat format, std::optional<std::string> system)
    : model_(model), tokenizer_(tokenizer), format_(format), sequence_(model.openSequence()) {
  if (system)
    messages_.push_back({{"role", "system"}, {"content", *system}});
}

Conversation::~Conversation() {
  if (model_.isOpen(sequence_))
    model_.closeSequence(sequence_);
}

void Conversation::reset() {
  nlohmann::json kept = nlohmann::json::array();
  if (!messages_.empty() && messages_[0]["role"] == "system")
    kept.push_back(messages_[0]);
  messages_ = std::move(kept);
  model_.truncateSequence(sequence_, 0);
  cached_.clear();
}

std::vector<int64_t> Conversation::render() const {
  std::string prompt =
      tokenizer::renderChat(format_, messages_, /*addGenerationPrompt=*/true, tokenizer_.config());
  auto ids = tokenizer::encodeRenderedChat(tokenizer_, prompt);
  return std::vector<int64_t>(ids.begin(), ids.end());
}

bool Conversation::dropOldestTurn() {
  const size_t first = !messages_.empty() && messages_[0]["role"] == "system" ? 1 : 0;
  // The last message is the one being answered; an older turn is a user message and the
  // assistant's reply before it.
  if (messages_.size() < first + 3)
    return false;
  const size_t end = messages_[first + 1]["role"] == "assistant" ? first + 2 : first + 1;
  messages_.erase(messages_.begin() + std::ptrdiff_t(first),
                  messages_.begin() + std::ptrdiff_t(end));
  return true;
}

Conversation::Turn Conversation::say(const std::string& message,
                                     executor::GenerationOptions options, bool lengthRequired,
                                     const std::vector<std::string>& stops,
                                     const std::function<bool(const std::string&)>& onText) {
  const nlohmann::json before = messages_;
  messages_.push_back({{"role", "user"}, {"content", message}});
  Turn turn;
  std::vector<int64_t> ids = render();
  // The reply needs room for its tokens but the last, which is never fed back.
  const int64_t reply = lengthRequired ? std::max<int64_t>(options.maxNewTokens, 1) : 1;
  // Once the context is full, turns go until half of it is free (as llama.cpp's context shift
  // does), so that the rebuilt cache serves several turns before the next drop.
  auto needed = [&] { return int64_t(ids.size()) + reply - 1; };
  if (needed() > model_.maxSeqLen())
    while (needed() > model_.maxSeqLen() / 2) {
      if (!dropOldestTurn()) {
        if (needed() <= model_.maxSeqLen())
          break;
        const int64_t length = int64_t(ids.size());
        messages_ = before;
        throw Error("this message makes a prompt of " + std::to_string(length) + " tokens, which " +
                    (lengthRequired ? "with " + std::to_string(reply) + " new tokens " : "") +
                    "does not fit the model's context of " + std::to_string(model_.maxSeqLen()) +
                    " tokens even without the earlier turns; it was not sent");
      }
      ++turn.droppedTurns;
      ids = render();
    }
  if (!lengthRequired)
    options.maxNewTokens =
        std::min<int64_t>(options.maxNewTokens, model_.maxSeqLen() - int64_t(ids.size()) + 1);

  // The cache keeps the longest prefix the new rendering shares with it; at least the last
  // token is fed again, for its logits.
  size_t reuse = 0;
  while (reuse < cached_.size() && reuse + 1 < ids.size() && cached_[reuse] == ids[reuse])
    ++reuse;
  model_.truncateSequence(sequence_, int64_t(reuse));
  cached_.resize(reuse);
  turn.renderedTokens = int64_t(ids.size());
  turn.reusedTokens = int64_t(reuse);

  TextStream stream(tokenizer_, stops);
  bool interrupted = false;
  const std::vector<int64_t> fresh(ids.begin() + std::ptrdiff_t(reuse), ids.end());
  try {
    turn.result =
        executor::continueSequence(model_, sequence_, fresh, options, [&](size_t, int64_t token) {
          interrupted = onText(stream.push(token));
          return interrupted || stream.stopped();
        });
  } catch (...) {
    // What the cache holds is unknown: the next turn rebuilds it.
    model_.truncateSequence(sequence_, 0);
    cached_.clear();
    messages_ = before;
    throw;
  }
  onText(stream.finish());
  // The cache now holds the prompt and the reply but its last token (or nothing new when no
  // token was asked for).
  const std::vector<int64_t>& generated = turn.result.newTokens.front();
  cached_ = ids;
  cached_.insert(cached_.end(), generated.begin(), generated.end());
  cached_.resize(size_t(model_.sequenceLength(sequence_)));
  turn.reply = stream.text();
  turn.finishReason = interrupted                                            ? "interrupted"
                      : turn.result.stoppedAtEos.front() || stream.stopped() ? "stop"
                                                                             : "length";
  messages_.push_back({{"role", "assistant"}, {"content", turn.reply}});
  return turn;
}

} // namespace fathom::run
