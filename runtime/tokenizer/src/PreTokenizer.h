#pragma once
// tokenizer.json "pre_tokenizer": cuts a text segment into the pieces the model encodes one by one.
// Supported: Sequence, Split (all five behaviours, invert), Digits, ByteLevel (add_prefix_space,
// use_regex), Whitespace, WhitespaceSplit and Punctuation; anything else is an error naming the
// field.
//
// Pieces are string_views into the segment, so splitting copies nothing. ByteLevel's byte-to-
// character mapping is deferred to the model, which maps bytes straight to ids; that is why
// ByteLevel must be the last step (it is in every byte-level tokenizer HF ships).
#include "JsonFields.h"
#include "OnigurumaRegex.h"

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::tokenizer::detail {

// A span of a piece during a Split, and whether it is a delimiter (a regex match, or a gap when the
// split is inverted).
struct SplitSpan {
  size_t begin;
  size_t end;
  bool isMatch;
};

// Working state of one pre-tokenization; reused across segments to avoid reallocating.
struct PreTokenizerScratch {
  std::vector<std::string_view> next;
  std::vector<RegexMatch> matches;
  std::vector<SplitSpan> spans;
  std::vector<SplitSpan> merged;
  // Pieces that had to be rewritten (ByteLevel's prefix space). A deque keeps views stable.
  std::deque<std::string> storage;
};

class PreTokenizerStep {
public:
  virtual ~PreTokenizerStep() = default;
  virtual void apply(std::vector<std::string_view>& pieces, PreTokenizerScratch& scratch) const = 0;
};

class PreTokenizer {
public:
  PreTokenizer() = default;
  // Parses the "pre_tokenizer" field (JSON null means "the whole segment is one piece").
  static PreTokenizer fromJson(const Json& json, std::string_view where);

  // Replaces `pieces` by the pieces of `segment`.
  void run(std::string_view segment, std::vector<std::string_view>& pieces,
           PreTokenizerScratch& scratch) const;

  // True when the last step is ByteLevel: pieces are raw bytes the model spells with the GPT-2
  // byte alphabet.
  bool isByteLevel() const { return byteLevel_; }

private:
  std::vector<std::shared_ptr<const PreTokenizerStep>> steps_;
  bool byteLevel_ = false;
};

} // namespace fathom::tokenizer::detail
