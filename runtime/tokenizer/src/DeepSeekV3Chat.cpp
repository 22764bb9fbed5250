// The DeepSeek-V3 chat template (KnownChatTemplates.h, kDeepSeekV3ChatTemplate) as a state machine.
// The template's namespace variables keep their names here (isFirst, isTool, isOutputFirst) so the
// two can be read side by side. Quirks kept on purpose, because they change ids:
//  - ns.is_first is never reset: only the conversation's very first tool call opens with
//    "<｜Assistant｜><｜tool▁calls▁begin｜>"; every later call (even in a later message) renders
//    the "next call" form, which also appends "<｜tool▁calls▁end｜><｜end▁of▁sentence｜>" after it;
//  - a single tool call therefore gets no "<｜tool▁calls▁end｜>";
//  - ns.is_output_first is never reset either;
//  - only content == null (not a missing key) selects the tool-call branch.
#include "ChatRenderers.h"
#include "JsonFields.h"

namespace fathom::tokenizer::detail {
namespace {

constexpr std::string_view kWhere = "chat (deepseek-v3): messages";

// jinja2 concatenates only strings with '+'; anything else is a TypeError in the template.
const std::string& stringField(const Json& object, std::string_view key, std::string_view where) {
  const Json& value = requireMember(object, key, where);
  if (!value.is_string())
    fail(fieldPath(where, key), "expected a string, got " + describeJsonType(value));
  return value.get_ref<const std::string&>();
}

void renderToolCall(const Json& call, const std::string& where, bool first, std::string& out) {
  requireObject(call, where);
  const std::string& type = stringField(call, "type", where);
  const Json& function =
      requireObject(requireMember(call, "function", where), fieldPath(where, "function"));
  std::string functionPath = fieldPath(where, "function");
  const std::string& name = stringField(function, "name", functionPath);
  const std::string& arguments = stringField(function, "arguments", functionPath);
  out += first ? "<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>"
               : "\n<｜tool▁call▁begin｜>";
  out += type;
  out += "<｜tool▁sep｜>";
  out += name;
  out += "\n```json\n";
  out += arguments;
  out += "\n```<｜tool▁call▁end｜>";
  if (!first)
    out += "<｜tool▁calls▁end｜><｜end▁of▁sentence｜>";
}

} // namespace

std::string renderDeepSeekV3Chat(const Json& messages, bool addGenerationPrompt,
                                 std::string_view bosToken) {
  if (!messages.is_array())
    fail(kWhere, "expected an array of messages, got " + describeJsonType(messages));
  // Roles the template does not know render nothing; a message without a role is an input error.
  std::vector<std::string> roles;
  for (size_t i = 0; i < messages.size(); ++i)
    roles.push_back(requireString(messages[i], "role", indexPath(kWhere, i)));

  // First pass: every system message, joined with "\n\n", goes right after BOS.
  std::string out(bosToken);
  bool isFirstSystemPrompt = true;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (roles[i] != "system")
      continue;
    if (!isFirstSystemPrompt)
      out += "\n\n";
    out += stringField(messages[i], "content", indexPath(kWhere, i));
    isFirstSystemPrompt = false;
  }

  bool isFirst = false, isTool = false, isOutputFirst = true;
  for (size_t i = 0; i < messages.size(); ++i) {
    const Json& message = messages[i];
    std::string where = indexPath(kWhere, i);
    const std::string& role = roles[i];
    if (role == "user") {
      isTool = false;
      out += "<｜User｜>";
      out += stringField(message, "content", where);
    } else if (role == "assistant") {
      const Json& content = requireMember(message, "content", where);
      if (content.is_null()) {
        isTool = false;
        // A missing tool_calls iterates as empty in Jinja; null would be a TypeError.
        auto calls = message.find("tool_calls");
        if (calls == message.end())
          continue;
        std::string callsPath = fieldPath(where, "tool_calls");
        if (!calls->is_array())
          fail(callsPath, "expected an array, got " + describeJsonType(*calls));
        for (size_t j = 0; j < calls->size(); ++j) {
          renderToolCall((*calls)[j], indexPath(callsPath, j), !isFirst, out);
          isFirst = true;
        }
      } else {
        const std::string& text = stringField(message, "content", where);
        out += isTool ? "<｜tool▁outputs▁end｜>" : "<｜Assistant｜>";
        out += text;
        out += "<｜end▁of▁sentence｜>";
        isTool = false;
      }
    } else if (role == "tool") {
      isTool = true;
      const std::string& text = stringField(message, "content", where);
      out += isOutputFirst ? "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>"
                           : "\n<｜tool▁output▁begin｜>";
      out += text;
      out += "<｜tool▁output▁end｜>";
      isOutputFirst = false;
    }
  }
  if (isTool)
    out += "<｜tool▁outputs▁end｜>";
  if (addGenerationPrompt && !isTool)
    out += "<｜Assistant｜>";
  return out;
}

} // namespace fathom::tokenizer::detail
