// Chat formats: Fathom's goldens rendered by jinja2 (make_goldens.py) for the DeepSeek-V3
// template's tool-call, tool-output and system-prompt paths and for the DeepSeek-VL template;
// template recognition; and the errors for input a template cannot render.
#include "TestData.h"

#include "fathom/runtime/Error.h"
#include "fathom/tokenizer/ChatFormat.h"

#include <fstream>
#include <sstream>

namespace fathom::tokenizer {
namespace {

using nlohmann::json;
using testing::deepSeekV3;
using testing::goldenPath;
using testing::idsOf;
using testing::readJsonLines;

std::string readFile(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

void expectChatRows(const std::string& file, ChatFormat format) {
  auto rows = readJsonLines(goldenPath(file));
  ASSERT_FALSE(rows.empty());
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string text =
        renderChat(format, rows[i]["messages"], rows[i]["add_generation_prompt"].get<bool>(),
                   deepSeekV3().config());
    EXPECT_EQ(text, rows[i]["text"].get<std::string>()) << file << " line " << i + 1;
    EXPECT_EQ(encodeRenderedChat(deepSeekV3(), text), idsOf(rows[i]["ids"]))
        << file << " line " << i + 1;
  }
}

TEST(ChatFormat, DeepSeekV3ToolCallsToolOutputsAndSystemPrompts) {
  FATHOM_REQUIRE_DEEPSEEK_V3();
  expectChatRows("chat_deepseek_v3.jsonl", ChatFormat::DeepSeekV3);
}

TEST(ChatFormat, DeepSeekVl) {
  FATHOM_REQUIRE_DEEPSEEK_V3(); // for the tokenizer; the template needs none
  expectChatRows("chat_deepseek_vl.jsonl", ChatFormat::DeepSeekVl);
}

TEST(ChatFormat, RecognisesKnownTemplatesExactly) {
  std::string vl = readFile(goldenPath("deepseek_vl_chat_template.jinja"));
  ASSERT_FALSE(vl.empty());
  EXPECT_EQ(recognizeChatTemplate(vl), ChatFormat::DeepSeekVl);
  EXPECT_EQ(recognizeChatTemplate(vl + " "), std::nullopt);
  EXPECT_EQ(recognizeChatTemplate("{{ messages }}"), std::nullopt);
  if (testing::haveDeepSeekV3()) {
    const std::string& v3 = *deepSeekV3().config().chatTemplate;
    EXPECT_EQ(recognizeChatTemplate(v3), ChatFormat::DeepSeekV3);
    std::string r1Like = v3 + "{{'<think>\\n'}}";
    EXPECT_EQ(recognizeChatTemplate(r1Like), std::nullopt);
  }
}

TEST(ChatFormat, UnrecognisedTemplateNeedsANamedFormat) {
  TokenizerConfig config;
  EXPECT_THROW(selectChatFormat(config, std::nullopt), Error); // no template at all
  config.chatTemplate = "{% for m in messages %}{{ m.content }}{% endfor %}";
  config.chatTemplateSource = "tokenizer_config.json";
  try {
    selectChatFormat(config, std::nullopt);
    FAIL() << "expected fathom::Error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("tokenizer_config.json"), std::string::npos);
  }
  EXPECT_EQ(selectChatFormat(config, ChatFormat::DeepSeekVl), ChatFormat::DeepSeekVl);
  EXPECT_EQ(parseChatFormatName("deepseek-v3"), ChatFormat::DeepSeekV3);
  EXPECT_EQ(parseChatFormatName("deepseek-vl"), ChatFormat::DeepSeekVl);
  EXPECT_THROW(parseChatFormatName("chatml"), Error);
}

TEST(ChatFormat, TemplateFilesArePreferredInTransformersOrder) {
  auto directory = std::filesystem::temp_directory_path() / "fathom_chat_template_test";
  std::filesystem::remove_all(directory);
  std::filesystem::create_directories(directory);
  std::ofstream(directory / "tokenizer_config.json")
      << R"({"bos_token": {"content": "<s>", "__type": "AddedToken"}, "chat_template": "A"})";
  EXPECT_EQ(TokenizerConfig::fromDirectory(directory).chatTemplate, "A");
  EXPECT_EQ(TokenizerConfig::fromDirectory(directory).bosToken, "<s>");
  std::ofstream(directory / "chat_template.jinja") << "B";
  TokenizerConfig config = TokenizerConfig::fromDirectory(directory);
  EXPECT_EQ(config.chatTemplate, "B");
  EXPECT_EQ(config.chatTemplateSource, "chat_template.jinja");
  std::filesystem::remove_all(directory);
}

// The message/field a failing render names.
std::string renderError(ChatFormat format, const json& messages) {
  TokenizerConfig config;
  config.bosToken = "<s>";
  try {
    renderChat(format, messages, true, config);
  } catch (const Error& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(ChatFormat, MalformedMessagesNameTheField) {
  using ::testing::HasSubstr;
  EXPECT_THAT(renderError(ChatFormat::DeepSeekV3, json::object()), HasSubstr("array of messages"));
  EXPECT_THAT(renderError(ChatFormat::DeepSeekV3, json::parse(R"([{"content": "x"}])")),
              HasSubstr("messages[0].role: missing"));
  EXPECT_THAT(renderError(ChatFormat::DeepSeekV3, json::parse(R"([{"role": "user"}])")),
              HasSubstr("messages[0].content: missing"));
  EXPECT_THAT(renderError(ChatFormat::DeepSeekV3,
                          json::parse(R"([{"role": "user", "content": [{"type": "text"}]}])")),
              HasSubstr("messages[0].content: expected a string"));
  EXPECT_THAT(
      renderError(ChatFormat::DeepSeekV3, json::parse(R"([{"role": "system", "content": 5}])")),
      HasSubstr("messages[0].content"));
  EXPECT_THAT(
      renderError(ChatFormat::DeepSeekV3,
                  json::parse(R"([{"role": "assistant", "content": null, "tool_calls": null}])")),
      HasSubstr("messages[0].tool_calls: expected an array"));
  EXPECT_THAT(renderError(ChatFormat::DeepSeekV3, json::parse(R"([{"role": "assistant",
      "content": null, "tool_calls": [{"type": "function",
      "function": {"name": "f", "arguments": {"x": 1}}}]}])")),
              HasSubstr("messages[0].tool_calls[0].function.arguments: expected a string"));
  EXPECT_THAT(
      renderError(ChatFormat::DeepSeekVl, json::parse(R"([{"role": "user", "content": 3}])")),
      HasSubstr("messages[0].content"));
  EXPECT_THAT(renderError(ChatFormat::DeepSeekVl,
                          json::parse(R"([{"role": "user", "content": [{"type": "text"}]}])")),
              HasSubstr("messages[0].content[0].text: missing"));
}

TEST(ChatFormat, VlEncodingAddsBosThroughTheTokenizer) {
  FATHOM_REQUIRE_DEEPSEEK_V3();
  std::string text = renderChat(ChatFormat::DeepSeekVl, json::parse(R"([{"role": "user",
      "content": [{"type": "image"}, {"type": "text", "text": "Describe this image."}]}])"),
                                true, deepSeekV3().config());
  EXPECT_EQ(text, "You are a helpful language and vision assistant. You are able to understand the "
                  "visual content that the user provides, and assist the user with a variety of "
                  "tasks using natural language.\n\nUser: <image_placeholder>Describe this "
                  "image.\n\nAssistant:");
  std::vector<TokenId> ids = encodeRenderedChat(deepSeekV3(), text);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), 0u);
  // V3 prompts start with the BOS string, so no second BOS is added.
  std::string v3 = renderChat(ChatFormat::DeepSeekV3, json::parse(R"([{"role": "user",
      "content": "Hi"}])"),
                              true, deepSeekV3().config());
  std::vector<TokenId> v3Ids = encodeRenderedChat(deepSeekV3(), v3);
  ASSERT_GE(v3Ids.size(), 2u);
  EXPECT_EQ(v3Ids[0], 0u);
  EXPECT_NE(v3Ids[1], 0u);
}

} // namespace
} // namespace fathom::tokenizer
