#pragma once
// tokenizer.json "model" of type BPE: vocabulary, merges by rank, and the merge loop of HF
// tokenizers' Word::merge_all (lowest rank first, leftmost first among equal ranks), with a cache
// of recently encoded pieces. Options that change ids in ways Fathom does not implement
// (continuing_subword_prefix, end_of_word_suffix, dropout > 0) are rejected at load.
#include "JsonFields.h"
#include "MergeTable.h"
#include "PieceCache.h"
#include "StringIndex.h"
#include "TokenizerJsonReader.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::tokenizer::detail {

class BpeModel {
public:
  BpeModel() = default;
  BpeModel(BpeModel&& other) noexcept;
  BpeModel& operator=(BpeModel&& other) noexcept;

  // `model` is tokenizer.json's "model" object; its vocab and merges arrive separately in `tables`
  // (see TokenizerJsonReader.h) and are consumed.
  static BpeModel fromJson(const Json& model, ModelTables& tables, std::string_view where);

  // Appends the ids of one pre-tokenized piece. With `byteLevel`, the piece is raw bytes spelled
  // with the GPT-2 byte alphabet (see ByteLevel.h); otherwise it is text split into characters.
  void encodePiece(std::string_view piece, bool byteLevel, std::vector<uint32_t>& out) const;

  std::optional<uint32_t> tokenToId(std::string_view token) const;
  // The vocabulary entry for `id`, or nullptr when the vocabulary has no such id.
  const std::string* idToToken(uint32_t id) const;
  // One past the largest id in the vocabulary.
  uint32_t idLimit() const { return static_cast<uint32_t>(tokenOfId_.size()); }
  size_t vocabularySize() const { return vocabularySize_; }

private:
  void mergeSymbols(std::vector<uint32_t>& symbols) const;
  void initialSymbols(std::string_view piece, bool byteLevel, std::vector<uint32_t>& symbols) const;

  std::vector<std::string> tokenOfId_;
  std::vector<bool> idPresent_;
  StringIndex idOfToken_; // over tokenOfId_
  size_t vocabularySize_ = 0;
  MergeTable merges_;
  // Vocabulary id of each byte's GPT-2 spelling, or -1 when the vocabulary lacks it.
  std::array<int64_t, 256> byteSymbolId_{};
  std::optional<uint32_t> unknownId_;
  bool fuseUnknown_ = false;
  bool byteFallback_ = false;
  bool ignoreMerges_ = false;

  // Pieces recur constantly in natural text; caching them skips the merge loop.
  mutable PieceCache cache_;
};

} // namespace fathom::tokenizer::detail
