#pragma once
// Reads tokenizer.json in one streaming pass. model.vocab (128k entries for DeepSeek-V3) and
// model.merges (127k) go straight into flat vectors; everything else becomes an ordinary JSON tree.
// Building nlohmann's tree for the vocabulary (a std::map with a node per token) and tearing it
// down again was two thirds of the load time.
#include "JsonFields.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::tokenizer::detail {

// One merge as written: "left right" (text, split later so errors can name the entry) or a
// [left, right] pair.
struct MergeEntry {
  std::string left; // the whole "left right" string when !isPair
  std::string right;
  bool isPair = false;
};

struct ModelTables {
  bool sawVocab = false;
  bool sawMerges = false;
  std::vector<std::pair<std::string, uint32_t>> vocab;
  std::vector<MergeEntry> merges;
};

struct TokenizerJson {
  Json tree;          // the document without model.vocab and model.merges
  ModelTables tables; // those two, streamed
};

// Parses tokenizer.json text; `name` prefixes error messages.
TokenizerJson readTokenizerJson(std::string_view text, std::string_view name);

} // namespace fathom::tokenizer::detail
