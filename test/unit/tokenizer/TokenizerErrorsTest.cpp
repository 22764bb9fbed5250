// tokenizer.json features Fathom does not implement must fail loudly, naming the field, rather than
// produce ids that differ from HF.
#include "fathom/runtime/Error.h"
#include "fathom/tokenizer/Tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fathom::tokenizer {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

json minimalTokenizer() {
  return json::parse(R"({
    "version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
    "normalizer": null,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
    "post_processor": null, "decoder": {"type": "ByteLevel"},
    "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}})");
}

std::string loadError(const json& tokenizerJson) {
  try {
    Tokenizer::fromJsonText(tokenizerJson.dump(), {}, "tok.json");
  } catch (const Error& error) {
    return error.what();
  }
  return "(loaded)";
}

TEST(TokenizerErrors, MinimalTokenizerLoadsAndEncodes) {
  Tokenizer tokenizer = Tokenizer::fromJsonText(minimalTokenizer().dump());
  EXPECT_EQ(tokenizer.encode("ab"), (std::vector<TokenId>{2}));
  EXPECT_EQ(tokenizer.encode("aab"), (std::vector<TokenId>{0, 2}));
  EXPECT_EQ(tokenizer.encode("c"), std::vector<TokenId>{}); // no unk token: HF drops it
}

TEST(TokenizerErrors, UnsupportedComponentsNameTheirField) {
  json tokenizer = minimalTokenizer();
  tokenizer["normalizer"] = {{"type", "NFKC"}};
  EXPECT_THAT(loadError(tokenizer), HasSubstr("tok.json: normalizer.type: normalizer \"NFKC\""));

  tokenizer = minimalTokenizer();
  tokenizer["normalizer"] =
      json::parse(R"({"type": "Sequence", "normalizers": [{"type": "Lowercase"}]})");
  EXPECT_THAT(loadError(tokenizer), HasSubstr("normalizer.normalizers[0].type"));

  tokenizer = minimalTokenizer();
  tokenizer["pre_tokenizer"] = {{"type", "Metaspace"}};
  EXPECT_THAT(loadError(tokenizer), HasSubstr("pre_tokenizer.type: pre-tokenizer \"Metaspace\""));

  tokenizer = minimalTokenizer();
  tokenizer["pre_tokenizer"] = json::parse(R"({"type": "Sequence", "pretokenizers": [
      {"type": "ByteLevel"}, {"type": "Digits"}]})");
  EXPECT_THAT(loadError(tokenizer), HasSubstr("ByteLevel must be the last step"));

  tokenizer = minimalTokenizer();
  tokenizer["decoder"] = {{"type", "WordPiece"}};
  EXPECT_THAT(loadError(tokenizer), HasSubstr("decoder.type: decoder \"WordPiece\""));

  tokenizer = minimalTokenizer();
  tokenizer["model"]["type"] = "Unigram";
  EXPECT_THAT(loadError(tokenizer), HasSubstr("model.type: model type \"Unigram\""));

  tokenizer = minimalTokenizer();
  tokenizer["model"]["continuing_subword_prefix"] = "##";
  EXPECT_THAT(loadError(tokenizer), HasSubstr("model.continuing_subword_prefix"));

  tokenizer = minimalTokenizer();
  tokenizer["model"]["dropout"] = 0.1;
  EXPECT_THAT(loadError(tokenizer), HasSubstr("model.dropout"));

  tokenizer = minimalTokenizer();
  tokenizer["post_processor"] = {{"type", "Mystery"}};
  EXPECT_THAT(loadError(tokenizer), HasSubstr("post_processor.type"));

  tokenizer = minimalTokenizer();
  tokenizer["truncation"] = {{"max_length", 8}};
  EXPECT_THAT(loadError(tokenizer), HasSubstr("tok.json: truncation"));
}

TEST(TokenizerErrors, MalformedFieldsNameTheirPath) {
  json tokenizer = minimalTokenizer();
  tokenizer["model"]["merges"] = json::array({"a b", "a c"});
  EXPECT_THAT(loadError(tokenizer), HasSubstr("model.merges[1]"));

  tokenizer = minimalTokenizer();
  tokenizer["model"]["merges"] = json::array({"a  b"});
  EXPECT_THAT(loadError(tokenizer), HasSubstr("model.merges[0]: expected"));

  tokenizer = minimalTokenizer();
  tokenizer["model"]["merges"] = json::array({json::array({"a", "b"})}); // pair format is fine
  EXPECT_EQ(loadError(tokenizer), "(loaded)");

  tokenizer = minimalTokenizer();
  tokenizer["model"]["vocab"]["x"] = "3";
  EXPECT_THAT(loadError(tokenizer), HasSubstr("model.vocab.x: expected a non-negative integer"));

  tokenizer = minimalTokenizer();
  tokenizer.erase("model");
  EXPECT_THAT(loadError(tokenizer), HasSubstr("tok.json: model: missing"));

  tokenizer = minimalTokenizer();
  tokenizer["added_tokens"] = json::parse(R"([{"id": 5}])");
  EXPECT_THAT(loadError(tokenizer), HasSubstr("added_tokens[0].content: missing"));

  tokenizer = minimalTokenizer();
  tokenizer["pre_tokenizer"] = json::parse(R"({"type": "Split", "pattern": {"Regex": "(a"},
      "behavior": "Isolated"})");
  EXPECT_THAT(loadError(tokenizer), HasSubstr("pre_tokenizer.pattern.Regex: cannot compile"));

  tokenizer = minimalTokenizer();
  tokenizer["pre_tokenizer"] = json::parse(R"({"type": "Split", "pattern": {"Regex": "a"},
      "behavior": "Sideways"})");
  EXPECT_THAT(loadError(tokenizer), HasSubstr("pre_tokenizer.behavior: unknown split behavior"));

  EXPECT_THROW(Tokenizer::fromJsonText("{not json", {}, "tok.json"), Error);
  EXPECT_THROW(Tokenizer::fromDirectory("/nonexistent/fathom"), Error);
}

TEST(TokenizerErrors, LlamaConfigNeedsAKnownBosToken) {
  TokenizerConfig config;
  config.tokenizerClass = "LlamaTokenizerFast";
  config.bosToken = "<s>";
  try {
    Tokenizer::fromJsonText(minimalTokenizer().dump(), config, "tok.json");
    FAIL() << "expected fathom::Error";
  } catch (const Error& error) {
    EXPECT_THAT(std::string(error.what()), HasSubstr("bos_token"));
  }
  config.bosToken = "a";
  Tokenizer tokenizer = Tokenizer::fromJsonText(minimalTokenizer().dump(), config, "tok.json");
  EXPECT_EQ(tokenizer.encode("b", true), (std::vector<TokenId>{0, 1}));
  config.addBosToken = false;
  config.addEosToken = true;
  config.eosToken = "ab";
  Tokenizer eosOnly = Tokenizer::fromJsonText(minimalTokenizer().dump(), config, "tok.json");
  EXPECT_EQ(eosOnly.encode("b", true), (std::vector<TokenId>{1, 2}));
}

} // namespace
} // namespace fathom::tokenizer
