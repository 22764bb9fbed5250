#include "fathom/runtime/Json.h"

#include "fathom/runtime/Error.h"

#include <fstream>
#include <sstream>
#include <unordered_set>

namespace fathom {
namespace {
using Json = nlohmann::json;

// A SAX consumer that builds the document (or, validating only, just walks it) and rejects a
// key its object already has. nlohmann's own callback parser is no use here: on every closing
// object it rescans the parent for discarded values, which is quadratic in a safetensors
// header's tensor count.
class StrictJsonBuilder final : public nlohmann::json_sax<Json> {
public:
  StrictJsonBuilder(std::string_view where, const JsonOptions& options, bool keepValues,
                    JsonOutline* outline)
      : where_(where), options_(options), keepValues_(keepValues), outline_(outline) {}

  Json takeRoot() { return std::move(root_); }

  bool null() override { return add(Json(nullptr)); }
  bool boolean(bool value) override { return add(Json(value)); }
  bool number_integer(number_integer_t value) override { return add(Json(value)); }
  bool number_unsigned(number_unsigned_t value) override { return add(Json(value)); }
  bool number_float(number_float_t value, const string_t&) override { return add(Json(value)); }
  bool string(string_t& value) override { return add(Json(std::move(value))); }
  bool binary(binary_t& value) override { return add(Json::binary(std::move(value))); }

  bool start_object(std::size_t) override {
    open(Json::object());
    return true;
  }
  bool key(string_t& key) override {
    Frame& frame = frames_.back();
    const size_t depth = frames_.size();
    if (keyPath_.size() < depth)
      keyPath_.resize(depth);
    keyPath_[depth - 1] = key;
    if (options_.duplicates == DuplicateKeys::Reject) {
      const bool repeated =
          frame.value ? frame.value->contains(key) : !frame.keys.insert(key).second;
      if (repeated)
        failDuplicate(depth, key);
    }
    if (depth == 1 && outline_)
      outline_->topLevelKeys.push_back(key);
    slot_ = frame.value ? &(*frame.value)[key] : nullptr;
    return true;
  }
  bool end_object() override {
    frames_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    open(Json::array());
    return true;
  }
  bool end_array() override {
    frames_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& error) override {
    throw Error(singleLine(located("invalid JSON: " + jsonErrorText(error))));
  }

private:
  // An open object or array: where its members go (null when they are not kept) and, for
  // objects not kept, the keys seen so far.
  struct Frame {
    Json* value = nullptr;
    std::unordered_set<std::string> keys;
  };

  // Where the next value goes: the root, the end of the open array, or the slot of the last key.
  Json* place(Json&& value) {
    if (frames_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Json* container = frames_.back().value;
    if (!container)
      return nullptr;
    if (container->is_array()) {
      container->push_back(std::move(value));
      return &container->back();
    }
    *slot_ = std::move(value);
    return slot_;
  }
  bool add(Json&& value) {
    place(std::move(value));
    return true;
  }
  void open(Json&& empty) {
    // nlohmann's dump, comparison and copy recurse once per level: an input may not choose how
    // deep they go.
    if (frames_.size() >= options_.maxDepth)
      throw Error(singleLine(located("JSON nested deeper than " +
                                     std::to_string(options_.maxDepth) + " levels")));
    // Below the top level, a validating parse keeps nothing.
    const bool keep = keepValues_ || frames_.empty();
    Json* value = keep ? place(std::move(empty)) : nullptr;
    frames_.push_back(Frame{value, {}});
  }
  [[noreturn]] void failDuplicate(size_t depth, const std::string& key) const {
    std::string message = "duplicate ";
    if (depth == 1) {
      message += std::string(options_.topLevelKeyNoun) + " \"" + key + "\"";
    } else {
      std::string parent;
      for (size_t i = 0; i + 1 < depth; ++i)
        parent += (i ? "." : "") + keyPath_[i];
      message += "key \"" + key + "\" in \"" + parent + "\"";
    }
    throw Error(singleLine(located(message + " (JSON keys must be unique)")));
  }

  // "<where>: <problem>", or the problem alone where the caller names the place itself.
  std::string located(const std::string& problem) const {
    return where_.empty() ? problem : std::string(where_) + ": " + problem;
  }

  std::string_view where_;
  const JsonOptions& options_;
  bool keepValues_;
  JsonOutline* outline_;
  Json root_;
  std::vector<Frame> frames_;
  Json* slot_ = nullptr;
  std::vector<std::string> keyPath_;
};

Json parse(std::string_view text, std::string_view where, const JsonOptions& options,
           bool keepValues, JsonOutline* outline) {
  StrictJsonBuilder builder(where, options, keepValues, outline);
  Json::sax_parse(text.begin(), text.end(), &builder);
  return builder.takeRoot();
}
} // namespace

Json parseJson(std::string_view text, std::string_view where, const JsonOptions& options) {
  return parse(text, where, options, /*keepValues=*/true, nullptr);
}

Json parseJsonStrict(std::string_view text, std::string_view where,
                     std::string_view topLevelKeyNoun) {
  return parseJson(text, where, JsonOptions{.topLevelKeyNoun = topLevelKeyNoun});
}

Json loadJsonFile(const std::filesystem::path& path, const JsonOptions& options) {
  return parseJson(readTextFile(path, options.maxFileBytes), path.string(), options);
}

JsonOutline validateJsonFile(const std::filesystem::path& path, const JsonOptions& options) {
  JsonOutline outline;
  Json top = parse(readTextFile(path, options.maxFileBytes), path.string(), options,
                   /*keepValues=*/false, &outline);
  outline.isObject = top.is_object();
  return outline;
}

std::string readTextFile(const std::filesystem::path& path, uint64_t maxBytes) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error))
    throw Error(path.string() + ": " +
                (std::filesystem::exists(path, error) ? "not a regular file" : "file not found"));
  const uintmax_t size = std::filesystem::file_size(path, error);
  if (!error && size > maxBytes)
    throw Error(path.string() + ": " + std::to_string(size) + " bytes, more than the " +
                std::to_string(maxBytes) + "-byte limit for this file");
  std::ifstream stream(path, std::ios::binary);
  if (!stream)
    throw Error(path.string() + ": cannot open for reading");
  std::ostringstream contents;
  contents << stream.rdbuf();
  if (stream.bad())
    throw Error(path.string() + ": read error");
  return std::move(contents).str();
}

std::string jsonErrorText(const nlohmann::detail::exception& error) {
  std::string_view text = error.what();
  if (size_t tagEnd = text.find("] "); text.starts_with("[json.exception") && tagEnd != text.npos)
    text.remove_prefix(tagEnd + 2);
  return std::string(text);
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

} // namespace fathom
