#pragma once
// Chat formats: turning a list of messages into the prompt text (and ids) exactly as transformers'
// apply_chat_template does for the checkpoint's own Jinja template. Fathom has no Jinja engine; it
// renders the templates it knows in C++ and recognises them by comparing the checkpoint's template
// text with the known texts exactly. Any other template is an error unless the caller names a
// format (the runner's --chat-format).
//
// Messages use transformers' shape, as JSON: [{"role": "system"|"user"|"assistant"|"tool",
// "content": ..., "tool_calls": [...]}, ...].
#include "fathom/tokenizer/Tokenizer.h"
#include "fathom/tokenizer/TokenizerConfig.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::tokenizer {

enum class ChatFormat {
  // deepseek-ai/DeepSeek-V3's template: BOS, system prompts joined by "\n\n", <｜User｜>/
  // <｜Assistant｜> turns, tool calls and tool outputs.
  DeepSeekV3,
  // DeepSeek-VL (transformers' DeepseekVLProcessor): "User: "/"Assistant:" turns after a fixed
  // system prompt; content is a string or a list of {"type": "text"|"image"} items.
  DeepSeekVl,
};

// "deepseek-v3" or "deepseek-vl".
std::string_view chatFormatName(ChatFormat format);
// Parses a format name; throws fathom::Error listing the known names.
ChatFormat parseChatFormatName(std::string_view name);

// The format whose template text is exactly `templateText`, if any.
std::optional<ChatFormat> recognizeChatTemplate(std::string_view templateText);

// `requested` when given; otherwise the format recognised from config.chatTemplate. Throws
// fathom::Error when the checkpoint has no template or an unrecognised one.
ChatFormat selectChatFormat(const TokenizerConfig& config, std::optional<ChatFormat> requested);

// Renders `messages` (a JSON array) as the template would, with bos_token from `config`. Throws
// fathom::Error naming the message and field for input the template cannot render.
std::string renderChat(ChatFormat format, const nlohmann::json& messages, bool addGenerationPrompt,
                       const TokenizerConfig& config);

// Ids of a rendered prompt, as transformers tokenizes it: add_special_tokens only when the text
// does not already start with the BOS string (DeepSeek-V3's template writes BOS itself;
// DeepSeek-VL's processor relies on the tokenizer adding it).
std::vector<TokenId> encodeRenderedChat(const Tokenizer& tokenizer, std::string_view text);

} // namespace fathom::tokenizer
