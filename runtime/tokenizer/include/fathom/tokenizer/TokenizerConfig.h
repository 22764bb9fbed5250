#pragma once
// The parts of a checkpoint's tokenizer_config.json (and chat template files) that change how text
// becomes ids: transformers' BOS/EOS flags, the special-token strings, and the chat template.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace fathom::tokenizer {

struct TokenizerConfig {
  // "tokenizer_class", e.g. "LlamaTokenizerFast" (empty when absent).
  std::string tokenizerClass;
  // transformers' add_bos_token / add_eos_token; unset when the file does not say.
  std::optional<bool> addBosToken;
  std::optional<bool> addEosToken;
  // Special-token strings (given in the file as a string or an AddedToken object).
  std::optional<std::string> bosToken;
  std::optional<std::string> eosToken;
  std::optional<std::string> padToken;
  std::optional<std::string> unkToken;
  // The Jinja chat template text, when the checkpoint ships one.
  std::optional<std::string> chatTemplate;
  // Where chatTemplate came from, for messages ("tokenizer_config.json", "chat_template.jinja",
  // ...).
  std::string chatTemplateSource;

  // Reads `directory`/tokenizer_config.json (an absent file gives an empty config), then the chat
  // template from chat_template.jinja, tokenizer_config.json "chat_template" or chat_template.json,
  // in that order of preference. Throws fathom::Error naming the file and field on malformed input.
  static TokenizerConfig fromDirectory(const std::filesystem::path& directory);
  // The same from text already in memory (an artifact's embedded copies): tokenizer_config.json
  // text (empty: no file) and a chat template that, when given, wins. `name` prefixes errors.
  static TokenizerConfig fromJsonText(std::string_view configJson,
                                      std::optional<std::string> chatTemplate,
                                      std::string_view name);
};

} // namespace fathom::tokenizer
