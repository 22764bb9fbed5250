#include "Chat.h"

#include "fathom/runtime/Error.h"

#include <algorithm>

namespace fathom::run {

Conversation::Conversation(executor::Model& model, const tokenizer::Tokenizer& tokenizer,
                           tokenizer::ChatFormat format, std::optional<std::string> system)
    : model_(model), tokenizer_(tokenizer), format_(format), sequence_(model.openSequence()) {
  if (model.encodesImages())
    imageToken_ = imageTokenOf(model, tokenizer);
  if (system) {
    messages_.push_back({{"role", "system"}, {"content", *system}});
    images_.emplace_back();
  }
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
  images_.resize(messages_.size());
  model_.truncateSequence(sequence_, 0);
  cached_.clear();
}

std::vector<int64_t> Conversation::render(std::vector<size_t>& imageStarts) const {
  std::string prompt =
      tokenizer::renderChat(format_, messages_, /*addGenerationPrompt=*/true, tokenizer_.config());
  std::vector<int64_t> ids =
      expandImageTokens(tokenizer::encodeRenderedChat(tokenizer_, prompt),
                        imageToken_ ? imageToken_->id : -1, model_.imageTokens(), imageStarts);
  size_t images = 0;
  for (const auto& perMessage : images_)
    images += perMessage.size();
  if (imageStarts.size() != images)
    throw Error("the conversation holds " + std::to_string(imageStarts.size()) +
                " image placeholders (" + (imageToken_ ? imageToken_->placeholder : "") + ") but " +
                std::to_string(images) +
                " images: type images with /image, not as "
                "placeholder text");
  return ids;
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
  images_.erase(images_.begin() + std::ptrdiff_t(first), images_.begin() + std::ptrdiff_t(end));
  return true;
}

Conversation::Turn Conversation::say(const std::string& message,
                                     executor::GenerationOptions options, bool lengthRequired,
                                     const std::vector<std::string>& stops,
                                     const std::function<bool(const std::string&)>& onText,
                                     const std::vector<std::string>& images) {
  if (!images.empty() && !imageToken_)
    throw Error("this model takes no images (it has no vision tower)");
  // Each image is encoded once, now; its rows are kept for every later prefill of its tokens.
  std::vector<std::vector<float>> encoded;
  std::string content;
  if (!images.empty()) {
    const std::vector<float> rows = encodeImageFiles(model_, images);
    const size_t perImage = rows.size() / images.size();
    for (size_t i = 0; i < images.size(); ++i) {
      encoded.emplace_back(rows.begin() + std::ptrdiff_t(i * perImage),
                           rows.begin() + std::ptrdiff_t((i + 1) * perImage));
      content += imageToken_->placeholder;
    }
  }
  content += message;
  const nlohmann::json before = messages_;
  const auto imagesBefore = images_;
  messages_.push_back({{"role", "user"}, {"content", content}});
  images_.push_back(std::move(encoded));
  auto restore = [&] {
    messages_ = before;
    images_ = imagesBefore;
  };
  Turn turn;
  std::vector<size_t> imageStarts;
  std::vector<int64_t> ids;
  try {
    ids = render(imageStarts);
  } catch (...) {
    restore();
    throw;
  }
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
        restore();
        throw Error("this message makes a prompt of " + std::to_string(length) + " tokens, which " +
                    (lengthRequired ? "with " + std::to_string(reply) + " new tokens " : "") +
                    "does not fit the model's context of " + std::to_string(model_.maxSeqLen()) +
                    " tokens even without the earlier turns; it was not sent");
      }
      ++turn.droppedTurns;
      ids = render(imageStarts);
    }
  if (!lengthRequired)
    options.maxNewTokens =
        std::min<int64_t>(options.maxNewTokens, model_.maxSeqLen() - int64_t(ids.size()) + 1);

  // The cache keeps the longest prefix the new rendering shares with it; at least the last
  // token is fed again, for its logits.
  size_t reuse = 0;
  while (reuse < cached_.size() && reuse + 1 < ids.size() && cached_[reuse] == ids[reuse])
    ++reuse;
  // An image is prefilled whole or not at all (its rows fill its tokens in order).
  for (size_t start : imageStarts)
    if (start < reuse && reuse < start + size_t(model_.imageTokens()))
      reuse = start;
  options.imageEmbeddings.clear();
  size_t image = 0;
  for (const auto& perMessage : images_)
    for (const std::vector<float>& rows : perMessage)
      if (imageStarts[image++] >= reuse)
        options.imageEmbeddings.insert(options.imageEmbeddings.end(), rows.begin(), rows.end());
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
    restore();
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
  images_.emplace_back();
  return turn;
}

} // namespace fathom::run
