// tokenizer_config.json (its chat template picks the chat format), then a JSON list of messages
// rendered as fathom-run --chat renders a conversation.
#include "FuzzSupport.h"
#include "fathom/runtime/Error.h"
#include "fathom/runtime/Json.h"
#include "fathom/tokenizer/ChatFormat.h"
#include "fathom/tokenizer/TokenizerConfig.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fathom;
  std::vector<std::string_view> parts = fuzz::splitParts(data, size, 2);
  try {
    tokenizer::TokenizerConfig config =
        tokenizer::TokenizerConfig::fromJsonText(parts[0], std::nullopt, "tokenizer_config.json");
    tokenizer::ChatFormat format = tokenizer::selectChatFormat(config, std::nullopt);
    nlohmann::json messages = parseJson(parts[1], "messages");
    (void)tokenizer::renderChat(format, messages, /*addGenerationPrompt=*/true, config);
  } catch (const Error&) {
  }
  return 0;
}
