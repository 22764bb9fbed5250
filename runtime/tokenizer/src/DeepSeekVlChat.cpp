// The DeepSeek-VL chat template of transformers' DeepseekVLProcessor (KnownChatTemplates.h,
// kDeepSeekVlChatTemplate) as plain code:
//   fixed system prompt + "\n\n", then per message
//   "User: " | "Assistant:" (+ " " unless it is the final, empty assistant turn without a
//   generation prompt) | Role.capitalize() + ": ", then its content items (image ->
//   "<image_placeholder>", text -> stripped at the ends of the list, joined to a preceding text
//   item by " "), then "\n\n" after user turns and EOS after the others, except after the last
//   message without a generation prompt; finally "Assistant:" with a generation prompt.
// Content may be a list of {"type": "text"|"image", ...} items or, as a convenience the Jinja
// template does not have, a plain string, which is treated as one text item.
#include "ChatRenderers.h"
#include "JsonFields.h"

#include "fathom/tokenizer/Utf8.h"

namespace fathom::tokenizer::detail {
namespace {

constexpr std::string_view kWhere = "chat (deepseek-vl): messages";
constexpr std::string_view kSystemPrompt =
    "You are a helpful language and vision assistant. You are able to understand the visual "
    "content that the user provides, and assist the user with a variety of tasks using natural "
    "language.\n\n";

// Python's str.isspace(), which str.strip() uses.
bool isPythonWhitespace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

std::string_view stripLeft(std::string_view text) {
  size_t offset = 0;
  while (offset < text.size()) {
    size_t next = offset;
    if (!isPythonWhitespace(decodeUtf8At(text, next)))
      break;
    offset = next;
  }
  return text.substr(offset);
}

std::string_view stripRight(std::string_view text) {
  size_t end = text.size();
  while (end > 0) {
    size_t begin = end - 1;
    while (begin > 0 && (static_cast<unsigned char>(text[begin]) & 0xC0) == 0x80)
      --begin;
    size_t cursor = begin;
    if (!isPythonWhitespace(decodeUtf8At(text, cursor)))
      break;
    end = begin;
  }
  return text.substr(0, end);
}

std::string asciiLower(std::string text) {
  for (char& c : text)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return text;
}

// A content item's "type", or "" when absent or not a string (the template then renders nothing).
std::string itemType(const Json& item) {
  auto type = item.find("type");
  return type != item.end() && type->is_string() ? type->get<std::string>() : std::string();
}

} // namespace

std::string renderDeepSeekVlChat(const Json& messages, bool addGenerationPrompt) {
  if (!messages.is_array())
    fail(kWhere, "expected an array of messages, got " + describeJsonType(messages));
  std::string out(kSystemPrompt);
  for (size_t i = 0; i < messages.size(); ++i) {
    std::string where = indexPath(kWhere, i);
    const Json& message = messages[i];
    std::string role = requireString(message, "role", where);
    for (unsigned char c : role)
      if (c >= 0x80)
        fail(fieldPath(where, "role"), "non-ASCII roles are not supported (\"" + role + "\")");
    std::string lowerRole = asciiLower(role);
    bool isLast = i + 1 == messages.size();

    // Normalise content to a list of items.
    const Json& rawContent = requireMember(message, "content", where);
    std::string contentPath = fieldPath(where, "content");
    Json stringItems;
    const Json* items = &rawContent;
    if (rawContent.is_string()) {
      stringItems = Json::array({Json{{"type", "text"}, {"text", rawContent}}});
      items = &stringItems;
    } else if (!rawContent.is_array()) {
      fail(contentPath, "expected a string or a list of {type: text|image} items, got " +
                            describeJsonType(rawContent));
    }
    for (size_t j = 0; j < items->size(); ++j)
      requireObject((*items)[j], indexPath(contentPath, j));

    if (lowerRole == "user") {
      out += "User: ";
    } else if (lowerRole == "assistant") {
      out += "Assistant:";
      bool finalEmptyTurn = false;
      if (isLast && !addGenerationPrompt) {
        // The template reads content[0] here; an empty list is an error in Jinja.
        if (items->empty())
          fail(contentPath, "the final assistant message needs at least one content item");
        const Json& first = (*items)[0];
        auto text = first.find("text");
        finalEmptyTurn = itemType(first) == "text" && text != first.end() && text->is_string() &&
                         text->get_ref<const std::string&>().empty();
      }
      if (!finalEmptyTurn)
        out += ' ';
    } else {
      // Python's str.capitalize() on ASCII: first letter upper, the rest lower.
      std::string capitalized = lowerRole;
      if (!capitalized.empty() && capitalized[0] >= 'a' && capitalized[0] <= 'z')
        capitalized[0] = static_cast<char>(capitalized[0] - 'a' + 'A');
      out += capitalized;
      out += ": ";
    }

    for (size_t j = 0; j < items->size(); ++j) {
      const Json& item = (*items)[j];
      std::string type = itemType(item);
      if (type == "image") {
        out += "<image_placeholder>";
      } else if (type == "text") {
        std::string itemPath = indexPath(contentPath, j);
        const Json& textJson = requireMember(item, "text", itemPath);
        if (!textJson.is_string())
          fail(fieldPath(itemPath, "text"), "expected a string, got " + describeJsonType(textJson));
        std::string_view text = textJson.get_ref<const std::string&>();
        if (j == 0)
          text = stripLeft(text);
        if (j + 1 == items->size())
          text = stripRight(text);
        if (j > 0 && itemType((*items)[j - 1]) == "text")
          out += ' ';
        out += text;
      }
    }
    if (!isLast || addGenerationPrompt)
      out += lowerRole == "user" ? "\n\n" : "<｜end▁of▁sentence｜>";
  }
  if (addGenerationPrompt)
    out += "Assistant:";
  return out;
}

} // namespace fathom::tokenizer::detail
