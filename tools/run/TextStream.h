#pragma once
// Turns one sequence's new token ids into printable text as they arrive: whole UTF-8
// characters only (StreamingDetokenizer), and text that could still become a --stop string is
// held back until it cannot. stop strings are matched on the decoded text and never printed.
#include "fathom/tokenizer/StreamingDetokenizer.h"

#include <string>
#include <vector>

namespace fathom::run {

class TextStream {
public:
  TextStream(const tokenizer::Tokenizer& tokenizer, std::vector<std::string> stops);

  // Returns the text that became final with this token.
  std::string push(int64_t token);
  // Flushes what is held back (at the end of generation).
  std::string finish();
  // True once a stop string appeared; later tokens add nothing.
  bool stopped() const { return stopped_; }
  // Everything emitted so far.
  const std::string& text() const { return emitted_; }

private:
  std::string release(bool final);

  tokenizer::StreamingDetokenizer detokenizer_;
  std::vector<std::string> stops_;
  std::string pending_;
  std::string emitted_;
  bool stopped_ = false;
};

} // namespace fathom::run
