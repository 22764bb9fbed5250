#pragma once
// JSON reading for every file Fathom takes from outside (config, safetensors headers, index,
// tokenizer, generation and processor configs, JSONL input). nlohmann::json keeps the last of
// two duplicate keys without a word, and its dump, copy and comparison recurse once per level;
// so every such parse goes through here: duplicates are errors unless a format says otherwise,
// nesting is bounded, and files have a size limit.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace fathom {

enum class DuplicateKeys {
  Reject,  // a checkpoint whose header or config names a key twice is ambiguous
  KeepLast // what Python's json and serde maps do (tokenizer files, read as HF reads them)
};

struct JsonOptions {
  DuplicateKeys duplicates = DuplicateKeys::Reject;
  // serde_json's recursion limit: HF's tokenizers refuse anything deeper, and no config nests
  // more than a few levels.
  size_t maxDepth = 128;
  // Whole-file reads; tokenizer.json of a real model is a few MB.
  uint64_t maxFileBytes = uint64_t(64) << 20;
  // Names top-level keys in the duplicate message ("tensor name").
  std::string_view topLevelKeyNoun = "key";
};

// Parses `text`; throws fathom::Error prefixed with `where` (when not empty) for malformed JSON
// (numbers that overflow a double included), a duplicate key or nesting past the limit.
nlohmann::json parseJson(std::string_view text, std::string_view where,
                         const JsonOptions& options = {});
// parseJson with duplicate keys rejected.
nlohmann::json parseJsonStrict(std::string_view text, std::string_view where,
                               std::string_view topLevelKeyNoun = "key");

// Reads and parses a whole file; errors name the file.
nlohmann::json loadJsonFile(const std::filesystem::path& path, const JsonOptions& options = {});

// What validateJsonFile keeps of a document: its top-level shape, not its contents.
struct JsonOutline {
  bool isObject = false;
  std::vector<std::string> topLevelKeys;
};

// Checks a file is well-formed JSON within the options' limits, without building the document
// (tokenizer.json holds megabytes of vocabulary that only the tokenizer needs).
JsonOutline validateJsonFile(const std::filesystem::path& path, const JsonOptions& options = {});

// Reads a whole regular file of at most maxBytes; throws fathom::Error naming it otherwise.
std::string readTextFile(const std::filesystem::path& path,
                         uint64_t maxBytes = JsonOptions{}.maxFileBytes);

// nlohmann's message without its "[json.exception.parse_error.101] " tag, which means nothing
// to a user.
std::string jsonErrorText(const nlohmann::detail::exception& error);

// An integer >= 0, whether nlohmann stored it signed (built in C++) or unsigned (parsed).
bool isNonNegativeInteger(const nlohmann::json& value);

// A short, single-line rendering of a JSON value for error messages ("got \"abc\"").
std::string describeJsonValue(const nlohmann::json& value);

// Replaces control characters so that a message stays on one line.
std::string singleLine(std::string_view text);

} // namespace fathom
