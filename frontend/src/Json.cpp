#include "fathom/frontend/Json.h"

#include "fathom/runtime/Error.h"

#include <fstream>
#include <sstream>
#include <unordered_set>

namespace fathom::frontend {
namespace {
using Json = nlohmann::json;

// Tracks the keys of every open object so that a repeated key is caught as it is read.
class DuplicateKeyTracker {
public:
  DuplicateKeyTracker(std::string_view where, std::string_view topLevelKeyNoun)
      : where_(where), topLevelKeyNoun_(topLevelKeyNoun) {}

  void onEvent(int depth, Json::parse_event_t event, const Json& parsed) {
    switch (event) {
    case Json::parse_event_t::object_start:
      openObjects_.emplace_back();
      break;
    case Json::parse_event_t::object_end:
      openObjects_.pop_back();
      break;
    case Json::parse_event_t::key:
      onKey(size_t(depth), parsed.get_ref<const std::string&>());
      break;
    default:
      break;
    }
  }

private:
  void onKey(size_t depth, const std::string& key) {
    if (keyPath_.size() < depth)
      keyPath_.resize(depth);
    keyPath_[depth - 1] = key;
    if (openObjects_.back().insert(key).second)
      return;
    std::string message = std::string(where_) + ": duplicate ";
    if (depth == 1) {
      message += std::string(topLevelKeyNoun_) + " \"" + key + "\"";
    } else {
      std::string parent;
      for (size_t i = 0; i + 1 < depth; ++i)
        parent += (i ? "." : "") + keyPath_[i];
      message += "key \"" + key + "\" in \"" + parent + "\"";
    }
    throw Error(singleLine(message + " (JSON keys must be unique)"));
  }

  std::string_view where_;
  std::string_view topLevelKeyNoun_;
  std::vector<std::unordered_set<std::string>> openObjects_;
  std::vector<std::string> keyPath_;
};

std::string parseErrorText(const Json::parse_error& error) {
  // Drop nlohmann's "[json.exception.parse_error.101] " tag: it means nothing to a user.
  std::string_view text = error.what();
  if (size_t tagEnd = text.find("] "); text.starts_with("[json.exception") && tagEnd != text.npos)
    text.remove_prefix(tagEnd + 2);
  return std::string(text);
}

// One parser for both uses: `keepValues` false discards every value below the top level, so
// validating a 10 MB tokenizer.json costs its key sets, not a document tree.
Json parse(std::string_view text, std::string_view where, std::string_view topLevelKeyNoun,
           bool keepValues, JsonOutline* outline) {
  DuplicateKeyTracker tracker(where, topLevelKeyNoun);
  auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) {
    tracker.onEvent(depth, event, parsed);
    if (event == Json::parse_event_t::key && depth == 1 && outline)
      outline->topLevelKeys.push_back(parsed.get<std::string>());
    return keepValues || depth == 0 || event != Json::parse_event_t::key;
  };
  try {
    return Json::parse(text.begin(), text.end(), callback);
  } catch (const Json::parse_error& error) {
    throw Error(singleLine(std::string(where) + ": invalid JSON: " + parseErrorText(error)));
  }
}
} // namespace

Json parseJsonStrict(std::string_view text, std::string_view where,
                     std::string_view topLevelKeyNoun) {
  return parse(text, where, topLevelKeyNoun, /*keepValues=*/true, nullptr);
}

Json loadJsonFile(const std::filesystem::path& path) {
  return parseJsonStrict(readTextFile(path), path.string());
}

JsonOutline validateJsonFile(const std::filesystem::path& path) {
  JsonOutline outline;
  Json top = parse(readTextFile(path), path.string(), "key", /*keepValues=*/false, &outline);
  outline.isObject = top.is_object();
  return outline;
}

std::string readTextFile(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error))
    throw Error(path.string() + ": " +
                (std::filesystem::exists(path, error) ? "not a regular file" : "file not found"));
  std::ifstream stream(path, std::ios::binary);
  if (!stream)
    throw Error(path.string() + ": cannot open for reading");
  std::ostringstream contents;
  contents << stream.rdbuf();
  if (stream.bad())
    throw Error(path.string() + ": read error");
  return std::move(contents).str();
}

bool isNonNegativeInteger(const Json& value) {
  return value.is_number_unsigned() || (value.is_number_integer() && value.get<int64_t>() >= 0);
}

std::string describeJsonValue(const Json& value) {
  constexpr size_t kMaxLength = 60;
  std::string text = value.dump(-1, ' ', /*ensure_ascii=*/true, Json::error_handler_t::replace);
  if (text.size() > kMaxLength)
    text = text.substr(0, kMaxLength) + "...";
  return text;
}

std::string singleLine(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string line;
  line.reserve(text.size());
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) {
      line += c;
    } else {
      line += "\\x";
      line += kHex[byte >> 4];
      line += kHex[byte & 0xf];
    }
  }
  return line;
}

} // namespace fathom::frontend
