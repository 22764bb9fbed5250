#include "fathom/tokenizer/Tokenizer.h"

#include "AddedVocabulary.h"
#include "BpeModel.h"
#include "Decoder.h"
#include "JsonFields.h"
#include "Normalizer.h"
#include "PreTokenizer.h"
#include "TokenizerJsonReader.h"

#include "fathom/runtime/Error.h"
#include "fathom/tokenizer/Utf8.h"

#include <deque>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

namespace fathom::tokenizer {

using detail::Json;

struct Tokenizer::Impl {
  std::string name;
  TokenizerConfig config;
  detail::AddedVocabulary added;
  std::unique_ptr<detail::Normalizer> normalizer;
  detail::PreTokenizer preTokenizer;
  detail::BpeModel model;
  detail::DecoderKind decoder = detail::DecoderKind::None;
  detail::SequenceWrapping wrapping;

  // Per id (up to idLimit): its token string, decoded bytes, and flags. Added tokens override the
  // model's entry for the same id, as in HF's id_to_token.
  std::vector<std::string_view> tokenOfId;
  std::string decodedBytes;
  std::vector<uint32_t> decodedOffsets; // id -> [offsets[id], offsets[id + 1]) in decodedBytes
  std::vector<uint8_t> idFlags;         // kValid | kSpecial
  static constexpr uint8_t kValid = 1, kSpecial = 2;
  size_t distinctTokens = 0;
  std::optional<TokenId> bos, eos;

  void encodeText(std::string_view text, std::vector<TokenId>& out) const;
  void encodeSegment(std::string_view segment, std::vector<TokenId>& out) const;
  void buildIdTables();
  void resolveSpecialTokens();
  // Added tokens first, then the model vocabulary (HF's token_to_id order).
  std::optional<TokenId> tokenToId(std::string_view token) const {
    if (auto it = addedIdOfContent.find(token); it != addedIdOfContent.end())
      return it->second;
    return model.tokenToId(token);
  }
  std::unordered_map<std::string_view, TokenId> addedIdOfContent;
  std::deque<std::string> normalizedAddedContents;
};

namespace {

// Scratch reused by every encode on a thread, so steady-state encoding does not allocate per piece.
struct EncodeScratch {
  std::vector<std::string_view> pieces;
  detail::PreTokenizerScratch preTokenizer;
};

EncodeScratch& encodeScratch() {
  thread_local EncodeScratch scratch;
  return scratch;
}

bool isLlamaTokenizerClass(const std::string& name) {
  return name == "LlamaTokenizerFast" || name == "LlamaTokenizer";
}

} // namespace

void Tokenizer::Impl::encodeSegment(std::string_view segment, std::vector<TokenId>& out) const {
  EncodeScratch& scratch = encodeScratch();
  preTokenizer.run(segment, scratch.pieces, scratch.preTokenizer);
  bool byteLevel = preTokenizer.isByteLevel();
  for (std::string_view piece : scratch.pieces)
    model.encodePiece(piece, byteLevel, out);
}

void Tokenizer::Impl::encodeText(std::string_view text, std::vector<TokenId>& out) const {
  // The splits are locals, not thread scratch, because encodeSegment reuses the scratch.
  std::vector<detail::AddedTokenSplit> rawSplits;
  added.split(text, /*normalizedSet=*/false, rawSplits);
  std::vector<detail::AddedTokenSplit> normalizedSplits;
  for (const auto& split : rawSplits) {
    if (split.tokenId) {
      out.push_back(*split.tokenId);
      continue;
    }
    std::string_view segment = text.substr(split.begin, split.end - split.begin);
    std::string normalizedText;
    if (normalizer) {
      normalizedText = normalizer->normalize(segment);
      segment = normalizedText;
    }
    if (!added.hasNormalizedTokens()) {
      encodeSegment(segment, out);
      continue;
    }
    added.split(segment, /*normalizedSet=*/true, normalizedSplits);
    for (const auto& inner : normalizedSplits) {
      if (inner.tokenId)
        out.push_back(*inner.tokenId);
      else
        encodeSegment(segment.substr(inner.begin, inner.end - inner.begin), out);
    }
  }
}

void Tokenizer::Impl::buildIdTables() {
  TokenId limit = model.idLimit();
  const uint64_t bound = detail::idBound(model.vocabularySize() + added.tokens().size());
  for (size_t i = 0; i < added.tokens().size(); ++i) {
    const TokenId id = added.tokens()[i].id;
    if (id >= bound)
      detail::fail(detail::indexPath(name + ": added_tokens", i) + ".id",
                   "id " + std::to_string(id) + " is far past the " +
                       std::to_string(model.vocabularySize() + added.tokens().size()) +
                       " tokens the file defines (ids must be below " + std::to_string(bound) +
                       ")");
    limit = std::max(limit, id + 1);
  }
  tokenOfId.assign(limit, std::string_view());
  idFlags.assign(limit, 0);
  for (TokenId id = 0; id < model.idLimit(); ++id) {
    if (const std::string* token = model.idToToken(id)) {
      tokenOfId[id] = *token;
      idFlags[id] = kValid;
    }
  }
  // Vocabulary strings are distinct already; an added token adds a string unless the vocabulary
  // or an earlier added token has it.
  distinctTokens = model.vocabularySize();
  std::unordered_set<std::string_view> specialContents;
  // HF decodes a normalized added token through its normalized form (so that the decoder can undo
  // the normalizer's work); keep those forms alive next to the table.
  for (const auto& token : added.tokens()) {
    if (!model.tokenToId(token.content) && !addedIdOfContent.count(token.content))
      ++distinctTokens;
    addedIdOfContent.emplace(token.content, token.id);
    tokenOfId[token.id] = token.content;
    if (token.normalized && normalizer) {
      std::string normalizedContent = normalizer->normalize(token.content);
      if (normalizedContent != token.content)
        tokenOfId[token.id] = normalizedAddedContents.emplace_back(std::move(normalizedContent));
    }
    idFlags[token.id] = kValid;
    if (token.special)
      specialContents.insert(token.content);
  }
  // HF decides "special" by the decode string, so a vocabulary id spelled like a special token is
  // skipped too (and a special token whose normalized form differs is not).
  decodedOffsets.assign(limit + 1, 0);
  decodedBytes.reserve(model.idLimit() * 8);
  for (TokenId id = 0; id < limit; ++id) {
    decodedOffsets[id] = static_cast<uint32_t>(decodedBytes.size());
    if (!(idFlags[id] & kValid))
      continue;
    if (!specialContents.empty() && specialContents.count(tokenOfId[id]))
      idFlags[id] |= kSpecial;
    detail::appendTokenBytes(decoder, tokenOfId[id], decodedBytes);
  }
  decodedOffsets[limit] = static_cast<uint32_t>(decodedBytes.size());
}

void Tokenizer::Impl::resolveSpecialTokens() {
  auto lookup = [&](const std::optional<std::string>& token) -> std::optional<TokenId> {
    return token ? tokenToId(*token) : std::nullopt;
  };
  bos = lookup(config.bosToken);
  eos = lookup(config.eosToken);
  if (!isLlamaTokenizerClass(config.tokenizerClass))
    return; // tokenizer.json's post_processor decides
  // transformers' LlamaTokenizerFast replaces the post-processor by a template built from
  // add_bos_token (default true) and add_eos_token (default false).
  wrapping = {};
  auto require = [&](const std::optional<TokenId>& id, const std::optional<std::string>& token,
                     const char* field) {
    if (!id)
      throw Error("tokenizer_config.json: " + std::string(field) + ": " +
                  (token ? "\"" + *token + "\" is not a token of " + name
                         : std::string("missing, but add_") + field + " is true"));
    return *id;
  };
  if (config.addBosToken.value_or(true))
    wrapping.prefix.push_back(require(bos, config.bosToken, "bos_token"));
  if (config.addEosToken.value_or(false))
    wrapping.suffix.push_back(require(eos, config.eosToken, "eos_token"));
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

Tokenizer Tokenizer::fromJsonText(std::string_view tokenizerJson, TokenizerConfig config,
                                  std::string_view name) {
  detail::TokenizerJson parsed = detail::readTokenizerJson(tokenizerJson, name);
  const Json& json = parsed.tree;
  auto impl = std::make_unique<Impl>();
  impl->name = name;
  impl->config = std::move(config);
  std::string root = std::string(name) + ": ";
  detail::requireObject(json, root);
  for (const char* key : {"truncation", "padding"})
    if (detail::optionalMember(json, key))
      detail::fail(detail::fieldPath(root, key),
                   "Fathom encodes single sequences as given; expected null");
  impl->model = detail::BpeModel::fromJson(detail::requireMember(json, "model", root),
                                           parsed.tables, detail::fieldPath(root, "model"));
  static const Json kNull;
  auto member = [&](const char* key) -> const Json& {
    const Json* value = detail::optionalMember(json, key);
    return value ? *value : kNull;
  };
  impl->normalizer =
      detail::parseNormalizer(member("normalizer"), detail::fieldPath(root, "normalizer"));
  impl->preTokenizer = detail::PreTokenizer::fromJson(member("pre_tokenizer"),
                                                      detail::fieldPath(root, "pre_tokenizer"));
  impl->decoder = detail::parseDecoder(member("decoder"), detail::fieldPath(root, "decoder"));
  impl->wrapping = detail::parsePostProcessor(member("post_processor"),
                                              detail::fieldPath(root, "post_processor"));
  if (const Json* addedTokens = detail::optionalMember(json, "added_tokens"))
    impl->added =
        detail::AddedVocabulary::fromJson(*addedTokens, detail::fieldPath(root, "added_tokens"));
  const detail::Normalizer* normalizer = impl->normalizer.get();
  impl->added.buildMatchers(
      normalizer ? std::function<std::string(std::string_view)>(
                       [normalizer](std::string_view text) { return normalizer->normalize(text); })
                 : nullptr);
  impl->buildIdTables();
  impl->resolveSpecialTokens();
  return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::fromFile(const std::filesystem::path& tokenizerJson) {
  return fromJsonText(readTextFile(tokenizerJson, detail::kTokenizerJson.maxFileBytes), {},
                      tokenizerJson.string());
}

Tokenizer Tokenizer::fromDirectory(const std::filesystem::path& directory) {
  std::filesystem::path path = directory / "tokenizer.json";
  if (!std::filesystem::exists(path))
    throw Error(path.string() + ": file not found (a tokenizer directory needs tokenizer.json)");
  return fromJsonText(readTextFile(path, detail::kTokenizerJson.maxFileBytes),
                      TokenizerConfig::fromDirectory(directory), path.string());
}

std::vector<TokenId> Tokenizer::encode(std::string_view text, bool addSpecialTokens) const {
  std::vector<TokenId> ids;
  ids.reserve(text.size() / 3 + 4);
  if (addSpecialTokens)
    ids.assign(impl_->wrapping.prefix.begin(), impl_->wrapping.prefix.end());
  if (isValidUtf8(text)) {
    impl_->encodeText(text, ids);
  } else {
    impl_->encodeText(toValidUtf8(text), ids);
  }
  if (addSpecialTokens)
    ids.insert(ids.end(), impl_->wrapping.suffix.begin(), impl_->wrapping.suffix.end());
  return ids;
}

std::string_view Tokenizer::tokenBytes(TokenId id) const {
  if (!isValidId(id))
    throw Error("token id " + std::to_string(id) + " is not in the vocabulary of " + impl_->name +
                " (valid ids are below " + std::to_string(impl_->tokenOfId.size()) + ")");
  uint32_t begin = impl_->decodedOffsets[id];
  return std::string_view(impl_->decodedBytes).substr(begin, impl_->decodedOffsets[id + 1] - begin);
}

bool Tokenizer::decodeJoinsTokensWithSpaces() const {
  return impl_->decoder == detail::DecoderKind::None;
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool skipSpecialTokens) const {
  std::string bytes;
  bool first = true;
  for (TokenId id : ids) {
    std::string_view piece = tokenBytes(id);
    if (skipSpecialTokens && isSpecial(id))
      continue;
    if (!first && decodeJoinsTokensWithSpaces())
      bytes += ' ';
    bytes.append(piece);
    first = false;
  }
  return isValidUtf8(bytes) ? bytes : toValidUtf8(bytes);
}

std::optional<TokenId> Tokenizer::tokenToId(std::string_view token) const {
  return impl_->tokenToId(token);
}

std::optional<std::string_view> Tokenizer::idToToken(TokenId id) const {
  if (!isValidId(id))
    return std::nullopt;
  return impl_->tokenOfId[id];
}

bool Tokenizer::isValidId(TokenId id) const {
  return id < impl_->idFlags.size() && (impl_->idFlags[id] & Impl::kValid);
}

bool Tokenizer::isSpecial(TokenId id) const {
  return id < impl_->idFlags.size() && (impl_->idFlags[id] & Impl::kSpecial);
}

size_t Tokenizer::vocabularySize() const {
  return impl_->distinctTokens;
}
TokenId Tokenizer::idLimit() const {
  return static_cast<TokenId>(impl_->tokenOfId.size());
}
std::optional<TokenId> Tokenizer::bosId() const {
  return impl_->bos;
}
std::optional<TokenId> Tokenizer::eosId() const {
  return impl_->eos;
}
std::span<const TokenId> Tokenizer::specialPrefix() const {
  return impl_->wrapping.prefix;
}
std::span<const TokenId> Tokenizer::specialSuffix() const {
  return impl_->wrapping.suffix;
}
const TokenizerConfig& Tokenizer::config() const {
  return impl_->config;
}

} // namespace fathom::tokenizer
