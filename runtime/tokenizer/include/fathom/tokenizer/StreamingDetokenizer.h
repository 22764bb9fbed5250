#pragma once
// Incremental decoding for a generation loop: ids arrive one at a time and text is emitted as soon
// as it is final. A token may end in the middle of a UTF-8 character (DeepSeek splits emoji across
// tokens), so the bytes of an unfinished character are held back until the next token completes or
// breaks it. The concatenation of everything push() and finish() return equals
// Tokenizer::decode(all ids) exactly, U+FFFD replacements included.
#include "fathom/tokenizer/Tokenizer.h"

#include <string>

namespace fathom::tokenizer {

class StreamingDetokenizer {
public:
  // `tokenizer` must outlive this object.
  explicit StreamingDetokenizer(const Tokenizer& tokenizer, bool skipSpecialTokens = false);

  // Adds one id and returns the newly final text (possibly empty). Throws fathom::Error for ids
  // outside the vocabulary.
  std::string push(TokenId id);

  // Ends the stream: bytes of a character that never completed become U+FFFD, as in decode().
  std::string finish();

  // Bytes currently held back (0..3).
  size_t pendingBytes() const { return pending_.size(); }

private:
  const Tokenizer* tokenizer_;
  bool skipSpecialTokens_;
  bool emittedToken_ = false;
  std::string pending_;
};

} // namespace fathom::tokenizer
