#pragma once
// Hugging Face tokenizer.json byte-level BPE, reproducing HF tokenizers' ids exactly: added tokens
// cut out first (leftmost-longest), the normalizer and pre-tokenizer pipeline (PCRE2 standing in
// for Oniguruma), rank-ordered BPE merges, and lossy UTF-8 decoding. Loading a checkpoint directory
// also reads tokenizer_config.json so that encode(text, true) adds BOS/EOS as transformers does.
//
// A Tokenizer is immutable after loading; encode and decode may be called from several threads.
#include "fathom/tokenizer/TokenizerConfig.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::tokenizer {

using TokenId = uint32_t;

class Tokenizer {
public:
  // Loads `directory`/tokenizer.json and, when present, tokenizer_config.json and chat templates.
  static Tokenizer fromDirectory(const std::filesystem::path& directory);
  // Loads a tokenizer.json on its own; special tokens then come from its post_processor.
  static Tokenizer fromFile(const std::filesystem::path& tokenizerJson);
  // Parses tokenizer.json text already in memory; `name` prefixes error messages.
  static Tokenizer fromJsonText(std::string_view tokenizerJson, TokenizerConfig config = {},
                                std::string_view name = "tokenizer.json");

  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // Text to ids. HF tokenizers only accepts valid Unicode text, so Fathom first replaces each
  // maximal ill-formed UTF-8 subsequence by U+FFFD (like Rust's from_utf8_lossy or Python's
  // bytes.decode(errors="replace")) and encodes the result. With addSpecialTokens the ids are
  // wrapped as transformers would: for LlamaTokenizer(Fast) configs by add_bos_token /
  // add_eos_token (BOS first for DeepSeek-V3), otherwise by tokenizer.json's post_processor.
  std::vector<TokenId> encode(std::string_view text, bool addSpecialTokens = false) const;

  // Ids to text, like HF decode: each token's bytes, then one lossy UTF-8 repair of the whole. With
  // skipSpecialTokens, added tokens marked "special" are left out (non-special added tokens such as
  // "<｜User｜>" stay). Unlike HF, which silently drops unknown ids, an id outside the vocabulary
  // throws fathom::Error.
  std::string decode(std::span<const TokenId> ids, bool skipSpecialTokens = false) const;

  // The raw bytes `id` contributes to decoded text, before UTF-8 repair (for the streaming
  // detokenizer). Throws fathom::Error for ids outside the vocabulary.
  std::string_view tokenBytes(TokenId id) const;
  // True when the tokenizer has no decoder, in which case HF joins token strings with spaces.
  bool decodeJoinsTokensWithSpaces() const;

  std::optional<TokenId> tokenToId(std::string_view token) const;
  std::optional<std::string_view> idToToken(TokenId id) const;
  bool isValidId(TokenId id) const;
  // True for added tokens marked "special" (the ones skipSpecialTokens removes).
  bool isSpecial(TokenId id) const;
  // Number of distinct tokens including added ones (HF get_vocab_size(with_added_tokens=True)).
  size_t vocabularySize() const;
  // One past the largest valid id.
  TokenId idLimit() const;

  // BOS/EOS ids from tokenizer_config.json's token strings, when they name known tokens.
  std::optional<TokenId> bosId() const;
  std::optional<TokenId> eosId() const;
  // The ids encode(text, true) puts before and after the text.
  std::span<const TokenId> specialPrefix() const;
  std::span<const TokenId> specialSuffix() const;

  const TokenizerConfig& config() const;

private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace fathom::tokenizer
