#pragma once
// tokenizer.json "added_tokens": tokens cut out of the input before pre-tokenization. As in HF
// tokenizers, tokens with normalized=false are matched first on the raw text, tokens with
// normalized=true afterwards on the normalized remainder; both with leftmost-longest matching
// (Aho-Corasick MatchKind::LeftmostLongest) and the single_word / lstrip / rstrip rules.
#include "JsonFields.h"
#include "OnigurumaRegex.h"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::tokenizer::detail {

struct AddedToken {
  uint32_t id = 0;
  std::string content;
  bool singleWord = false;
  bool leftStrip = false;
  bool rightStrip = false;
  bool normalized = false;
  bool special = false;
};

// A piece of input after added-token extraction: either an added token (tokenId set) or text that
// still goes through pre-tokenization and the model.
struct AddedTokenSplit {
  std::optional<uint32_t> tokenId;
  size_t begin;
  size_t end;
};

// A byte trie answering "longest added token starting here".
class AddedTokenTrie {
public:
  void insert(std::string_view pattern, uint32_t tokenIndex);
  bool empty() const { return nodes_.size() <= 1; }
  // The non-overlapping leftmost-longest matches in `text` as (begin, end, tokenIndex).
  struct Match {
    size_t begin;
    size_t end;
    uint32_t tokenIndex;
  };
  void findAll(std::string_view text, std::vector<Match>& matches) const;

private:
  struct Node {
    std::vector<std::pair<uint8_t, uint32_t>> children;
    int64_t tokenIndex = -1;
  };
  uint32_t child(uint32_t node, uint8_t byte) const;
  std::vector<Node> nodes_{Node{}};
  // The root's children by first byte (0 = none), so most positions are rejected with one load.
  std::array<uint32_t, 256> rootChildren_{};
  // When every pattern starts with the same byte (all DeepSeek added tokens start with '<'),
  // memchr finds candidate positions.
  int onlyFirstByte_ = -1;
  size_t firstByteCount_ = 0;
};

class AddedVocabulary {
public:
  AddedVocabulary() = default;
  // Parses the tokenizer.json "added_tokens" array.
  static AddedVocabulary fromJson(const Json& addedTokens, std::string_view where);

  // Builds the two tries. `normalize` (may be empty) maps a normalized token's content to the form
  // it takes in normalized text, as HF does when it refreshes its added vocabulary.
  void buildMatchers(const std::function<std::string(std::string_view)>& normalize);

  // Splits `text` with the raw (normalized=false) or the normalized token set.
  void split(std::string_view text, bool normalizedSet, std::vector<AddedTokenSplit>& out) const;

  const std::vector<AddedToken>& tokens() const { return tokens_; }
  bool hasNormalizedTokens() const { return !normalizedTrie_.empty(); }

private:
  std::vector<AddedToken> tokens_;
  AddedTokenTrie rawTrie_;
  AddedTokenTrie normalizedTrie_;
  // Only built when some token uses single_word / lstrip / rstrip.
  struct WordBoundaryRegexes;
  std::shared_ptr<const WordBoundaryRegexes> boundaries_;
};

} // namespace fathom::tokenizer::detail
