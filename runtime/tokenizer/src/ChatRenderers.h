#pragma once
// The native renderers behind ChatFormat.h. Each reproduces one Jinja template's output exactly as
// transformers renders it (jinja2 with trim_blocks and lstrip_blocks), including its quirks, and
// turns the inputs that template would fail on into fathom::Error naming the message and field.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace fathom::tokenizer::detail {

std::string renderDeepSeekV3Chat(const nlohmann::json& messages, bool addGenerationPrompt,
                                 std::string_view bosToken);

std::string renderDeepSeekVlChat(const nlohmann::json& messages, bool addGenerationPrompt);

} // namespace fathom::tokenizer::detail
