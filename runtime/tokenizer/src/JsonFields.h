#pragma once
// Reading tokenizer.json / tokenizer_config.json fields with errors that name the file and the
// field path ("tokenizer.json: model.merges[12]: expected a string"). Every function takes `where`,
// the path of the object being read, so nested readers can build precise messages. The path of a
// file's root object is "<file>: " (trailing space), e.g. "tokenizer.json: ".
#include "fathom/runtime/Json.h"

#include <optional>
#include <string>
#include <string_view>

namespace fathom::tokenizer::detail {

using Json = nlohmann::json;

// HF reads these files with serde (tokenizer.json) and Python's json (the configs): the last of
// two duplicate keys wins. tokenizer.json of a large vocabulary is tens of MB.
inline constexpr JsonOptions kTokenizerJson{.duplicates = DuplicateKeys::KeepLast,
                                            .maxFileBytes = uint64_t(512) << 20};

// Throws fathom::Error("<where>: <problem>").
[[noreturn]] void fail(std::string_view where, std::string_view problem);

// "<where>.<key>", or "<where>[<index>]".
std::string fieldPath(std::string_view where, std::string_view key);
std::string indexPath(std::string_view where, size_t index);

// The JSON type spelled for error messages ("null", "a string", "an array", ...).
std::string describeJsonType(const Json& value);

// Throws unless `value` is an object.
const Json& requireObject(const Json& value, std::string_view where);
// The member `key` of `object`; throws when absent.
const Json& requireMember(const Json& object, std::string_view key, std::string_view where);
// The member `key`, or nullptr when absent or null.
const Json* optionalMember(const Json& object, std::string_view key);

std::string requireString(const Json& object, std::string_view key, std::string_view where);
std::optional<std::string> optionalString(const Json& object, std::string_view key,
                                          std::string_view where);
bool optionalBool(const Json& object, std::string_view key, bool defaultValue,
                  std::string_view where);
uint32_t requireUint32(const Json& object, std::string_view key, std::string_view where);

// Id tables are indexed by id, so no id may lie so far past the tokens a file defines that the
// tables outgrow the file: ids stay below 2 x tokens + 1024 (real vocabularies are dense).
inline uint64_t idBound(uint64_t tokenCount) {
  return 2 * tokenCount + 1024;
}

// Reads a whole JSON file, throwing fathom::Error naming the file on I/O or parse errors.
Json readJsonFile(const std::string& path);

} // namespace fathom::tokenizer::detail
