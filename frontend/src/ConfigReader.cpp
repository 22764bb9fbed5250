#include "ConfigReader.h"

#include "fathom/frontend/Json.h"
#include "fathom/runtime/Error.h"

#include <cmath>
#include <sstream>

namespace fathom::frontend {
namespace {
using Json = nlohmann::json;

std::string formatNumber(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}
} // namespace

std::string IntRange::describe() const {
  constexpr int64_t kNoMax = std::numeric_limits<int64_t>::max();
  if (min == 1 && max == kNoMax)
    return "a positive integer";
  if (max == kNoMax)
    return "an integer >= " + std::to_string(min);
  return "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
}

std::string NumberRange::describe() const {
  if (std::isinf(min) && std::isinf(max))
    return "a number";
  if (std::isinf(max))
    return std::string("a number ") + (minExclusive ? "> " : ">= ") + formatNumber(min);
  return "a number in " + std::string(minExclusive ? "(" : "[") + formatNumber(min) + ", " +
         formatNumber(max) + "]";
}

ConfigReader::ConfigReader(const Json& object, std::string where)
    : object_(object), where_(std::move(where)) {
  if (!object_.is_object())
    throw Error(singleLine(where_ + ": must be a JSON object, got " + describeJsonValue(object_)));
}

const Json* ConfigReader::find(std::string_view key) const {
  auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

bool ConfigReader::has(std::string_view key) const {
  const Json* value = find(key);
  return value && !value->is_null();
}

void ConfigReader::fail(std::string_view key, const std::string& problem) const {
  throw Error(singleLine(where_ + ": \"" + std::string(key) + "\" " + problem));
}

void ConfigReader::failRelation(const std::string& problem) const {
  throw Error(singleLine(where_ + ": " + problem));
}

int64_t ConfigReader::checkedInteger(std::string_view key, const Json& value,
                                     IntRange range) const {
  // JSON has one number type; HF's strict configs reject 4096.0 for an int field, so do we.
  bool isInteger = value.is_number_integer();
  if (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t(range.max))
    isInteger = false;
  if (!isInteger || value.get<int64_t>() < range.min || value.get<int64_t>() > range.max)
    fail(key, "must be " + range.describe() + ", got " + describeJsonValue(value));
  return value.get<int64_t>();
}

int64_t ConfigReader::integer(std::string_view key, IntRange range) const {
  const Json* value = find(key);
  if (!value)
    throw Error(where_ + ": missing required key \"" + std::string(key) + "\" (" +
                range.describe() + ")");
  return checkedInteger(key, *value, range);
}

int64_t ConfigReader::integerOr(std::string_view key, int64_t fallback, IntRange range) const {
  const Json* value = find(key);
  return value ? checkedInteger(key, *value, range) : fallback;
}

std::optional<int64_t> ConfigReader::nullableInteger(std::string_view key,
                                                     std::optional<int64_t> fallback,
                                                     IntRange range) const {
  const Json* value = find(key);
  if (!value)
    return fallback;
  if (value->is_null())
    return std::nullopt;
  return checkedInteger(key, *value, range);
}

std::optional<double> ConfigReader::optionalNumber(std::string_view key, NumberRange range) const {
  const Json* value = find(key);
  if (!value || value->is_null())
    return std::nullopt;
  bool inRange = value->is_number();
  if (inRange) {
    double number = value->get<double>();
    inRange = std::isfinite(number) &&
              (range.minExclusive ? number > range.min : number >= range.min) &&
              number <= range.max;
  }
  if (!inRange)
    fail(key, "must be " + range.describe() + ", got " + describeJsonValue(*value));
  return value->get<double>();
}

std::vector<double> ConfigReader::numberList(std::string_view key, size_t count,
                                             NumberRange range) const {
  const Json* value = find(key);
  const std::string expected =
      "a list of " + std::to_string(count) + " numbers, each " + range.describe();
  if (!value)
    throw Error(where_ + ": missing required key \"" + std::string(key) + "\" (" + expected + ")");
  if (!value->is_array() || value->size() != count)
    fail(key, "must be " + expected + ", got " + describeJsonValue(*value));
  std::vector<double> numbers;
  for (const Json& item : *value) {
    double number = item.is_number() ? item.get<double>() : 0.0;
    if (!item.is_number() || !std::isfinite(number) ||
        !(range.minExclusive ? number > range.min : number >= range.min) || number > range.max)
      fail(key, "must be " + expected + ", got " + describeJsonValue(item) + " at index " +
                    std::to_string(numbers.size()));
    numbers.push_back(number);
  }
  return numbers;
}

double ConfigReader::number(std::string_view key, NumberRange range) const {
  if (!find(key))
    throw Error(where_ + ": missing required key \"" + std::string(key) + "\" (" +
                range.describe() + ")");
  return numberOr(key, 0.0, range);
}

double ConfigReader::numberOr(std::string_view key, double fallback, NumberRange range) const {
  const Json* value = find(key);
  if (value && value->is_null())
    fail(key, "must be " + range.describe() + ", got null");
  return optionalNumber(key, range).value_or(fallback);
}

bool ConfigReader::booleanOr(std::string_view key, bool fallback) const {
  const Json* value = find(key);
  if (!value)
    return fallback;
  if (!value->is_boolean())
    fail(key, "must be true or false, got " + describeJsonValue(*value));
  return value->get<bool>();
}

std::string ConfigReader::choiceOr(std::string_view key, std::string_view fallback,
                                   std::initializer_list<std::string_view> allowed) const {
  const Json* value = find(key);
  if (!value)
    return std::string(fallback);
  if (value->is_string())
    for (std::string_view choice : allowed)
      if (value->get_ref<const std::string&>() == choice)
        return std::string(choice);
  std::string list;
  for (std::string_view choice : allowed)
    list += (list.empty() ? "\"" : ", \"") + std::string(choice) + "\"";
  fail(key, "must be one of " + list + ", got " + describeJsonValue(*value));
}

std::optional<std::string> ConfigReader::optionalString(std::string_view key) const {
  const Json* value = find(key);
  if (!value || value->is_null())
    return std::nullopt;
  if (!value->is_string())
    fail(key, "must be a string, got " + describeJsonValue(*value));
  return value->get<std::string>();
}

ConfigReader ConfigReader::child(std::string_view key) const {
  const Json* value = find(key);
  if (!value)
    throw Error(where_ + ": missing required key \"" + std::string(key) + "\" (an object)");
  if (!value->is_object())
    fail(key, "must be an object, got " + describeJsonValue(*value));
  return ConfigReader(*value, where_ + ": " + std::string(key));
}

} // namespace fathom::frontend
