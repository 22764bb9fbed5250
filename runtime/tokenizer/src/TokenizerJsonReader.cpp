#include "TokenizerJsonReader.h"

#include "fathom/runtime/Error.h"

#include <limits>

namespace fathom::tokenizer::detail {
namespace {

// An nlohmann SAX handler that builds the tree like nlohmann's own DOM parser, except inside
// model.vocab and model.merges.
class TokenizerJsonHandler : public nlohmann::json_sax<Json> {
public:
  explicit TokenizerJsonHandler(std::string_view name) : root_(std::string(name) + ": ") {}

  TokenizerJson result;
  std::string error;

  bool null() override { return value(Json(nullptr)); }
  bool boolean(bool flag) override { return value(Json(flag)); }
  bool number_integer(number_integer_t number) override { return value(Json(number)); }
  bool number_unsigned(number_unsigned_t number) override {
    if (mode_ == Mode::Vocab) {
      if (number > std::numeric_limits<int32_t>::max())
        return fail(fieldPath(vocabPath(), key_), "id " + std::to_string(number) + " is too large");
      result.tables.vocab.emplace_back(std::move(key_), static_cast<uint32_t>(number));
      return true;
    }
    return value(Json(number));
  }
  bool number_float(number_float_t number, const string_t&) override { return value(Json(number)); }
  bool string(string_t& text) override {
    if (mode_ == Mode::Merges) {
      result.tables.merges.push_back({std::move(text), {}, false});
      return true;
    }
    if (mode_ == Mode::MergePair) {
      pairParts_.push_back(std::move(text));
      return true;
    }
    return value(Json(std::move(text)));
  }
  bool binary(binary_t&) override { return fail(root_, "unexpected binary value"); }

  bool start_object(std::size_t) override {
    if (mode_ == Mode::Dom && atModelMember("vocab")) {
      mode_ = Mode::Vocab;
      result.tables.sawVocab = true;
      return true;
    }
    if (mode_ != Mode::Dom)
      return unexpected("an object");
    return push(Json::object());
  }
  bool key(string_t& name) override {
    if (mode_ == Mode::Vocab) {
      key_ = std::move(name);
      return true;
    }
    Json& object = *stack_.back();
    keys_.back() = name;
    slot_ = &object[name];
    return true;
  }
  bool end_object() override {
    if (mode_ == Mode::Vocab) {
      mode_ = Mode::Dom;
      return true;
    }
    return pop();
  }
  bool start_array(std::size_t) override {
    if (mode_ == Mode::Dom && atModelMember("merges")) {
      mode_ = Mode::Merges;
      result.tables.sawMerges = true;
      return true;
    }
    if (mode_ == Mode::Merges) {
      mode_ = Mode::MergePair;
      pairParts_.clear();
      return true;
    }
    if (mode_ != Mode::Dom)
      return unexpected("an array");
    return push(Json::array());
  }
  bool end_array() override {
    if (mode_ == Mode::MergePair) {
      mode_ = Mode::Merges;
      if (pairParts_.size() != 2)
        return fail(indexPath(mergesPath(), result.tables.merges.size()),
                    "expected a [left, right] pair of strings");
      result.tables.merges.push_back({std::move(pairParts_[0]), std::move(pairParts_[1]), true});
      return true;
    }
    if (mode_ == Mode::Merges) {
      mode_ = Mode::Dom;
      return true;
    }
    return pop();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error = singleLine(root_ + "invalid JSON: " + jsonErrorText(e));
    return false;
  }

private:
  enum class Mode { Dom, Vocab, Merges, MergePair };

  std::string vocabPath() const { return root_ + "model.vocab"; }
  std::string mergesPath() const { return root_ + "model.merges"; }

  // True when the value about to start is root["model"][member].
  bool atModelMember(std::string_view member) const {
    return stack_.size() == 2 && keys_[0] == "model" && keys_[1] == member;
  }

  bool unexpected(const std::string& what) {
    if (mode_ == Mode::Vocab)
      return fail(fieldPath(vocabPath(), key_), "expected a non-negative integer id, got " + what);
    return fail(indexPath(mergesPath(), result.tables.merges.size()),
                "expected a \"<left> <right>\" string or a [left, right] pair, got " + what);
  }

  bool fail(const std::string& where, const std::string& problem) {
    error = where + ": " + problem;
    return false;
  }

  // Stores a scalar where the tree expects the next value.
  bool value(Json&& scalar) {
    if (mode_ == Mode::Vocab)
      return unexpected(describeJsonType(scalar));
    if (mode_ != Mode::Dom)
      return unexpected(describeJsonType(scalar));
    place(std::move(scalar));
    return true;
  }

  Json* place(Json&& value) {
    if (stack_.empty()) {
      result.tree = std::move(value);
      return &result.tree;
    }
    Json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    *slot_ = std::move(value);
    return slot_;
  }

  bool push(Json&& container) {
    if (stack_.size() >= kTokenizerJson.maxDepth)
      return fail(root_.substr(0, root_.size() - 2),
                  "JSON nested deeper than " + std::to_string(kTokenizerJson.maxDepth) + " levels");
    stack_.push_back(place(std::move(container)));
    keys_.emplace_back();
    return true;
  }

  bool pop() {
    stack_.pop_back();
    keys_.pop_back();
    return true;
  }

  std::string root_;
  Mode mode_ = Mode::Dom;
  std::vector<Json*> stack_;
  std::vector<std::string> keys_; // the key being filled at each open object
  Json* slot_ = nullptr;
  std::string key_; // current vocabulary token
  std::vector<std::string> pairParts_;
};

} // namespace

TokenizerJson readTokenizerJson(std::string_view text, std::string_view name) {
  TokenizerJsonHandler handler(name);
  handler.result.tables.vocab.reserve(1 << 17);
  handler.result.tables.merges.reserve(1 << 17);
  bool ok = Json::sax_parse(text, &handler);
  if (!ok || !handler.error.empty())
    throw Error(handler.error.empty() ? std::string(name) + ": invalid JSON" : handler.error);
  return std::move(handler.result);
}

} // namespace fathom::tokenizer::detail
