#include "AddedVocabulary.h"

#include "fathom/runtime/Error.h"

#include <algorithm>
#include <cstring>
#include <memory>

namespace fathom::tokenizer::detail {

void AddedTokenTrie::insert(std::string_view pattern, uint32_t tokenIndex) {
  if (pattern.empty())
    return; // HF cannot match an empty token either
  uint32_t node = 0;
  for (char c : pattern) {
    auto byte = static_cast<uint8_t>(c);
    uint32_t next = child(node, byte);
    if (next == 0) {
      next = static_cast<uint32_t>(nodes_.size());
      nodes_.emplace_back();
      nodes_[node].children.emplace_back(byte, next);
      if (node == 0) {
        rootChildren_[byte] = next;
        onlyFirstByte_ = ++firstByteCount_ == 1 ? byte : -1;
      }
    }
    node = next;
  }
  // With duplicate contents the first token listed wins, as Aho-Corasick reports the first pattern.
  if (nodes_[node].tokenIndex < 0)
    nodes_[node].tokenIndex = tokenIndex;
}

uint32_t AddedTokenTrie::child(uint32_t node, uint8_t byte) const {
  if (node == 0)
    return rootChildren_[byte];
  for (const auto& [label, next] : nodes_[node].children)
    if (label == byte)
      return next;
  return 0;
}

void AddedTokenTrie::findAll(std::string_view text, std::vector<Match>& matches) const {
  matches.clear();
  if (empty())
    return;
  size_t position = 0;
  while (position < text.size()) {
    if (onlyFirstByte_ >= 0) {
      const void* found =
          std::memchr(text.data() + position, onlyFirstByte_, text.size() - position);
      if (!found)
        return;
      position = static_cast<const char*>(found) - text.data();
    }
    uint32_t node = rootChildren_[static_cast<uint8_t>(text[position])];
    if (node == 0) {
      ++position;
      continue;
    }
    size_t longestEnd = 0;
    int64_t longestToken = -1;
    for (size_t cursor = position + 1;; ++cursor) {
      if (nodes_[node].tokenIndex >= 0) {
        longestEnd = cursor;
        longestToken = nodes_[node].tokenIndex;
      }
      if (cursor >= text.size())
        break;
      node = child(node, static_cast<uint8_t>(text[cursor]));
      if (node == 0)
        break;
    }
    if (longestToken < 0) {
      ++position;
      continue;
    }
    matches.push_back({position, longestEnd, static_cast<uint32_t>(longestToken)});
    position = longestEnd;
  }
}

// HF's word-boundary helpers use the Rust regex crate: \w is Alphabetic, marks, decimal digits,
// connector punctuation and Join_Control; \s is White_Space; $ and ^ anchor the whole text.
struct AddedVocabulary::WordBoundaryRegexes {
  OnigurumaRegex endsWithWordCharacter{R"([\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\x{200C}\x{200D}]\z)",
                                       "added token word boundary"};
  OnigurumaRegex startsWithWordCharacter{R"(\A[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\x{200C}\x{200D}])",
                                         "added token word boundary"};
  OnigurumaRegex trailingWhitespace{R"(\p{White_Space}+\z)", "added token lstrip"};
  OnigurumaRegex leadingWhitespace{R"(\A\p{White_Space}+)", "added token rstrip"};
};

AddedVocabulary AddedVocabulary::fromJson(const Json& addedTokens, std::string_view where) {
  AddedVocabulary vocabulary;
  if (!addedTokens.is_array())
    fail(where, "expected an array, got " + describeJsonType(addedTokens));
  for (size_t i = 0; i < addedTokens.size(); ++i) {
    std::string path = indexPath(where, i);
    const Json& entry = requireObject(addedTokens[i], path);
    AddedToken token;
    token.id = requireUint32(entry, "id", path);
    token.content = requireString(entry, "content", path);
    token.special = optionalBool(entry, "special", false, path);
    token.singleWord = optionalBool(entry, "single_word", false, path);
    token.leftStrip = optionalBool(entry, "lstrip", false, path);
    token.rightStrip = optionalBool(entry, "rstrip", false, path);
    // HF's AddedToken default: special tokens are not normalized, others are.
    token.normalized = optionalBool(entry, "normalized", !token.special, path);
    if (token.content.empty())
      fail(path + ".content", "an added token cannot be empty");
    vocabulary.tokens_.push_back(std::move(token));
  }
  return vocabulary;
}

void AddedVocabulary::buildMatchers(const std::function<std::string(std::string_view)>& normalize) {
  rawTrie_ = AddedTokenTrie();
  normalizedTrie_ = AddedTokenTrie();
  bool needsBoundaries = false;
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& token = tokens_[i];
    needsBoundaries |= token.singleWord || token.leftStrip || token.rightStrip;
    if (!token.normalized)
      rawTrie_.insert(token.content, static_cast<uint32_t>(i));
    else
      normalizedTrie_.insert(normalize ? normalize(token.content) : token.content,
                             static_cast<uint32_t>(i));
  }
  if (needsBoundaries)
    boundaries_ = std::make_shared<const WordBoundaryRegexes>();
}

void AddedVocabulary::split(std::string_view text, bool normalizedSet,
                            std::vector<AddedTokenSplit>& out) const {
  out.clear();
  std::vector<AddedTokenTrie::Match> matches;
  (normalizedSet ? normalizedTrie_ : rawTrie_).findAll(text, matches);
  std::vector<RegexMatch> scratch;
  auto found = [&](const OnigurumaRegex& regex, std::string_view subject) {
    regex.findAll(subject, scratch);
    return !scratch.empty();
  };
  size_t consumed = 0; // HF's start_offset: the end of the previous token
  for (const auto& match : matches) {
    const AddedToken& token = tokens_[match.tokenIndex];
    size_t begin = match.begin, end = match.end;
    if (token.singleWord) {
      bool spaceBefore =
          begin == 0 || !found(boundaries_->endsWithWordCharacter, text.substr(0, begin));
      bool spaceAfter =
          end == text.size() || !found(boundaries_->startsWithWordCharacter, text.substr(end));
      if (!spaceBefore || !spaceAfter)
        continue; // inside a word: not this token, and (like HF) the bytes are not re-scanned
    }
    if (token.leftStrip) {
      boundaries_->trailingWhitespace.findAll(text.substr(0, begin), scratch);
      size_t whitespaceStart = scratch.empty() ? begin : scratch.front().begin;
      // Spaces already swallowed by the previous token stay with it.
      begin = std::max(whitespaceStart, consumed);
    }
    if (token.rightStrip) {
      boundaries_->leadingWhitespace.findAll(text.substr(end), scratch);
      if (!scratch.empty())
        end += scratch.front().end;
    }
    if (consumed < begin)
      out.push_back({std::nullopt, consumed, begin});
    out.push_back({token.id, begin, end});
    consumed = end;
  }
  if (consumed < text.size())
    out.push_back({std::nullopt, consumed, text.size()});
}

} // namespace fathom::tokenizer::detail
