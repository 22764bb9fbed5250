// generation_config.json: tokens as int or list, sampling defaults, range checks.
#include "TestCheckpoint.h"

#include "fathom/frontend/GenerationConfig.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {
using namespace fathom::frontend;
namespace ft = fathom::frontend::testing;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = nlohmann::json;

ModelConfig model() {
  return parseModelConfig(ft::tinyV3Config(), "config.json");
}

TEST(GenerationConfig, ReadsSamplingSettingsAndEosList) {
  Json json = {{"bos_token_id", 0},   {"eos_token_id", {1, 7}}, {"do_sample", true},
               {"temperature", 0.6},  {"top_p", 0.95},          {"top_k", 20},
               {"max_new_tokens", 64}};
  GenerationConfig generation = parseGenerationConfig(json, "generation_config.json", model());
  EXPECT_TRUE(generation.fromFile);
  EXPECT_EQ(generation.bosTokenId, 0);
  EXPECT_THAT(generation.eosTokenIds, ElementsAre(1, 7));
  EXPECT_TRUE(generation.doSample);
  EXPECT_DOUBLE_EQ(generation.temperature, 0.6);
  EXPECT_DOUBLE_EQ(generation.topP, 0.95);
  EXPECT_EQ(generation.topK, 20);
  EXPECT_EQ(generation.maxNewTokens, 64);
}

TEST(GenerationConfig, NullsAndAbsentKeysTakeTransformersDefaults) {
  Json json = {{"temperature", nullptr}, {"top_p", nullptr}, {"transformers_version", "5.23.0"}};
  GenerationConfig generation = parseGenerationConfig(json, "generation_config.json", model());
  EXPECT_FALSE(generation.doSample);
  EXPECT_DOUBLE_EQ(generation.temperature, 1.0);
  EXPECT_DOUBLE_EQ(generation.topP, 1.0);
  EXPECT_EQ(generation.topK, 50);
  EXPECT_EQ(generation.maxLength, 20);
  EXPECT_FALSE(generation.maxNewTokens);
  // Tokens the file leaves out come from config.json (tinyV3Config: V3 defaults 0 / 1).
  EXPECT_EQ(generation.bosTokenId, 0);
  EXPECT_THAT(generation.eosTokenIds, ElementsAre(1));
}

TEST(GenerationConfig, DerivedFromTheModelWhenAbsent) {
  GenerationConfig generation = generationConfigFromModel(model());
  EXPECT_FALSE(generation.fromFile);
  EXPECT_EQ(generation.bosTokenId, 0);
}

TEST(GenerationConfig, TopPOutOfRange) {
  EXPECT_THAT(ft::errorOf([] {
                parseGenerationConfig({{"top_p", 1.5}}, "ckpt/generation_config.json", model());
              }),
              HasSubstr("ckpt/generation_config.json: \"top_p\" must be a number in [0, 1], got "
                        "1.5"));
}

TEST(GenerationConfig, SampleFlagOfTheWrongType) {
  EXPECT_THAT(
      ft::errorOf([] {
        parseGenerationConfig({{"do_sample", "yes"}}, "ckpt/generation_config.json", model());
      }),
      HasSubstr("ckpt/generation_config.json: \"do_sample\" must be true or false"));
}

} // namespace
