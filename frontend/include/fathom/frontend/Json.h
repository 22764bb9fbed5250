#pragma once
// Strict JSON reading for checkpoint files. nlohmann::json keeps the last of two duplicate keys
// without a word; a checkpoint whose header or config names a key twice is ambiguous, so every
// JSON the frontend reads goes through here and duplicates are errors.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::frontend {

// Parses `text`; throws fathom::Error prefixed with `where` for malformed JSON or a duplicate
// key. `topLevelKeyNoun` names top-level keys in the duplicate message ("tensor name").
nlohmann::json parseJsonStrict(std::string_view text, std::string_view where,
                               std::string_view topLevelKeyNoun = "key");

// Reads and parses a whole file with parseJsonStrict; errors name the file.
nlohmann::json loadJsonFile(const std::filesystem::path& path);

// What validateJsonFile keeps of a document: its top-level shape, not its contents.
struct JsonOutline {
  bool isObject = false;
  std::vector<std::string> topLevelKeys;
};

// Checks a file is well-formed JSON without duplicate keys, without building the document
// (tokenizer.json holds megabytes of vocabulary that only the tokenizer needs).
JsonOutline validateJsonFile(const std::filesystem::path& path);

// Reads a whole file; throws fathom::Error naming it when that fails.
std::string readTextFile(const std::filesystem::path& path);

// An integer >= 0, whether nlohmann stored it signed (built in C++) or unsigned (parsed).
bool isNonNegativeInteger(const nlohmann::json& value);

// A short, single-line rendering of a JSON value for error messages ("got \"abc\"").
std::string describeJsonValue(const nlohmann::json& value);

// Replaces control characters so that a message stays on one line.
std::string singleLine(std::string_view text);

} // namespace fathom::frontend
