#include "BpeModel.h"

#include "ByteLevel.h"

#include <algorithm>
#include <cstdio>

namespace fathom::tokenizer::detail {
namespace {

// Splits a merge in either format: "left right" (a space-separated string, tokenizers < 0.20) or
// ["left", "right"].
std::pair<std::string_view, std::string_view> mergePair(const MergeEntry& entry,
                                                        std::string_view where) {
  if (entry.isPair)
    return {entry.left, entry.right};
  std::string_view text = entry.left;
  size_t space = text.find(' ');
  if (space == std::string_view::npos || text.find(' ', space + 1) != std::string_view::npos)
    fail(where, "expected \"<left> <right>\" with exactly one space, got \"" + entry.left + "\"");
  return {text.substr(0, space), text.substr(space + 1)};
}

struct MergeSymbol {
  uint32_t id;
  int32_t previous;
  int32_t next;
  bool removed;
};

struct MergeCandidate {
  uint32_t rank;
  uint32_t position;
  uint32_t mergedId;
};

// Orders the heap so that the top is the lowest rank, then the leftmost position (HF's Merge::cmp).
bool laterCandidate(const MergeCandidate& a, const MergeCandidate& b) {
  return a.rank != b.rank ? a.rank > b.rank : a.position > b.position;
}

} // namespace

BpeModel::BpeModel(BpeModel&& other) noexcept
    : tokenOfId_(std::move(other.tokenOfId_)), idPresent_(std::move(other.idPresent_)),
      idOfToken_(std::move(other.idOfToken_)), vocabularySize_(other.vocabularySize_),
      merges_(std::move(other.merges_)), byteSymbolId_(other.byteSymbolId_),
      unknownId_(other.unknownId_), fuseUnknown_(other.fuseUnknown_),
      byteFallback_(other.byteFallback_), ignoreMerges_(other.ignoreMerges_) {
  idOfToken_.rebind(tokenOfId_);
}

BpeModel& BpeModel::operator=(BpeModel&& other) noexcept {
  tokenOfId_ = std::move(other.tokenOfId_);
  idPresent_ = std::move(other.idPresent_);
  idOfToken_ = std::move(other.idOfToken_);
  idOfToken_.rebind(tokenOfId_);
  vocabularySize_ = other.vocabularySize_;
  merges_ = std::move(other.merges_);
  byteSymbolId_ = other.byteSymbolId_;
  unknownId_ = other.unknownId_;
  fuseUnknown_ = other.fuseUnknown_;
  byteFallback_ = other.byteFallback_;
  ignoreMerges_ = other.ignoreMerges_;
  cache_.clear();
  return *this;
}

BpeModel BpeModel::fromJson(const Json& model, ModelTables& tables, std::string_view where) {
  requireObject(model, where);
  std::string type = optionalString(model, "type", where).value_or("BPE");
  if (type != "BPE")
    fail(fieldPath(where, "type"),
         "model type \"" + type + "\" is not supported by Fathom (supported: BPE)");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (auto value = optionalString(model, key, where); value && !value->empty())
      fail(fieldPath(where, key), "BPE with a " + std::string(key) +
                                      " is not supported by Fathom (byte-level BPE has none)");
  if (const Json* dropout = optionalMember(model, "dropout"))
    if (!dropout->is_number() || dropout->get<double>() != 0.0)
      fail(fieldPath(where, "dropout"), "BPE dropout is random and not supported for inference");

  BpeModel bpe;
  bpe.fuseUnknown_ = optionalBool(model, "fuse_unk", false, where);
  bpe.byteFallback_ = optionalBool(model, "byte_fallback", false, where);
  bpe.ignoreMerges_ = optionalBool(model, "ignore_merges", false, where);

  std::string vocabPath = fieldPath(where, "vocab");
  std::string mergesPath = fieldPath(where, "merges");
  // The reader streams vocab and merges out of the tree; whatever is left there was malformed.
  if (!tables.sawVocab) {
    const Json* vocab = optionalMember(model, "vocab");
    fail(vocabPath, vocab ? "expected an object, got " + describeJsonType(*vocab) : "missing");
  }
  if (!tables.sawMerges) {
    const Json* merges = optionalMember(model, "merges");
    fail(mergesPath, merges ? "expected an array, got " + describeJsonType(*merges) : "missing");
  }
  uint32_t limit = 0;
  for (const auto& [token, id] : tables.vocab) {
    if (id >= idBound(tables.vocab.size()))
      fail(fieldPath(vocabPath, token), "id " + std::to_string(id) + " is far past the " +
                                            std::to_string(tables.vocab.size()) +
                                            " tokens of model.vocab (ids must be below " +
                                            std::to_string(idBound(tables.vocab.size())) + ")");
    limit = std::max(limit, id + 1);
  }
  bpe.tokenOfId_.resize(limit);
  bpe.idPresent_.assign(limit, false);
  for (auto& [token, id] : tables.vocab) {
    if (bpe.idPresent_[id])
      fail(vocabPath, "id " + std::to_string(id) + " is used by two tokens (\"" +
                          bpe.tokenOfId_[id] + "\" and \"" + token + "\")");
    bpe.tokenOfId_[id] = std::move(token);
    bpe.idPresent_[id] = true;
  }
  bpe.vocabularySize_ = tables.vocab.size();
  if (int64_t repeated = bpe.idOfToken_.build(bpe.tokenOfId_, bpe.idPresent_); repeated >= 0)
    fail(vocabPath, "token \"" + bpe.tokenOfId_[repeated] + "\" appears twice");

  bpe.merges_.reserve(tables.merges.size());
  for (size_t rank = 0; rank < tables.merges.size(); ++rank) {
    std::string path = indexPath(mergesPath, rank);
    auto [left, right] = mergePair(tables.merges[rank], path);
    int64_t leftId = bpe.idOfToken_.find(left);
    int64_t rightId = bpe.idOfToken_.find(right);
    int64_t mergedId = bpe.idOfToken_.findJoined(left, right);
    if (leftId < 0 || rightId < 0 || mergedId < 0) {
      std::string missing(leftId < 0 ? left : rightId < 0 ? right : std::string_view());
      if (missing.empty())
        missing.append(left).append(right);
      fail(path, "merge of \"" + std::string(left) + "\" and \"" + std::string(right) +
                     "\" refers to a token missing from model.vocab (\"" + missing + "\")");
    }
    bpe.merges_.insertOrAssign(static_cast<uint32_t>(leftId), static_cast<uint32_t>(rightId),
                               {static_cast<uint32_t>(rank), static_cast<uint32_t>(mergedId)});
  }
  tables = {};

  if (auto unknown = optionalString(model, "unk_token", where)) {
    bpe.unknownId_ = bpe.tokenToId(*unknown);
    if (!bpe.unknownId_)
      fail(fieldPath(where, "unk_token"), "\"" + *unknown + "\" is not in model.vocab");
  }
  for (unsigned byte = 0; byte < 256; ++byte) {
    auto id = bpe.tokenToId(byteLevelSpelling(static_cast<uint8_t>(byte)));
    bpe.byteSymbolId_[byte] = id ? static_cast<int64_t>(*id) : -1;
  }
  return bpe;
}

std::optional<uint32_t> BpeModel::tokenToId(std::string_view token) const {
  int64_t id = idOfToken_.find(token);
  if (id < 0)
    return std::nullopt;
  return static_cast<uint32_t>(id);
}

const std::string* BpeModel::idToToken(uint32_t id) const {
  if (id >= tokenOfId_.size() || !idPresent_[id])
    return nullptr;
  return &tokenOfId_[id];
}

void BpeModel::initialSymbols(std::string_view piece, bool byteLevel,
                              std::vector<uint32_t>& symbols) const {
  symbols.clear();
  // A run of characters missing from the vocabulary: HF emits unk once per character, or once per
  // run with fuse_unk; without an unk token they are dropped.
  bool pendingUnknown = false;
  auto flushUnknown = [&] {
    if (pendingUnknown)
      symbols.push_back(*unknownId_);
    pendingUnknown = false;
  };
  auto addUnknown = [&](std::string_view spelling) {
    if (byteFallback_) {
      std::vector<uint32_t> byteIds;
      for (char c : spelling) {
        char name[8];
        std::snprintf(name, sizeof(name), "<0x%02X>", static_cast<unsigned char>(c));
        if (auto id = tokenToId(name))
          byteIds.push_back(*id);
        else
          break;
      }
      if (byteIds.size() == spelling.size()) {
        flushUnknown();
        symbols.insert(symbols.end(), byteIds.begin(), byteIds.end());
        return;
      }
    }
    if (!unknownId_)
      return;
    if (!fuseUnknown_)
      flushUnknown();
    pendingUnknown = true;
  };
  size_t offset = 0;
  while (offset < piece.size()) {
    if (byteLevel) {
      auto byte = static_cast<uint8_t>(piece[offset++]);
      if (byteSymbolId_[byte] >= 0) {
        flushUnknown();
        symbols.push_back(static_cast<uint32_t>(byteSymbolId_[byte]));
      } else {
        addUnknown(byteLevelSpelling(byte));
      }
      continue;
    }
    size_t begin = offset++;
    while (offset < piece.size() && (static_cast<unsigned char>(piece[offset]) & 0xC0) == 0x80)
      ++offset;
    std::string_view character = piece.substr(begin, offset - begin);
    if (auto id = tokenToId(character)) {
      flushUnknown();
      symbols.push_back(*id);
    } else {
      addUnknown(character);
    }
  }
  flushUnknown();
}

void BpeModel::mergeSymbols(std::vector<uint32_t>& ids) const {
  if (ids.size() < 2)
    return;
  thread_local std::vector<MergeSymbol> symbols;
  thread_local std::vector<MergeCandidate> heap;
  symbols.clear();
  heap.clear();
  for (size_t i = 0; i < ids.size(); ++i)
    symbols.push_back({ids[i], static_cast<int32_t>(i) - 1,
                       i + 1 < ids.size() ? static_cast<int32_t>(i + 1) : -1, false});
  for (size_t i = 0; i + 1 < ids.size(); ++i)
    if (const MergeResult* merge = merges_.find(ids[i], ids[i + 1]))
      heap.push_back({merge->rank, static_cast<uint32_t>(i), merge->mergedId});
  std::make_heap(heap.begin(), heap.end(), laterCandidate);

  auto push = [&](uint32_t position, const MergeResult& merge) {
    heap.push_back({merge.rank, position, merge.mergedId});
    std::push_heap(heap.begin(), heap.end(), laterCandidate);
  };
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), laterCandidate);
    MergeCandidate top = heap.back();
    heap.pop_back();
    MergeSymbol& symbol = symbols[top.position];
    if (symbol.removed || symbol.next < 0)
      continue;
    MergeSymbol& right = symbols[symbol.next];
    // Entries go stale when a neighbour merged first; only act if the pair still merges this way.
    const MergeResult* current = merges_.find(symbol.id, right.id);
    if (!current || current->mergedId != top.mergedId)
      continue;
    symbol.id = top.mergedId;
    right.removed = true;
    symbol.next = right.next;
    if (right.next >= 0)
      symbols[right.next].previous = static_cast<int32_t>(top.position);
    if (symbol.previous >= 0)
      if (const MergeResult* merge = merges_.find(symbols[symbol.previous].id, symbol.id))
        push(static_cast<uint32_t>(symbol.previous), *merge);
    if (symbol.next >= 0)
      if (const MergeResult* merge = merges_.find(symbol.id, symbols[symbol.next].id))
        push(top.position, *merge);
  }
  ids.clear();
  for (const MergeSymbol& symbol : symbols)
    if (!symbol.removed)
      ids.push_back(symbol.id);
}

void BpeModel::encodePiece(std::string_view piece, bool byteLevel,
                           std::vector<uint32_t>& out) const {
  if (piece.size() == 1 && byteLevel && byteSymbolId_[static_cast<uint8_t>(piece[0])] >= 0) {
    // One byte cannot merge with anything (the most common piece after punctuation splits).
    out.push_back(static_cast<uint32_t>(byteSymbolId_[static_cast<uint8_t>(piece[0])]));
    return;
  }
  if (cache_.lookup(piece, out))
    return;
  thread_local std::vector<uint32_t> ids;
  std::optional<uint32_t> whole;
  if (ignoreMerges_) {
    // HF looks the whole (byte-mapped) piece up before merging.
    if (!byteLevel) {
      whole = tokenToId(piece);
    } else {
      std::string spelled;
      for (char c : piece)
        spelled += byteLevelSpelling(static_cast<uint8_t>(c));
      whole = tokenToId(spelled);
    }
  }
  if (whole) {
    ids.assign(1, *whole);
  } else {
    initialSymbols(piece, byteLevel, ids);
    mergeSymbols(ids);
  }
  out.insert(out.end(), ids.begin(), ids.end());
  cache_.insert(piece, ids);
}

} // namespace fathom::tokenizer::detail
