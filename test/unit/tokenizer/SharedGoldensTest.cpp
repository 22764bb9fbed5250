// The reference outputs shipped with the DeepSeek-V3 tokenizer in ../shared: HF tokenizers' ids and
// decodes (encode.jsonl) and @huggingface/jinja renders of the checkpoint's chat template
// (chat.jsonl). Every line must match exactly.
#include "TestData.h"

#include "fathom/tokenizer/ChatFormat.h"

namespace fathom::tokenizer {
namespace {

using testing::deepSeekV3;
using testing::deepSeekV3Directory;
using testing::idsOf;
using testing::readJsonLines;

TEST(SharedGoldens, EncodeJsonlEncodesAndDecodesExactly) {
  FATHOM_REQUIRE_DEEPSEEK_V3();
  auto rows = readJsonLines(deepSeekV3Directory() / "encode.jsonl");
  ASSERT_GT(rows.size(), 1000u);
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string& text = rows[i]["text"].get_ref<const std::string&>();
    std::vector<TokenId> expected = idsOf(rows[i]["ids"]);
    EXPECT_EQ(deepSeekV3().encode(text), expected) << "encode.jsonl line " << i + 1;
    EXPECT_EQ(deepSeekV3().decode(expected), rows[i]["decoded"].get<std::string>())
        << "encode.jsonl line " << i + 1;
  }
}

TEST(SharedGoldens, ChatJsonlRendersAndEncodesExactly) {
  FATHOM_REQUIRE_DEEPSEEK_V3();
  const Tokenizer& tokenizer = deepSeekV3();
  // The checkpoint's own template must be recognised, not named by the caller.
  ChatFormat format = selectChatFormat(tokenizer.config(), std::nullopt);
  EXPECT_EQ(format, ChatFormat::DeepSeekV3);
  auto rows = readJsonLines(deepSeekV3Directory() / "chat.jsonl");
  ASSERT_FALSE(rows.empty());
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string text = renderChat(format, rows[i]["messages"],
                                  rows[i]["add_generation_prompt"].get<bool>(), tokenizer.config());
    EXPECT_EQ(text, rows[i]["text"].get<std::string>()) << "chat.jsonl line " << i + 1;
    EXPECT_EQ(encodeRenderedChat(tokenizer, text), idsOf(rows[i]["ids"]))
        << "chat.jsonl line " << i + 1;
  }
}

TEST(SharedGoldens, TextImageReferenceExamples) {
  FATHOM_REQUIRE_DEEPSEEK_V3();
  const Tokenizer& tokenizer = deepSeekV3();
  EXPECT_EQ(tokenizer.encode("Hello world"), (std::vector<TokenId>{19923, 2058}));
  EXPECT_EQ(tokenizer.encode(" Hello, world!\n\n"), (std::vector<TokenId>{45948, 14, 2058, 2596}));
  EXPECT_EQ(tokenizer.encode(" ~"), (std::vector<TokenId>{6883}));
  EXPECT_EQ(tokenizer.encode("3333333 3.14"),
            (std::vector<TokenId>{tokenizer.encode("333")[0], tokenizer.encode("333")[0],
                                  tokenizer.encode("3")[0], 223, tokenizer.encode("3")[0],
                                  tokenizer.encode(".")[0], tokenizer.encode("14")[0]}));
  EXPECT_EQ(tokenizer.encode("我想在apple工作1314151天～"),
            (std::vector<TokenId>{11458, 445, 42123, 1472, 9049, 19453, 19, 954, 9596}));
  EXPECT_EQ(tokenizer.encode("<｜begin▁of▁sentence｜>You are a helpful assistant<｜User｜>Hello"
                             "<｜Assistant｜>"),
            (std::vector<TokenId>{0, 3476, 477, 260, 11502, 22896, 128803, 19923, 128804}));
}

TEST(SharedGoldens, VocabularyShape) {
  FATHOM_REQUIRE_DEEPSEEK_V3();
  const Tokenizer& tokenizer = deepSeekV3();
  EXPECT_EQ(tokenizer.vocabularySize(), 128815u); // HF get_vocab_size(with_added_tokens=True)
  EXPECT_EQ(tokenizer.idLimit(), 128815u);
  EXPECT_EQ(tokenizer.bosId(), 0u);
  EXPECT_EQ(tokenizer.eosId(), 1u);
  EXPECT_TRUE(tokenizer.isSpecial(0));
  EXPECT_TRUE(tokenizer.isSpecial(128805));  // <|EOT|>
  EXPECT_FALSE(tokenizer.isSpecial(128803)); // <｜User｜> is an added token but not special
  EXPECT_EQ(tokenizer.tokenToId("<｜User｜>"), 128803u);
  EXPECT_EQ(tokenizer.idToToken(223), "Ġ");
  EXPECT_FALSE(tokenizer.idToToken(128815).has_value());
}

TEST(SharedGoldens, BosFollowsTokenizerConfig) {
  FATHOM_REQUIRE_DEEPSEEK_V3();
  const Tokenizer& tokenizer = deepSeekV3();
  // add_bos_token: true with LlamaTokenizerFast: transformers prepends BOS, adds no EOS.
  EXPECT_EQ(tokenizer.encode("Hello world", true), (std::vector<TokenId>{0, 19923, 2058}));
  EXPECT_EQ(tokenizer.encode("", true), (std::vector<TokenId>{0}));
  // tokenizer.json alone (no config): its ByteLevel post_processor adds nothing, like raw HF.
  Tokenizer bare = Tokenizer::fromFile(deepSeekV3Directory() / "tokenizer.json");
  EXPECT_EQ(bare.encode("Hello world", true), (std::vector<TokenId>{19923, 2058}));
}

} // namespace
} // namespace fathom::tokenizer
