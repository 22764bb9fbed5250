// tokenizer.json features DeepSeek-V3 does not use, on small tokenizers built and saved by HF
// tokenizers (make_goldens.py): added-token lstrip/rstrip/single_word/normalized, Replace
// normalizers, every Split behaviour and invert, Digits, Punctuation, Whitespace(Split), ByteLevel
// prefix spaces, ignore_merges, TemplateProcessing, unk/fuse_unk/byte_fallback, no decoder. HF
// saves merges as [left, right] pairs, so these also cover the newer merge format.
#include "TestData.h"

#include <map>

namespace fathom::tokenizer {
namespace {

using testing::goldenPath;
using testing::idsOf;
using testing::readJsonLines;

TEST(MiniTokenizers, MatchHfTokenizers) {
  std::map<std::string, Tokenizer> tokenizers;
  auto rows = readJsonLines(goldenPath("mini_encode.jsonl"));
  ASSERT_FALSE(rows.empty());
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string name = rows[i]["tokenizer"].get<std::string>();
    if (!tokenizers.count(name))
      tokenizers.emplace(name, Tokenizer::fromFile(goldenPath("mini/" + name + "/tokenizer.json")));
    const Tokenizer& tokenizer = tokenizers.at(name);
    std::string text = rows[i]["text"].get<std::string>();
    std::string where = "mini_encode.jsonl line " + std::to_string(i + 1) + " (" + name + ")";
    std::vector<TokenId> plain = tokenizer.encode(text);
    EXPECT_EQ(plain, idsOf(rows[i]["ids"])) << where;
    std::vector<TokenId> wrapped = tokenizer.encode(text, true);
    EXPECT_EQ(wrapped, idsOf(rows[i]["ids_with_special"])) << where;
    EXPECT_EQ(tokenizer.decode(idsOf(rows[i]["ids"])), rows[i]["decoded"].get<std::string>())
        << where;
    EXPECT_EQ(tokenizer.decode(idsOf(rows[i]["ids_with_special"]), true),
              rows[i]["decoded_skip_special"].get<std::string>())
        << where;
  }
  EXPECT_EQ(tokenizers.size(), 3u);
}

} // namespace
} // namespace fathom::tokenizer
