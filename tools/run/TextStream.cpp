#include "TextStream.h"

#include <algorithm>

namespace fathom::run {

TextStream::TextStream(const tokenizer::Tokenizer& tokenizer, std::vector<std::string> stops)
    : detokenizer_(tokenizer, /*skipSpecialTokens=*/true), stops_(std::move(stops)) {}

std::string TextStream::push(int64_t token) {
  if (stopped_)
    return {};
  pending_ += detokenizer_.push(tokenizer::TokenId(token));
  return release(false);
}

std::string TextStream::finish() {
  if (stopped_)
    return {};
  pending_ += detokenizer_.finish();
  return release(true);
}

std::string TextStream::release(bool final) {
  // The earliest stop string in what is pending ends the text there.
  size_t cut = std::string::npos;
  for (const std::string& stop : stops_) {
    // Search from where a stop could start that was not visible before.
    size_t found = pending_.find(stop);
    if (found != std::string::npos)
      cut = std::min(cut, found);
  }
  if (cut != std::string::npos) {
    stopped_ = true;
    std::string out = pending_.substr(0, cut);
    emitted_ += out;
    pending_.clear();
    return out;
  }
  // Hold back the longest suffix that is a prefix of some stop string.
  size_t hold = 0;
  if (!final)
    for (const std::string& stop : stops_)
      for (size_t n = std::min(stop.size() - 1, pending_.size()); n > hold; --n)
        if (pending_.compare(pending_.size() - n, n, stop, 0, n) == 0) {
          hold = n;
          break;
        }
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  emitted_ += out;
  return out;
}

} // namespace fathom::run
