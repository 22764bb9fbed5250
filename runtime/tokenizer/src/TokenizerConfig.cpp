#include "fathom/tokenizer/TokenizerConfig.h"

#include "JsonFields.h"

#include "fathom/runtime/Error.h"

#include <fstream>
#include <sstream>

namespace fathom::tokenizer {
namespace {

using detail::Json;

// A special token is either "<s>" or {"__type": "AddedToken", "content": "<s>", ...}.
std::optional<std::string> readTokenString(const Json& config, const char* key,
                                           std::string_view where) {
  const Json* value = detail::optionalMember(config, key);
  if (!value)
    return std::nullopt;
  if (value->is_string())
    return value->get<std::string>();
  if (value->is_object())
    return detail::requireString(*value, "content", detail::fieldPath(where, key));
  detail::fail(detail::fieldPath(where, key), "expected a string or an AddedToken object, got " +
                                                  detail::describeJsonType(*value));
}

std::optional<bool> readOptionalBool(const Json& config, const char* key, std::string_view where) {
  if (!detail::optionalMember(config, key))
    return std::nullopt;
  return detail::optionalBool(config, key, false, where);
}

// "chat_template" is a string, or a list of {"name", "template"} of which "default" is the one
// transformers uses when no name is given.
std::optional<std::string> readChatTemplate(const Json& holder, std::string_view where) {
  const Json* value = detail::optionalMember(holder, "chat_template");
  if (!value)
    return std::nullopt;
  std::string path = detail::fieldPath(where, "chat_template");
  if (value->is_string())
    return value->get<std::string>();
  if (value->is_array()) {
    for (size_t i = 0; i < value->size(); ++i) {
      std::string itemPath = detail::indexPath(path, i);
      if (detail::requireString((*value)[i], "name", itemPath) == "default")
        return detail::requireString((*value)[i], "template", itemPath);
    }
    return std::nullopt; // only named templates: none applies by default
  }
  detail::fail(path, "expected a string or a list of named templates, got " +
                         detail::describeJsonType(*value));
}

} // namespace

namespace {
void readConfigFields(const Json& json, const std::string& where, const std::string& source,
                      TokenizerConfig& config) {
  detail::requireObject(json, where);
  config.tokenizerClass = detail::optionalString(json, "tokenizer_class", where).value_or("");
  config.addBosToken = readOptionalBool(json, "add_bos_token", where);
  config.addEosToken = readOptionalBool(json, "add_eos_token", where);
  config.bosToken = readTokenString(json, "bos_token", where);
  config.eosToken = readTokenString(json, "eos_token", where);
  config.padToken = readTokenString(json, "pad_token", where);
  config.unkToken = readTokenString(json, "unk_token", where);
  if ((config.chatTemplate = readChatTemplate(json, where)))
    config.chatTemplateSource = source;
}
} // namespace

TokenizerConfig TokenizerConfig::fromJsonText(std::string_view configJson,
                                              std::optional<std::string> chatTemplate,
                                              std::string_view name) {
  TokenizerConfig config;
  std::string where = std::string(name) + ": ";
  if (!configJson.empty()) {
    Json json = parseJson(configJson, name, detail::kTokenizerJson);
    readConfigFields(json, where, std::string(name), config);
  }
  if (chatTemplate && !chatTemplate->empty()) {
    config.chatTemplate = std::move(chatTemplate);
    config.chatTemplateSource = std::string(name);
  }
  return config;
}

TokenizerConfig TokenizerConfig::fromDirectory(const std::filesystem::path& directory) {
  TokenizerConfig config;
  std::filesystem::path configPath = directory / "tokenizer_config.json";
  if (std::filesystem::exists(configPath)) {
    Json json = detail::readJsonFile(configPath.string());
    std::string where = configPath.filename().string() + ": ";
    readConfigFields(json, where, configPath.filename().string(), config);
  }
  std::filesystem::path jinjaPath = directory / "chat_template.jinja";
  if (std::filesystem::exists(jinjaPath)) {
    config.chatTemplate = fathom::readTextFile(jinjaPath);
    config.chatTemplateSource = jinjaPath.filename().string();
  } else if (std::filesystem::path jsonPath = directory / "chat_template.json";
             !config.chatTemplate && std::filesystem::exists(jsonPath)) {
    Json json = detail::readJsonFile(jsonPath.string());
    if ((config.chatTemplate = readChatTemplate(json, jsonPath.filename().string() + ": ")))
      config.chatTemplateSource = jsonPath.filename().string();
  }
  return config;
}

} // namespace fathom::tokenizer
