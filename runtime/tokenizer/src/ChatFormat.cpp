#include "fathom/tokenizer/ChatFormat.h"

#include "ChatRenderers.h"
#include "KnownChatTemplates.h"

#include "fathom/runtime/Error.h"

namespace fathom::tokenizer {

std::string_view chatFormatName(ChatFormat format) {
  switch (format) {
  case ChatFormat::DeepSeekV3:
    return "deepseek-v3";
  case ChatFormat::DeepSeekVl:
    return "deepseek-vl";
  }
  return "unknown";
}

ChatFormat parseChatFormatName(std::string_view name) {
  for (ChatFormat format : {ChatFormat::DeepSeekV3, ChatFormat::DeepSeekVl})
    if (chatFormatName(format) == name)
      return format;
  throw Error("unknown chat format \"" + std::string(name) +
              "\" (known formats: deepseek-v3, deepseek-vl)");
}

std::optional<ChatFormat> recognizeChatTemplate(std::string_view templateText) {
  // Exact comparison: a template that differs in any character may render differently (V3-0324,
  // R1 and V3.1 differ from V3 in small ways that change prompts), so it is not assumed equivalent.
  if (templateText == detail::kDeepSeekV3ChatTemplate)
    return ChatFormat::DeepSeekV3;
  if (templateText == detail::kDeepSeekVlChatTemplate)
    return ChatFormat::DeepSeekVl;
  return std::nullopt;
}

ChatFormat selectChatFormat(const TokenizerConfig& config, std::optional<ChatFormat> requested) {
  if (requested)
    return *requested;
  if (!config.chatTemplate)
    throw Error("the checkpoint has no chat template (looked in tokenizer_config.json, "
                "chat_template.jinja and chat_template.json); name a chat format "
                "(deepseek-v3 or deepseek-vl)");
  if (auto format = recognizeChatTemplate(*config.chatTemplate))
    return *format;
  throw Error(config.chatTemplateSource +
              ": chat_template is not one Fathom renders natively (known: the DeepSeek-V3 and "
              "DeepSeek-VL templates, compared exactly); name a chat format (deepseek-v3 or "
              "deepseek-vl) if this template is equivalent to one of them");
}

std::string renderChat(ChatFormat format, const nlohmann::json& messages, bool addGenerationPrompt,
                       const TokenizerConfig& config) {
  switch (format) {
  case ChatFormat::DeepSeekV3:
    // An undefined bos_token prints as "" in Jinja.
    return detail::renderDeepSeekV3Chat(messages, addGenerationPrompt,
                                        config.bosToken.value_or(""));
  case ChatFormat::DeepSeekVl:
    return detail::renderDeepSeekVlChat(messages, addGenerationPrompt);
  }
  throw Error("renderChat: invalid chat format");
}

std::vector<TokenId> encodeRenderedChat(const Tokenizer& tokenizer, std::string_view text) {
  const auto& bos = tokenizer.config().bosToken;
  bool startsWithBos = bos && !bos->empty() && text.starts_with(*bos);
  return tokenizer.encode(text, /*addSpecialTokens=*/!startsWithBos);
}

} // namespace fathom::tokenizer
