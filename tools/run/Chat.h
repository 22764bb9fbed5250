#pragma once
// A conversation that keeps its KV cache between turns. Each turn renders the whole history
// with the chat template, as HF does, reuses the cached tokens that rendering starts with and
// prefills only the rest: the new message, and whatever of the last reply the template renders
// differently from how it was generated. When the history no longer fits the context, the
// oldest turns go (the system message stays) and the cache is rebuilt from what is left.
// Vision-language models take images with a message: each is encoded once, when it is sent, and
// its embeddings fill its image tokens whenever a turn prefills them again.
#include "Images.h"
#include "TextStream.h"

#include "fathom/executor/Generate.h"
#include "fathom/tokenizer/ChatFormat.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>

namespace fathom::run {

class Conversation {
public:
  Conversation(executor::Model& model, const tokenizer::Tokenizer& tokenizer,
               tokenizer::ChatFormat format, std::optional<std::string> system);
  ~Conversation();
  Conversation(const Conversation&) = delete;
  Conversation& operator=(const Conversation&) = delete;

  struct Turn {
    std::string reply;
    executor::GenerationResult result; // its promptTokens: the tokens prefilled this turn
    int64_t renderedTokens = 0;        // the whole rendered conversation
    int64_t reusedTokens = 0;          // of those, found in the cache
    int64_t droppedTurns = 0;          // oldest user/assistant pairs dropped to fit
    std::string finishReason;          // "stop", "length" or "interrupted"
  };

  // One user message and the reply. `options.maxNewTokens` is a limit the reply must have room
  // for when `lengthRequired`, else it shrinks to what the context leaves. `onText` receives
  // the reply's text as it becomes final and returns true to cut the reply short. Throws
  // fathom::Error, the conversation unchanged, when the message cannot fit even alone.
  // `images` (files) go in front of the message, as DeepSeek-VL's template places them.
  Turn say(const std::string& message, executor::GenerationOptions options, bool lengthRequired,
           const std::vector<std::string>& stops,
           const std::function<bool(const std::string& text)>& onText,
           const std::vector<std::string>& images = {});
  bool takesImages() const { return imageToken_.has_value(); }
  // Forgets the history (the system message stays) and frees the cache.
  void reset();
  int64_t cachedTokens() const { return int64_t(cached_.size()); }
  const nlohmann::json& messages() const { return messages_; }

private:
  // The rendered conversation with each image placeholder as its image tokens; `imageStarts`
  // gets where each image's tokens begin.
  std::vector<int64_t> render(std::vector<size_t>& imageStarts) const;
  // Drops the oldest user/assistant pair before the last message; false when there is none.
  bool dropOldestTurn();

  executor::Model& model_;
  const tokenizer::Tokenizer& tokenizer_;
  tokenizer::ChatFormat format_;
  nlohmann::json messages_ = nlohmann::json::array();
  // Per message, per image: its embedding rows (encode_image's output), in order.
  std::vector<std::vector<std::vector<float>>> images_;
  std::optional<ImageToken> imageToken_;
  executor::SequenceId sequence_;
  std::vector<int64_t> cached_; // the tokens the sequence's cache holds, in order
};

} // namespace fathom::run
