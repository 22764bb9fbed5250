#include "fathom/tokenizer/StreamingDetokenizer.h"

#include "fathom/tokenizer/Utf8.h"

namespace fathom::tokenizer {

StreamingDetokenizer::StreamingDetokenizer(const Tokenizer& tokenizer, bool skipSpecialTokens)
    : tokenizer_(&tokenizer), skipSpecialTokens_(skipSpecialTokens) {}

std::string StreamingDetokenizer::push(TokenId id) {
  std::string_view bytes = tokenizer_->tokenBytes(id);
  if (skipSpecialTokens_ && tokenizer_->isSpecial(id))
    return {};
  if (emittedToken_ && tokenizer_->decodeJoinsTokensWithSpaces())
    pending_ += ' ';
  emittedToken_ = true;
  pending_.append(bytes);
  // Everything before an unfinished trailing character decodes the same whatever follows, because
  // each complete or ill-formed sequence is decided by bytes already seen.
  size_t held = incompleteUtf8Suffix(pending_);
  std::string_view ready = std::string_view(pending_).substr(0, pending_.size() - held);
  std::string text = toValidUtf8(ready);
  pending_.erase(0, ready.size());
  return text;
}

std::string StreamingDetokenizer::finish() {
  std::string text = toValidUtf8(pending_);
  pending_.clear();
  return text;
}

} // namespace fathom::tokenizer
