// config.json: HF's defaults for absent keys, both RoPE spellings, and a precise message for
// every value of the wrong type or out of range.
#include "TestCheckpoint.h"

#include "fathom/frontend/ModelConfig.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {
using namespace fathom;
using namespace fathom::frontend;
namespace ft = fathom::frontend::testing;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = nlohmann::json;

ModelConfig parse(const Json& json) { return parseModelConfig(json, "ckpt/config.json"); }
std::string errorFor(const Json& json) {
  return ft::errorOf([&] { parse(json); });
}

// Only the keys the frontend requires for deepseek_v3 (the shapes), at V3's real values.
Json minimalV3() {
  return {{"model_type", "deepseek_v3"},       {"vocab_size", 129280},
          {"hidden_size", 7168},               {"intermediate_size", 18432},
          {"moe_intermediate_size", 2048},     {"num_hidden_layers", 61},
          {"num_attention_heads", 128},        {"kv_lora_rank", 512},
          {"qk_nope_head_dim", 128},           {"qk_rope_head_dim", 64},
          {"v_head_dim", 128},                 {"n_routed_experts", 256}};
}

TEST(ModelConfig, DeepseekV3DefaultsAreTransformersDefaults) {
  ModelConfig config = parse(minimalV3());
  EXPECT_EQ(config.modelType, ModelType::DeepseekV3);
  EXPECT_EQ(config.architecture, "DeepseekV3ForCausalLM");
  EXPECT_EQ(config.head, HeadKind::CausalLM);
  const DeepseekConfig& model = *config.deepseek();
  // Values from DeepseekV3Config in transformers 5.23 (configuration_deepseek_v3.py).
  EXPECT_EQ(model.qLoraRank, 1536);
  EXPECT_EQ(model.numKeyValueHeads, 128);
  EXPECT_EQ(model.nSharedExperts, 1);
  EXPECT_EQ(model.numExpertsPerTok, 8);
  EXPECT_EQ(model.nGroup, 8);
  EXPECT_EQ(model.topkGroup, 4);
  EXPECT_TRUE(model.normTopkProb);
  EXPECT_DOUBLE_EQ(model.routedScalingFactor, 2.5);
  EXPECT_EQ(model.firstKDenseReplace, 3);
  EXPECT_EQ(model.moeLayerFreq, 1);
  EXPECT_EQ(model.maxPositionEmbeddings, 4096);
  EXPECT_DOUBLE_EQ(model.rmsNormEps, 1e-6);
  EXPECT_EQ(model.hiddenAct, Activation::Silu);
  EXPECT_EQ(model.rope.type, RopeType::Default);
  EXPECT_DOUBLE_EQ(model.rope.theta, 10000.0);
  EXPECT_TRUE(model.ropeInterleave);
  EXPECT_FALSE(model.attentionBias);
  EXPECT_TRUE(model.routerHasScoreBias);
  EXPECT_EQ(model.numNextnPredictLayers, 1);
  EXPECT_EQ(model.scoringFunc, "sigmoid");
  EXPECT_EQ(model.topkMethod, "noaux_tc");
  EXPECT_EQ(model.qkHeadDim(), 192);
  EXPECT_FALSE(config.tieWordEmbeddings);
  EXPECT_EQ(config.tokens.bos, 0);
  EXPECT_THAT(config.tokens.eos, ElementsAre(1));
  EXPECT_FALSE(config.tokens.pad);
  EXPECT_FALSE(config.quantization);
  EXPECT_FALSE(model.isMoeLayer(2));
  EXPECT_TRUE(model.isMoeLayer(3));
}

TEST(ModelConfig, DeepseekV2DefaultsAreTransformersDefaults) {
  Json json = ft::tinyV2Config();
  for (const char* key : {"architectures", "first_k_dense_replace", "q_lora_rank"})
    json.erase(key);
  ModelConfig config = parse(json);
  const DeepseekConfig& model = *config.deepseek();
  // DeepseekV2Config in transformers 5.23 (configuration_deepseek_v2.py).
  EXPECT_EQ(config.architecture, "DeepseekV2ForCausalLM");
  EXPECT_EQ(model.qLoraRank, 1536);
  EXPECT_EQ(model.nSharedExperts, 2);
  EXPECT_FALSE(model.nGroup);
  EXPECT_FALSE(model.topkGroup);
  EXPECT_EQ(model.topkMethod, "greedy");
  EXPECT_EQ(model.scoringFunc, "softmax");
  EXPECT_FALSE(model.normTopkProb);
  EXPECT_DOUBLE_EQ(model.routedScalingFactor, 1.0);
  EXPECT_EQ(model.firstKDenseReplace, 0);
  EXPECT_EQ(model.maxPositionEmbeddings, 2048);
  EXPECT_FALSE(model.routerHasScoreBias);
  EXPECT_FALSE(model.mlpBias);
  EXPECT_EQ(model.numNextnPredictLayers, 0);
  EXPECT_EQ(config.tokens.bos, 1);
  EXPECT_THAT(config.tokens.eos, ElementsAre(2));
  EXPECT_TRUE(model.isMoeLayer(0));
}

TEST(ModelConfig, NullQLoraRankMeansASingleQProjection) {
  EXPECT_FALSE(parse(ft::tinyV2Config()).deepseek()->qLoraRank);
}

TEST(ModelConfig, DeepseekVlDefaults) {
  Json json = ft::tinyVlConfig();
  json.erase("tie_word_embeddings");
  json["text_config"].erase("bos_token_id");
  json["text_config"].erase("eos_token_id");
  json["vision_config"].erase("hidden_act");
  json["vision_config"].erase("vision_use_head");
  ModelConfig config = parse(json);
  const DeepseekVlConfig& vl = *config.deepseekVl();
  EXPECT_EQ(vl.text.headDim, 16);
  EXPECT_EQ(vl.text.numKeyValueHeads, 4);
  EXPECT_EQ(vl.text.maxPositionEmbeddings, 2048);
  EXPECT_EQ(vl.text.rope.type, RopeType::Default);
  EXPECT_EQ(vl.vision.hiddenAct, Activation::GeluTanh);
  EXPECT_TRUE(vl.vision.visionUseHead);
  EXPECT_EQ(vl.vision.numChannels, 3);
  EXPECT_EQ(vl.vision.numPatches(), 4);
  EXPECT_EQ(vl.imageTokenId, 100015);
  // DeepseekVLConfig ties by default; LlamaConfig's tokens default to 1 / 2.
  EXPECT_TRUE(config.tieWordEmbeddings);
  EXPECT_EQ(config.tokens.bos, 1);
  EXPECT_THAT(config.tokens.eos, ElementsAre(2));
  EXPECT_EQ(config.head, HeadKind::VisionLanguage);
}

TEST(ModelConfig, RopeScalingWithLegacyTypeKey) {
  Json json = minimalV3();
  json["rope_theta"] = 50000;
  json["max_position_embeddings"] = 163840;
  json["rope_scaling"] = {{"type", "yarn"},        {"factor", 40},
                          {"beta_fast", 32},       {"beta_slow", 1},
                          {"mscale", 1.0},         {"mscale_all_dim", 1.0},
                          {"original_max_position_embeddings", 4096}};
  const RopeConfig rope = parse(json).deepseek()->rope;
  EXPECT_EQ(rope.type, RopeType::Yarn);
  EXPECT_DOUBLE_EQ(rope.theta, 50000.0); // top-level rope_theta
  EXPECT_DOUBLE_EQ(rope.factor, 40.0);
  EXPECT_EQ(rope.originalMaxPositionEmbeddings, 4096);
  EXPECT_EQ(rope.mscale, 1.0);
  EXPECT_EQ(rope.mscaleAllDim, 1.0);
  EXPECT_DOUBLE_EQ(rope.betaFast, 32.0);
}

TEST(ModelConfig, RopeParametersWithRopeTypeAndThetaInside) {
  Json json = minimalV3();
  json["max_position_embeddings"] = 256;
  json["rope_parameters"] = {{"rope_type", "yarn"}, {"type", "yarn"}, {"factor", 4.0},
                             {"rope_theta", 20000.0}};
  const RopeConfig rope = parse(json).deepseek()->rope;
  EXPECT_EQ(rope.type, RopeType::Yarn);
  EXPECT_DOUBLE_EQ(rope.theta, 20000.0);
  // HF standardisation: original_max_position_embeddings defaults to max_position_embeddings.
  EXPECT_EQ(rope.originalMaxPositionEmbeddings, 256);
  EXPECT_FALSE(rope.mscale);
}

TEST(ModelConfig, RopeLinearAndDefaultSpellings) {
  Json json = minimalV3();
  json["rope_parameters"] = {{"rope_type", "linear"}, {"factor", 2}};
  EXPECT_DOUBLE_EQ(parse(json).deepseek()->rope.factor, 2.0);
  json["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1e6}};
  EXPECT_DOUBLE_EQ(parse(json).deepseek()->rope.theta, 1e6);
  json.erase("rope_parameters");
  json["rope_scaling"] = nullptr; // hub V2-Lite style: no scaling
  EXPECT_EQ(parse(json).deepseek()->rope.type, RopeType::Default);
}

TEST(ModelConfig, NumMtpLayersAlias) {
  Json json = minimalV3();
  json["num_mtp_layers"] = 2;
  EXPECT_EQ(parse(json).deepseek()->numNextnPredictLayers, 2);
}

TEST(ModelConfig, QuantizationConfig) {
  Json json = minimalV3();
  json["quantization_config"] = {{"activation_scheme", "dynamic"}, {"fmt", "e4m3"},
                                 {"quant_method", "fp8"},
                                 {"weight_block_size", {128, 128}},
                                 {"scale_fmt", "ue8m0"}};
  const QuantizationConfig quantization = *parse(json).quantization;
  EXPECT_EQ(quantization.weightDType, DType::F8E4M3);
  EXPECT_EQ(quantization.activationScheme, "dynamic");
  EXPECT_EQ(quantization.weightBlockSize, (std::array<int64_t, 2>{128, 128}));
  EXPECT_EQ(quantization.scaleFormat, "ue8m0");
}

TEST(ModelConfig, ClassificationHeads) {
  Json json = minimalV3();
  json["architectures"] = {"DeepseekV3ForTokenClassification"};
  json["id2label"] = {{"0", "A"}, {"1", "B"}, {"2", "C"}};
  ModelConfig tokens = parse(json);
  EXPECT_EQ(tokens.head, HeadKind::TokenClassification);
  EXPECT_EQ(tokens.numLabels, 3);
  EXPECT_TRUE(tokens.scoreHasBias);
  json["architectures"] = {"DeepseekV3ForSequenceClassification"};
  json.erase("id2label");
  ModelConfig sequence = parse(json);
  EXPECT_EQ(sequence.numLabels, 2); // HF's default
  EXPECT_FALSE(sequence.scoreHasBias);
}

TEST(ModelConfig, EosListAndOutOfVocabularyWarning) {
  Json json = minimalV3();
  json["eos_token_id"] = {1, 128805};
  json["pad_token_id"] = -1;
  ModelConfig config = parse(json);
  EXPECT_THAT(config.tokens.eos, ElementsAre(1, 128805));
  ASSERT_EQ(config.warnings.size(), 1u);
  EXPECT_THAT(config.warnings[0], HasSubstr("\"pad_token_id\" -1 is outside the vocabulary"));
}

// --- errors ------------------------------------------------------------------------------

TEST(ModelConfigErrors, WrongType) {
  Json json = minimalV3();
  json["hidden_size"] = "7168";
  EXPECT_THAT(errorFor(json),
              HasSubstr("ckpt/config.json: \"hidden_size\" must be a positive integer, got "
                        "\"7168\""));
}

TEST(ModelConfigErrors, FloatWhereAnIntegerIsNeeded) {
  Json json = minimalV3();
  json["num_hidden_layers"] = 61.0;
  EXPECT_THAT(errorFor(json), AllOf(HasSubstr("ckpt/config.json"),
                                    HasSubstr("\"num_hidden_layers\" must be a positive integer, "
                                              "got 61.0")));
}

TEST(ModelConfigErrors, MissingKey) {
  Json json = minimalV3();
  json.erase("kv_lora_rank");
  EXPECT_THAT(errorFor(json),
              HasSubstr("ckpt/config.json: missing required key \"kv_lora_rank\" (a positive "
                        "integer)"));
}

TEST(ModelConfigErrors, UnknownModelTypeListsTheSupportedOnes) {
  Json json = minimalV3();
  json["model_type"] = "llama";
  EXPECT_THAT(errorFor(json),
              AllOf(HasSubstr("ckpt/config.json"), HasSubstr("unsupported model type \"llama\""),
                    HasSubstr("deepseek_v3, deepseek_v2, deepseek_vl")));
}

TEST(ModelConfigErrors, MissingModelType) {
  Json json = minimalV3();
  json.erase("model_type");
  EXPECT_THAT(errorFor(json), AllOf(HasSubstr("ckpt/config.json"),
                                    HasSubstr("missing required key \"model_type\"")));
}

TEST(ModelConfigErrors, UnknownArchitectureListsTheSupportedOnes) {
  Json json = minimalV3();
  json["architectures"] = {"DeepseekV3Model"};
  EXPECT_THAT(errorFor(json),
              AllOf(HasSubstr("ckpt/config.json"),
                    HasSubstr("unsupported architecture \"DeepseekV3Model\""),
                    HasSubstr("DeepseekV3ForCausalLM, DeepseekV3ForSequenceClassification, "
                              "DeepseekV3ForTokenClassification")));
}

TEST(ModelConfigErrors, ArchitectureOfAnotherModelType) {
  Json json = minimalV3();
  json["architectures"] = {"DeepseekV2ForCausalLM"};
  EXPECT_THAT(errorFor(json),
              HasSubstr("unsupported architecture \"DeepseekV2ForCausalLM\" for model_type "
                        "\"deepseek_v3\""));
}

TEST(ModelConfigErrors, HeadsNotAMultipleOfKeyValueHeads) {
  Json json = minimalV3();
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
  Json json = minimalV3();
  json["qk_rope_head_dim"] = 63;
  EXPECT_THAT(errorFor(json), HasSubstr("\"qk_rope_head_dim\" (63) must be even"));
}

TEST(ModelConfigErrors, MoreExpertsPerTokenThanExperts) {
  Json json = minimalV3();
  json["num_experts_per_tok"] = 300;
  EXPECT_THAT(errorFor(json), HasSubstr("\"num_experts_per_tok\" (300) must be <= "
                                        "\"n_routed_experts\" (256)"));
}

TEST(ModelConfigErrors, TopkGroupAboveGroupCount) {
  Json json = minimalV3();
  json["topk_group"] = 9;
  EXPECT_THAT(errorFor(json), HasSubstr("\"topk_group\" (9) must be <= \"n_group\" (8)"));
}

TEST(ModelConfigErrors, ExpertsNotDivisibleIntoGroups) {
  Json json = minimalV3();
  json["n_group"] = 7;
  EXPECT_THAT(errorFor(json), HasSubstr("\"n_routed_experts\" (256) must be divisible by "
                                        "\"n_group\" (7)"));
}

TEST(ModelConfigErrors, TooFewCandidatesForTopK) {
  Json json = minimalV3();
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
  Json json = minimalV3();
  json["hidden_act"] = "swiglu";
  EXPECT_THAT(errorFor(json), AllOf(HasSubstr("\"hidden_act\" must be one of \"silu\""),
                                    HasSubstr("got \"swiglu\"")));
}

TEST(ModelConfigErrors, FirstDenseLayersBeyondTheModel) {
  Json json = minimalV3();
  json["first_k_dense_replace"] = 62;
  EXPECT_THAT(errorFor(json),
              HasSubstr("\"first_k_dense_replace\" must be an integer in [0, 61], got 62"));
}

TEST(ModelConfigErrors, NonPositiveEpsilon) {
  Json json = minimalV3();
  json["rms_norm_eps"] = 0;
  EXPECT_THAT(errorFor(json), HasSubstr("\"rms_norm_eps\" must be a number > 0, got 0"));
}

TEST(ModelConfigErrors, BooleanFlagOfTheWrongType) {
  Json json = minimalV3();
  json["attention_bias"] = 0;
  EXPECT_THAT(errorFor(json), HasSubstr("\"attention_bias\" must be true or false, got 0"));
}

TEST(ModelConfigErrors, UnsupportedRopeType) {
  Json json = minimalV3();
  json["rope_scaling"] = {{"type", "longrope"}, {"factor", 2}};
  EXPECT_THAT(errorFor(json),
              AllOf(HasSubstr("ckpt/config.json: rope_scaling: \"type\""),
                    HasSubstr("unsupported RoPE type \"longrope\""),
                    HasSubstr("\"default\", \"linear\", \"dynamic\", \"yarn\", \"llama3\"")));
}

TEST(ModelConfigErrors, RopeTypeSpellingsDisagree) {
  Json json = minimalV3();
  json["rope_parameters"] = {{"type", "yarn"}, {"rope_type", "linear"}, {"factor", 2}};
  EXPECT_THAT(errorFor(json), HasSubstr("rope_parameters: \"rope_type\" (\"linear\") and \"type\" "
                                        "(\"yarn\") disagree"));
}

TEST(ModelConfigErrors, YarnWithoutFactor) {
  Json json = minimalV3();
  json["rope_scaling"] = {{"type", "yarn"}};
  EXPECT_THAT(errorFor(json), HasSubstr("rope_scaling: missing required key \"factor\""));
}

TEST(ModelConfigErrors, UnsupportedQuantization) {
  Json json = minimalV3();
  json["quantization_config"] = {{"quant_method", "gptq"}, {"bits", 4}};
  EXPECT_THAT(errorFor(json),
              AllOf(HasSubstr("ckpt/config.json: quantization_config: \"quant_method\""),
                    HasSubstr("unsupported quantization \"gptq\"")));
}

TEST(ModelConfigErrors, BadWeightBlockSize) {
  Json json = minimalV3();
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
  EXPECT_THAT(errorFor(json),
              HasSubstr("ckpt/config.json: missing required key \"text_config\""));
}

TEST(ModelConfigErrors, EosOfTheWrongType) {
  Json json = minimalV3();
  json["eos_token_id"] = "1";
  EXPECT_THAT(errorFor(json), HasSubstr("\"eos_token_id\" must be an integer or a list of "
                                        "integers, got \"1\""));
}

TEST(ModelConfigErrors, ConfigNotAnObject) {
  EXPECT_THAT(errorFor(Json::array()),
              HasSubstr("ckpt/config.json: must be a JSON object, got []"));
}

} // namespace
