// Fathom's own DeepSeek-V3 encode goldens (goldens/, produced by make_goldens.py with HF
// tokenizers): random Unicode strings, every added token alone and inside text, invalid UTF-8, and
// megabyte inputs checked by digest.
#include "TestData.h"

#include "fathom/tokenizer/Utf8.h"

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <thread>

namespace fathom::tokenizer {
namespace {

using testing::deepSeekV3;
using testing::goldenPath;
using testing::idsOf;
using testing::readJsonLines;

// Rows are {"text", "ids"} plus "decoded" where decoding does not give the text back.
void expectEncodeRows(const std::string& file) {
  auto rows = readJsonLines(goldenPath(file));
  ASSERT_FALSE(rows.empty());
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string& text = rows[i]["text"].get_ref<const std::string&>();
    std::vector<TokenId> expected = idsOf(rows[i]["ids"]);
    EXPECT_EQ(deepSeekV3().encode(text), expected) << file << " line " << i + 1;
    std::string decoded = rows[i].value("decoded", text);
    EXPECT_EQ(deepSeekV3().decode(expected), decoded) << file << " line " << i + 1;
  }
}

TEST(EncodeGoldens, RandomUnicodeAndEdgeCases) {
  FATHOM_REQUIRE_DEEPSEEK_V3();
  expectEncodeRows("deepseek_v3_encode.jsonl");
}

TEST(EncodeGoldens, EveryAddedTokenAloneAndEmbedded) {
  FATHOM_REQUIRE_DEEPSEEK_V3();
  expectEncodeRows("deepseek_v3_added_tokens.jsonl");
  // Each of the 818 added tokens alone is exactly its own id.
  nlohmann::json tokenizerJson =
      nlohmann::json::parse(std::ifstream(testing::deepSeekV3Directory() / "tokenizer.json"));
  const auto& added = tokenizerJson["added_tokens"];
  ASSERT_EQ(added.size(), 818u);
  for (const auto& token : added) {
    TokenId id = token["id"].get<TokenId>();
    EXPECT_EQ(deepSeekV3().encode(token["content"].get<std::string>()), std::vector<TokenId>{id});
    EXPECT_EQ(deepSeekV3().isSpecial(id), token["special"].get<bool>()) << id;
  }
}

TEST(EncodeGoldens, InvalidUtf8IsRepairedLikeFromUtf8Lossy) {
  FATHOM_REQUIRE_DEEPSEEK_V3();
  // Fathom's definition: invalid bytes are replaced by U+FFFD (one per maximal ill-formed
  // subsequence) and the result is tokenized; the goldens are HF's ids for Python's
  // bytes.decode("utf-8", "replace"), which applies the same rule.
  auto rows = readJsonLines(goldenPath("deepseek_v3_invalid_utf8.jsonl"));
  ASSERT_FALSE(rows.empty());
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string hex = rows[i]["bytes_hex"].get<std::string>();
    std::string bytes;
    for (size_t j = 0; j + 1 < hex.size(); j += 2)
      bytes.push_back(static_cast<char>(std::stoi(hex.substr(j, 2), nullptr, 16)));
    std::vector<TokenId> expected = idsOf(rows[i]["ids"]);
    EXPECT_EQ(deepSeekV3().encode(bytes), expected)
        << "invalid UTF-8 line " << i + 1 << ": " << hex;
    EXPECT_EQ(deepSeekV3().encode(toValidUtf8(bytes)), expected);
  }
}

// The text generator of make_goldens.py (generate_long_text), repeated exactly.
std::string generateLongText(const std::vector<std::string>& palette, uint64_t seed,
                             size_t targetBytes) {
  uint64_t state = seed;
  std::string text;
  while (text.size() < targetBytes) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    text += palette[(state >> 33) % palette.size()];
  }
  return text;
}

std::string fnv1a64OfIds(const std::vector<TokenId>& ids) {
  uint64_t digest = 0xCBF29CE484222325ull;
  auto mix = [&](char c) {
    digest ^= static_cast<unsigned char>(c);
    digest *= 0x100000001B3ull;
  };
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0)
      mix(',');
    for (char c : std::to_string(ids[i]))
      mix(c);
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016" PRIx64, digest);
  return hex;
}

TEST(EncodeGoldens, MegabyteInputsMatchByDigest) {
  FATHOM_REQUIRE_DEEPSEEK_V3();
  nlohmann::json cases = nlohmann::json::parse(std::ifstream(goldenPath("deepseek_v3_long.json")));
  ASSERT_FALSE(cases.empty());
  for (const auto& spec : cases) {
    std::string name = spec["name"].get<std::string>();
    std::string text =
        generateLongText(spec["palette"].get<std::vector<std::string>>(),
                         spec["seed"].get<uint64_t>(), spec["target_bytes"].get<size_t>());
    ASSERT_EQ(text.size(), spec["text_bytes"].get<size_t>()) << name;
    std::vector<TokenId> ids = deepSeekV3().encode(text);
    ASSERT_EQ(ids.size(), spec["ids_count"].get<size_t>()) << name;
    std::vector<TokenId> first(ids.begin(), ids.begin() + 32);
    std::vector<TokenId> last(ids.end() - 32, ids.end());
    EXPECT_EQ(first, idsOf(spec["first_ids"])) << name;
    EXPECT_EQ(last, idsOf(spec["last_ids"])) << name;
    EXPECT_EQ(fnv1a64OfIds(ids), spec["ids_fnv1a64"].get<std::string>()) << name;
    EXPECT_EQ(deepSeekV3().decode(ids), text) << name;
  }
}

TEST(EncodeGoldens, ConcurrentEncodesAgree) {
  FATHOM_REQUIRE_DEEPSEEK_V3();
  // The BPE cache is shared between threads; results must not depend on interleaving.
  auto rows = readJsonLines(goldenPath("deepseek_v3_encode.jsonl"));
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (size_t i = t; i < rows.size(); i += 2)
        if (deepSeekV3().encode(rows[i]["text"].get<std::string>()) != idsOf(rows[i]["ids"]))
          ++mismatches;
    });
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

} // namespace
} // namespace fathom::tokenizer
