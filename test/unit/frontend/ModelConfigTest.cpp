// config.json: transformers' defaults for absent keys, both RoPE spellings, the typed structs.
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

ModelConfig parse(const Json& json) {
  return parseModelConfig(json, "ckpt/config.json");
}

TEST(ModelConfig, DeepseekV3DefaultsAreTransformersDefaults) {
  ModelConfig config = parse(ft::requiredKeysOnlyV3Config());
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

TEST(ModelConfig, DeepseekVlActivationsAndLlama3Rope) {
  Json json = ft::tinyVlConfig();
  json["vision_config"]["hidden_act"] = "gelu_new";
  json["text_config"]["rope_scaling"] = {{"rope_type", "llama3"},
                                         {"factor", 8.0},
                                         {"low_freq_factor", 1.0},
                                         {"high_freq_factor", 4.0},
                                         {"original_max_position_embeddings", 8192}};
  ModelConfig config = parse(json);
  const DeepseekVlConfig& vl = *config.deepseekVl();
  EXPECT_EQ(vl.vision.hiddenAct, Activation::GeluNew);
  EXPECT_EQ(activationName(vl.vision.hiddenAct), "gelu_new");
  EXPECT_EQ(vl.text.rope.type, RopeType::Llama3);
  EXPECT_EQ(vl.text.rope.factor, 8.0);
  EXPECT_EQ(vl.text.rope.lowFreqFactor, 1.0);
  EXPECT_EQ(vl.text.rope.highFreqFactor, 4.0);
  EXPECT_EQ(vl.text.rope.originalMaxPositionEmbeddings, 8192);
  json["vision_config"]["hidden_act"] = "gelu_pytorch_tanh";
  EXPECT_EQ(parse(json).deepseekVl()->vision.hiddenAct, Activation::GeluTanh);
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
  Json json = ft::requiredKeysOnlyV3Config();
  json["rope_theta"] = 50000;
  json["max_position_embeddings"] = 163840;
  json["rope_scaling"] = {{"type", "yarn"},
                          {"factor", 40},
                          {"beta_fast", 32},
                          {"beta_slow", 1},
                          {"mscale", 1.0},
                          {"mscale_all_dim", 1.0},
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
  Json json = ft::requiredKeysOnlyV3Config();
  json["max_position_embeddings"] = 256;
  json["rope_parameters"] = {
      {"rope_type", "yarn"}, {"type", "yarn"}, {"factor", 4.0}, {"rope_theta", 20000.0}};
  const RopeConfig rope = parse(json).deepseek()->rope;
  EXPECT_EQ(rope.type, RopeType::Yarn);
  EXPECT_DOUBLE_EQ(rope.theta, 20000.0);
  // HF standardisation: original_max_position_embeddings defaults to max_position_embeddings.
  EXPECT_EQ(rope.originalMaxPositionEmbeddings, 256);
  EXPECT_FALSE(rope.mscale);
}

TEST(ModelConfig, RopeLinearAndDefaultSpellings) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["rope_parameters"] = {{"rope_type", "linear"}, {"factor", 2}};
  EXPECT_DOUBLE_EQ(parse(json).deepseek()->rope.factor, 2.0);
  json["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1e6}};
  EXPECT_DOUBLE_EQ(parse(json).deepseek()->rope.theta, 1e6);
  json.erase("rope_parameters");
  json["rope_scaling"] = nullptr; // hub V2-Lite style: no scaling
  EXPECT_EQ(parse(json).deepseek()->rope.type, RopeType::Default);
}

TEST(ModelConfig, NumMtpLayersAlias) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["num_mtp_layers"] = 2;
  EXPECT_EQ(parse(json).deepseek()->numNextnPredictLayers, 2);
}

TEST(ModelConfig, QuantizationConfig) {
  Json json = ft::requiredKeysOnlyV3Config();
  json["quantization_config"] = {{"activation_scheme", "dynamic"},
                                 {"fmt", "e4m3"},
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
  Json json = ft::requiredKeysOnlyV3Config();
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
  Json json = ft::requiredKeysOnlyV3Config();
  json["eos_token_id"] = {1, 128805};
  json["pad_token_id"] = -1;
  ModelConfig config = parse(json);
  EXPECT_THAT(config.tokens.eos, ElementsAre(1, 128805));
  ASSERT_EQ(config.warnings.size(), 1u);
  EXPECT_THAT(config.warnings[0], HasSubstr("\"pad_token_id\" -1 is outside the vocabulary"));
}

} // namespace
