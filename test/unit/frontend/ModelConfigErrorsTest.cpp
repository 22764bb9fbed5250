// config.json: a precise message, naming the file and the key, for every value of the wrong
// type, out of range or inconsistent with another.
#include "TestCheckpoint.h"

#include "fathom/frontend/ModelConfig.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {
using namespace fathom;
using namespace fathom::frontend;
namespace ft = fathom::frontend::testing;
using ::testing::AllOf;
using ::testing::HasSubstr;
using Json = nlohmann::json;

ModelConfig parse(const Json& json) {
  return parseModelConfig(json, "ckpt/config.json");
}
std::string errorFor(const Json& json) {
  return ft::errorOf([&] { parse(json); });
}

TEST(ModelConfigErrors, WrongType) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["hidden_size"] = "7168";
  EXPECT_THAT(errorFor(json),
              HasSubstr("ckpt/config.json: \"hidden_size\" must be an integer in [1, 262144], got "
                        "\"7168\""));
}

TEST(ModelConfigErrors, FloatWhereAnIntegerIsNeeded) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["num_hidden_layers"] = 61.0;
  EXPECT_THAT(errorFor(json),
              AllOf(HasSubstr("ckpt/config.json"),
                    HasSubstr("\"num_hidden_layers\" must be an integer in [1, 1024], "
                              "got 61.0")));
}

TEST(ModelConfigErrors, MissingKey) {
  Json json = ft::requiredKeysOnlyV3Config();
  json.erase("kv_lora_rank");
  EXPECT_THAT(errorFor(json),
              HasSubstr("ckpt/config.json: missing required key \"kv_lora_rank\" (an integer in "
                        "[1, 262144])"));
}

TEST(ModelConfigErrors, UnknownModelTypeListsTheSupportedOnes) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["model_type"] = "llama";
  EXPECT_THAT(errorFor(json),
              AllOf(HasSubstr("ckpt/config.json"), HasSubstr("unsupported model type \"llama\""),
                    HasSubstr("deepseek_v3, deepseek_v2, deepseek_vl")));
}

TEST(ModelConfigErrors, MissingModelType) {
  Json json = ft::requiredKeysOnlyV3Config();
  json.erase("model_type");
  EXPECT_THAT(errorFor(json), AllOf(HasSubstr("ckpt/config.json"),
                                    HasSubstr("missing required key \"model_type\"")));
}

TEST(ModelConfigErrors, UnknownArchitectureListsTheSupportedOnes) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["architectures"] = {"DeepseekV3Model"};
  EXPECT_THAT(errorFor(json),
              AllOf(HasSubstr("ckpt/config.json"),
                    HasSubstr("unsupported architecture \"DeepseekV3Model\""),
                    HasSubstr("DeepseekV3ForCausalLM, DeepseekV3ForSequenceClassification, "
                              "DeepseekV3ForTokenClassification")));
}

TEST(ModelConfigErrors, ArchitectureOfAnotherModelType) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["architectures"] = {"DeepseekV2ForCausalLM"};
  EXPECT_THAT(errorFor(json),
              HasSubstr("unsupported architecture \"DeepseekV2ForCausalLM\" for model_type "
                        "\"deepseek_v3\""));
}

TEST(ModelConfigErrors, HeadsNotAMultipleOfKeyValueHeads) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["num_key_value_heads"] = 3;
  EXPECT_THAT(errorFor(json), HasSubstr("\"num_attention_heads\" (128) must be a multiple of "
                                        "\"num_key_value_heads\" (3)"));
}

TEST(ModelConfigErrors, V2HiddenSizeMustSplitIntoHeads) {
  Json json = ft::tinyV2Config();
  json["num_attention_heads"] = 5;
  EXPECT_THAT(errorFor(json), HasSubstr("\"hidden_size\" (64) must be a multiple of "
                                        "\"num_attention_heads\" (5)"));
}

TEST(ModelConfigErrors, OddRopeHeadDim) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["qk_rope_head_dim"] = 63;
  EXPECT_THAT(errorFor(json), HasSubstr("\"qk_rope_head_dim\" (63) must be even"));
}

TEST(ModelConfigErrors, MoreExpertsPerTokenThanExperts) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["num_experts_per_tok"] = 300;
  EXPECT_THAT(errorFor(json), HasSubstr("\"num_experts_per_tok\" (300) must be <= "
                                        "\"n_routed_experts\" (256)"));
}

TEST(ModelConfigErrors, TopkGroupAboveGroupCount) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["topk_group"] = 9;
  EXPECT_THAT(errorFor(json), HasSubstr("\"topk_group\" (9) must be <= \"n_group\" (8)"));
}

TEST(ModelConfigErrors, ExpertsNotDivisibleIntoGroups) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["n_group"] = 7;
  EXPECT_THAT(errorFor(json), HasSubstr("\"n_routed_experts\" (256) must be divisible by "
                                        "\"n_group\" (7)"));
}

TEST(ModelConfigErrors, TooFewCandidatesForTopK) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["topk_group"] = 1;
  json["num_experts_per_tok"] = 64; // one group of 32 cannot supply 64
  EXPECT_THAT(errorFor(json), HasSubstr("must be <= topk_group x experts per group (32)"));
}

TEST(ModelConfigErrors, V2NeedsExpertsPerToken) {
  Json json = ft::tinyV2Config();
  json.erase("num_experts_per_tok");
  EXPECT_THAT(errorFor(json), AllOf(HasSubstr("ckpt/config.json"),
                                    HasSubstr("missing required key \"num_experts_per_tok\"")));
}

TEST(ModelConfigErrors, V2GroupLimitedRoutingNeedsGroups) {
  Json json = ft::tinyV2Config();
  json["topk_method"] = "group_limited_greedy";
  json["n_group"] = nullptr;
  EXPECT_THAT(errorFor(json),
              HasSubstr("\"n_group\" must be a positive integer for group-limited routing"));
}

TEST(ModelConfigErrors, UnknownActivation) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["hidden_act"] = "swiglu";
  EXPECT_THAT(errorFor(json), AllOf(HasSubstr("\"hidden_act\" must be one of \"silu\""),
                                    HasSubstr("got \"swiglu\"")));
}

TEST(ModelConfigErrors, FirstDenseLayersBeyondTheModel) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["first_k_dense_replace"] = 62;
  EXPECT_THAT(errorFor(json),
              HasSubstr("\"first_k_dense_replace\" must be an integer in [0, 61], got 62"));
}

TEST(ModelConfigErrors, NonPositiveEpsilon) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["rms_norm_eps"] = 0;
  EXPECT_THAT(errorFor(json), HasSubstr("\"rms_norm_eps\" must be a number in (0, 1], got 0"));
}

TEST(ModelConfigErrors, BooleanFlagOfTheWrongType) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["attention_bias"] = 0;
  EXPECT_THAT(errorFor(json), HasSubstr("\"attention_bias\" must be true or false, got 0"));
}

TEST(ModelConfigErrors, UnsupportedRopeType) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["rope_scaling"] = {{"type", "proportional"}, {"factor", 2}};
  EXPECT_THAT(errorFor(json),
              AllOf(HasSubstr("ckpt/config.json: rope_scaling: \"type\""),
                    HasSubstr("unsupported RoPE type \"proportional\""),
                    HasSubstr("\"default\", \"linear\", \"dynamic\", \"yarn\", \"llama3\", "
                              "\"longrope\"")));
}

TEST(ModelConfigErrors, LongRopeNeedsFactorListsOfHalfTheRotaryDims) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["rope_scaling"] = {{"type", "longrope"}, {"original_max_position_embeddings", 4096}};
  EXPECT_THAT(errorFor(json), HasSubstr("ckpt/config.json: rope_scaling: missing required key "
                                        "\"short_factor\" (a list of 32 numbers, each a number "
                                        "in (0, 10000])"));
  json["rope_scaling"]["short_factor"] = Json::array();
  for (int i = 0; i < 32; ++i)
    json["rope_scaling"]["short_factor"].push_back(1.0);
  json["rope_scaling"]["long_factor"] = json["rope_scaling"]["short_factor"];
  json["rope_scaling"]["long_factor"][5] = -1.0;
  EXPECT_THAT(errorFor(json),
              HasSubstr("\"long_factor\" must be a list of 32 numbers, each a number in (0, "
                        "10000], got -1.0 at index 5"));
}

TEST(ModelConfigErrors, RopeTypeSpellingsDisagree) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["rope_parameters"] = {{"type", "yarn"}, {"rope_type", "linear"}, {"factor", 2}};
  EXPECT_THAT(errorFor(json), HasSubstr("rope_parameters: \"rope_type\" (\"linear\") and \"type\" "
                                        "(\"yarn\") disagree"));
}

TEST(ModelConfigErrors, YarnWithoutFactor) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["rope_scaling"] = {{"type", "yarn"}};
  EXPECT_THAT(errorFor(json), HasSubstr("rope_scaling: missing required key \"factor\""));
}

TEST(ModelConfigErrors, UnsupportedQuantization) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["quantization_config"] = {{"quant_method", "gptq"}, {"bits", 4}};
  EXPECT_THAT(errorFor(json),
              AllOf(HasSubstr("ckpt/config.json: quantization_config: \"quant_method\""),
                    HasSubstr("unsupported quantization \"gptq\"")));
}

TEST(ModelConfigErrors, BadWeightBlockSize) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["quantization_config"] = {{"quant_method", "fp8"}, {"weight_block_size", {128}}};
  EXPECT_THAT(errorFor(json), HasSubstr("\"weight_block_size\" must be [rows, columns] of "
                                        "positive integers, got [128]"));
}

TEST(ModelConfigErrors, VlSubConfigOfTheWrongType) {
  Json json = ft::tinyVlConfig();
  json["vision_config"]["model_type"] = "clip_vision_model";
  EXPECT_THAT(errorFor(json), AllOf(HasSubstr("ckpt/config.json: vision_config: \"model_type\""),
                                    HasSubstr("must be \"siglip_vision_model\"")));
}

TEST(ModelConfigErrors, VlMissingTextConfig) {
  Json json = ft::tinyVlConfig();
  json.erase("text_config");
  EXPECT_THAT(errorFor(json), HasSubstr("ckpt/config.json: missing required key \"text_config\""));
}

TEST(ModelConfigErrors, EosOfTheWrongType) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["eos_token_id"] = "1";
  EXPECT_THAT(errorFor(json), HasSubstr("\"eos_token_id\" must be an integer or a list of "
                                        "integers, got \"1\""));
}

TEST(ModelConfigErrors, ConfigNotAnObject) {
  EXPECT_THAT(errorFor(Json::array()),
              HasSubstr("ckpt/config.json: must be a JSON object, got []"));
}

} // namespace
