#include "Normalizer.h"

namespace fathom::tokenizer::detail {
namespace {

class SequenceNormalizer final : public Normalizer {
public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps)
      : steps_(std::move(steps)) {}
  std::string normalize(std::string_view text) const override {
    std::string current(text);
    for (const auto& step : steps_)
      current = step->normalize(current);
    return current;
  }

private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

// Replace: every match of a literal or regex pattern becomes `content`.
class ReplaceNormalizer final : public Normalizer {
public:
  ReplaceNormalizer(OnigurumaRegex pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  std::string normalize(std::string_view text) const override {
    std::vector<RegexMatch> matches;
    pattern_.findAll(text, matches);
    std::string out;
    size_t copied = 0;
    for (const auto& match : matches) {
      out.append(text.substr(copied, match.begin - copied));
      out += content_;
      copied = match.end;
    }
    out.append(text.substr(copied));
    return out;
  }

private:
  OnigurumaRegex pattern_;
  std::string content_;
};

// Prepend: HF adds the prefix only to non-empty text.
class PrependNormalizer final : public Normalizer {
public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  std::string normalize(std::string_view text) const override {
    return text.empty() ? std::string() : prefix_ + std::string(text);
  }

private:
  std::string prefix_;
};

} // namespace

std::unique_ptr<Normalizer> parseNormalizer(const Json& json, std::string_view where) {
  if (json.is_null())
    return nullptr;
  std::string type = requireString(json, "type", where);
  if (type == "Sequence") {
    const Json& list = requireMember(json, "normalizers", where);
    std::string listPath = fieldPath(where, "normalizers");
    if (!list.is_array())
      fail(listPath, "expected an array, got " + describeJsonType(list));
    std::vector<std::unique_ptr<Normalizer>> steps;
    for (size_t i = 0; i < list.size(); ++i)
      if (auto step = parseNormalizer(list[i], indexPath(listPath, i)))
        steps.push_back(std::move(step));
    if (steps.empty())
      return nullptr;
    if (steps.size() == 1)
      return std::move(steps.front());
    return std::make_unique<SequenceNormalizer>(std::move(steps));
  }
  if (type == "Replace")
    return std::make_unique<ReplaceNormalizer>(
        parsePattern(requireMember(json, "pattern", where), fieldPath(where, "pattern")),
        requireString(json, "content", where));
  if (type == "Prepend")
    return std::make_unique<PrependNormalizer>(requireString(json, "prepend", where));
  fail(fieldPath(where, "type"),
       "normalizer \"" + type +
           "\" is not supported by Fathom (supported: Sequence, Replace, Prepend)");
}

} // namespace fathom::tokenizer::detail
