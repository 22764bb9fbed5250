// Decoding: HF's decode goldens (random id sequences, partial UTF-8, skip_special_tokens) and the
// streaming detokenizer, which must agree with decode and never emit half a character.
#include "TestData.h"

#include "fathom/runtime/Error.h"
#include "fathom/tokenizer/StreamingDetokenizer.h"
#include "fathom/tokenizer/Utf8.h"

namespace fathom::tokenizer {
namespace {

using testing::deepSeekV3;
using testing::goldenPath;
using testing::idsOf;
using testing::readJsonLines;

std::string streamAll(const Tokenizer& tokenizer, const std::vector<TokenId>& ids, bool skip,
                      std::vector<std::string>* chunks = nullptr) {
  StreamingDetokenizer stream(tokenizer, skip);
  std::string text;
  for (TokenId id : ids) {
    std::string chunk = stream.push(id);
    EXPECT_TRUE(isValidUtf8(chunk));
    if (chunks)
      chunks->push_back(chunk);
    text += chunk;
  }
  std::string tail = stream.finish();
  if (chunks)
    chunks->push_back(tail);
  return text + tail;
}

TEST(Decode, MatchesHfOnRandomIdSequences) {
  FATHOM_REQUIRE_DEEPSEEK_V3();
  auto rows = readJsonLines(goldenPath("deepseek_v3_decode.jsonl"));
  ASSERT_FALSE(rows.empty());
  for (size_t i = 0; i < rows.size(); ++i) {
    std::vector<TokenId> ids = idsOf(rows[i]["ids"]);
    std::string decoded = rows[i]["decoded"].get<std::string>();
    std::string skipped = rows[i]["decoded_skip_special"].get<std::string>();
    EXPECT_EQ(deepSeekV3().decode(ids), decoded) << "decode line " << i + 1;
    EXPECT_EQ(deepSeekV3().decode(ids, true), skipped) << "decode line " << i + 1;
    EXPECT_EQ(streamAll(deepSeekV3(), ids, false), decoded) << "stream line " << i + 1;
    EXPECT_EQ(streamAll(deepSeekV3(), ids, true), skipped) << "stream line " << i + 1;
  }
}

TEST(Decode, PartialUtf8BecomesReplacementCharacter) {
  FATHOM_REQUIRE_DEEPSEEK_V3();
  const Tokenizer& tokenizer = deepSeekV3();
  EXPECT_EQ(tokenizer.decode(std::vector<TokenId>{74287}), "\xEF\xBF\xBD");
  EXPECT_EQ(tokenizer.decode(std::vector<TokenId>{74287, 225}), "🚀");
  EXPECT_EQ(tokenizer.tokenBytes(74287), "\xF0\x9F\x9A");
}

TEST(Decode, SkipSpecialTokensRemovesOnlySpecialOnes) {
  FATHOM_REQUIRE_DEEPSEEK_V3();
  std::vector<TokenId> ids{0, 128803, 45948, 128804, 1};
  EXPECT_EQ(deepSeekV3().decode(ids, true), "<｜User｜> Hello<｜Assistant｜>");
  EXPECT_EQ(deepSeekV3().decode(ids, false),
            "<｜begin▁of▁sentence｜><｜User｜> Hello<｜Assistant｜><｜end▁of▁sentence｜>");
}

TEST(Decode, UnknownIdIsAnError) {
  FATHOM_REQUIRE_DEEPSEEK_V3();
  // HF silently drops unknown ids; Fathom reports them, naming the id.
  try {
    deepSeekV3().decode(std::vector<TokenId>{5, 128815});
    FAIL() << "expected fathom::Error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("128815"), std::string::npos) << error.what();
  }
  StreamingDetokenizer stream(deepSeekV3());
  EXPECT_THROW(stream.push(1u << 30), Error);
}

TEST(StreamingDetokenizer, HoldsBackIncompleteCharacters) {
  FATHOM_REQUIRE_DEEPSEEK_V3();
  StreamingDetokenizer stream(deepSeekV3());
  EXPECT_EQ(stream.push(74287), ""); // first three bytes of 🚀
  EXPECT_EQ(stream.pendingBytes(), 3u);
  EXPECT_EQ(stream.push(225), "🚀");
  EXPECT_EQ(stream.pendingBytes(), 0u);
  EXPECT_EQ(stream.push(74287), "");
  EXPECT_EQ(stream.finish(), "\xEF\xBF\xBD"); // never completed: decode() gives U+FFFD too
}

TEST(StreamingDetokenizer, NeverSplitsCharactersOfMultiByteText) {
  FATHOM_REQUIRE_DEEPSEEK_V3();
  std::string text;
  for (int i = 0; i < 50; ++i)
    text += "🚀 héllo 中文字符 👨‍👩‍👧 ﷽ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ꧁꧂ ";
  std::vector<TokenId> ids = deepSeekV3().encode(text);
  StreamingDetokenizer stream(deepSeekV3());
  std::string streamed;
  size_t heldBack = 0; // pushes that ended inside a character
  for (TokenId id : ids) {
    std::string chunk = stream.push(id);
    ASSERT_TRUE(isValidUtf8(chunk));
    ASSERT_EQ(chunk.find(kReplacementCharacter), std::string::npos) << "split character emitted";
    heldBack += stream.pendingBytes() > 0;
    streamed += chunk;
  }
  streamed += stream.finish();
  EXPECT_EQ(streamed, text);
  EXPECT_GT(heldBack, 0u) << "the text should make some tokens end inside a character";
}

TEST(StreamingDetokenizer, AgreesWithDecodeOnGoldenTexts) {
  FATHOM_REQUIRE_DEEPSEEK_V3();
  for (const auto& row : readJsonLines(goldenPath("deepseek_v3_encode.jsonl"))) {
    std::vector<TokenId> ids = idsOf(row["ids"]);
    EXPECT_EQ(streamAll(deepSeekV3(), ids, false), deepSeekV3().decode(ids));
    EXPECT_EQ(streamAll(deepSeekV3(), ids, true), deepSeekV3().decode(ids, true));
  }
}

} // namespace
} // namespace fathom::tokenizer
