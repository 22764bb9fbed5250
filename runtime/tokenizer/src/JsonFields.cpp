#include "JsonFields.h"

#include "fathom/runtime/Error.h"

#include <fstream>
#include <limits>
#include <sstream>

namespace fathom::tokenizer::detail {

void fail(std::string_view where, std::string_view problem) {
  // A root path is spelled "<file>: " so that fieldPath can append to it; trim that here.
  while (!where.empty() && (where.back() == ' ' || where.back() == ':'))
    where.remove_suffix(1);
  // Keys and tokens are quoted as they are; control characters must not break the line.
  throw Error(singleLine(std::string(where) + ": " + std::string(problem)));
}

std::string fieldPath(std::string_view where, std::string_view key) {
  std::string path(where);
  // Root paths end in ": " ("tokenizer.json: "), nested ones in a field name.
  if (!path.empty() && path.back() != ' ')
    path += '.';
  path += key;
  return path;
}

std::string indexPath(std::string_view where, size_t index) {
  return std::string(where) + "[" + std::to_string(index) + "]";
}

std::string describeJsonType(const Json& value) {
  switch (value.type()) {
  case Json::value_t::null:
    return "null";
  case Json::value_t::object:
    return "an object";
  case Json::value_t::array:
    return "an array";
  case Json::value_t::string:
    return "a string";
  case Json::value_t::boolean:
    return "a boolean";
  case Json::value_t::number_integer:
  case Json::value_t::number_unsigned:
  case Json::value_t::number_float:
    return "a number";
  default:
    return "an unsupported JSON value";
  }
}

const Json& requireObject(const Json& value, std::string_view where) {
  if (!value.is_object())
    fail(where, "expected an object, got " + describeJsonType(value));
  return value;
}

const Json& requireMember(const Json& object, std::string_view key, std::string_view where) {
  requireObject(object, where);
  auto it = object.find(key);
  if (it == object.end())
    fail(fieldPath(where, key), "missing");
  return *it;
}

const Json* optionalMember(const Json& object, std::string_view key) {
  if (!object.is_object())
    return nullptr;
  auto it = object.find(key);
  if (it == object.end() || it->is_null())
    return nullptr;
  return &*it;
}

std::string requireString(const Json& object, std::string_view key, std::string_view where) {
  const Json& value = requireMember(object, key, where);
  if (!value.is_string())
    fail(fieldPath(where, key), "expected a string, got " + describeJsonType(value));
  return value.get<std::string>();
}

std::optional<std::string> optionalString(const Json& object, std::string_view key,
                                          std::string_view where) {
  const Json* value = optionalMember(object, key);
  if (!value)
    return std::nullopt;
  if (!value->is_string())
    fail(fieldPath(where, key), "expected a string, got " + describeJsonType(*value));
  return value->get<std::string>();
}

bool optionalBool(const Json& object, std::string_view key, bool defaultValue,
                  std::string_view where) {
  const Json* value = optionalMember(object, key);
  if (!value)
    return defaultValue;
  if (!value->is_boolean())
    fail(fieldPath(where, key), "expected a boolean, got " + describeJsonType(*value));
  return value->get<bool>();
}

uint32_t requireUint32(const Json& object, std::string_view key, std::string_view where) {
  const Json& value = requireMember(object, key, where);
  if (!value.is_number_unsigned() && !(value.is_number_integer() && value.get<int64_t>() >= 0))
    fail(fieldPath(where, key), "expected a non-negative integer, got " + describeJsonType(value));
  uint64_t number = value.get<uint64_t>();
  if (number > std::numeric_limits<uint32_t>::max())
    fail(fieldPath(where, key), "value " + std::to_string(number) + " does not fit in 32 bits");
  return static_cast<uint32_t>(number);
}

Json readJsonFile(const std::string& path) {
  return loadJsonFile(path, kTokenizerJson);
}

} // namespace fathom::tokenizer::detail
