// The weight inventory: expected tensors (counted by hand here), both expert layouts, MTP
// layers, classification heads and FP8 scales.
#include "TestCheckpoint.h"

#include "fathom/frontend/Checkpoint.h"
#include "fathom/frontend/ExpectedTensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace {
using namespace fathom;
using namespace fathom::frontend;
namespace ft = fathom::frontend::testing;
using ::testing::AllOf;
using ::testing::HasSubstr;
using Json = nlohmann::json;

const ExpectedTensor* findExpected(const std::vector<ExpectedTensor>& tensors,
                                   std::string_view name) {
  for (const ExpectedTensor& tensor : tensors)
    if (tensor.name == name)
      return &tensor;
  return nullptr;
}

std::vector<int64_t> shapeOf(const std::vector<ExpectedTensor>& tensors, std::string_view name) {
  const ExpectedTensor* tensor = findExpected(tensors, name);
  return tensor ? tensor->shape : std::vector<int64_t>{-1};
}

void removeTensor(std::vector<TensorSpec>& specs, std::string_view name) {
  specs.erase(std::remove_if(specs.begin(), specs.end(),
                             [&](const TensorSpec& spec) { return spec.name == name; }),
              specs.end());
}

TensorSpec& specNamed(std::vector<TensorSpec>& specs, std::string_view name) {
  for (TensorSpec& spec : specs)
    if (spec.name == name)
      return spec;
  throw std::runtime_error("no spec " + std::string(name));
}

// Replaces layer `layer`'s per-expert tensors with transformers v5's fused pair.
void fuseExperts(std::vector<TensorSpec>& specs, int layer) {
  const std::string prefix = "model.layers." + std::to_string(layer) + ".mlp.experts.";
  specs.erase(std::remove_if(specs.begin(), specs.end(),
                             [&](const TensorSpec& spec) { return spec.name.starts_with(prefix); }),
              specs.end());
  specs.push_back({prefix + "gate_up_proj", DType::BF16, {8, 64, 64}, {}});
  specs.push_back({prefix + "down_proj", DType::BF16, {8, 64, 32}, {}});
}

Checkpoint openLenient(const std::filesystem::path& folder) {
  return Checkpoint::open(folder, {.inventoryErrorsAreFatal = false});
}

TEST(ExpectedTensors, TinyV3NamesAndShapes) {
  auto tensors = expectedTensors(parseModelConfig(ft::tinyV3Config(), "config.json"));
  // 3 (embed, norm, lm_head) + layer 0: 9 attention/norm + 3 MLP
  // + layers 1-2: 9 + router 2 + 8 experts x 3 + shared 3 = 38 each.
  EXPECT_EQ(tensors.size(), 3u + 12u + 2u * 38u);
  EXPECT_EQ(shapeOf(tensors, "model.layers.0.self_attn.kv_a_proj_with_mqa.weight"),
            (std::vector<int64_t>{24, 64})); // kv_lora 16 + rope 8
  EXPECT_EQ(shapeOf(tensors, "model.layers.0.self_attn.q_b_proj.weight"),
            (std::vector<int64_t>{96, 32})); // 4 heads x (16 + 8), q_lora 32
  EXPECT_EQ(shapeOf(tensors, "model.layers.2.self_attn.kv_b_proj.weight"),
            (std::vector<int64_t>{128, 16})); // 4 heads x (16 nope + 16 v)
  EXPECT_EQ(shapeOf(tensors, "model.layers.0.mlp.down_proj.weight"),
            (std::vector<int64_t>{64, 96}));
  EXPECT_EQ(shapeOf(tensors, "model.layers.1.mlp.experts.7.down_proj.weight"),
            (std::vector<int64_t>{64, 32}));
  EXPECT_EQ(shapeOf(tensors, "model.layers.1.mlp.gate.e_score_correction_bias"),
            (std::vector<int64_t>{8}));
  EXPECT_EQ(shapeOf(tensors, "model.layers.2.mlp.shared_experts.up_proj.weight"),
            (std::vector<int64_t>{32, 64}));
  EXPECT_EQ(shapeOf(tensors, "lm_head.weight"), (std::vector<int64_t>{256, 64}));
  EXPECT_FALSE(findExpected(tensors, "model.layers.0.mlp.gate.weight"));
  EXPECT_FALSE(findExpected(tensors, "model.layers.3.input_layernorm.weight"));
}

TEST(ExpectedTensors, V2LiteHasAQProjAndNoRouterBias) {
  auto tensors = expectedTensors(parseModelConfig(ft::tinyV2Config(), "config.json"));
  EXPECT_EQ(shapeOf(tensors, "model.layers.0.self_attn.q_proj.weight"),
            (std::vector<int64_t>{96, 64}));
  EXPECT_FALSE(findExpected(tensors, "model.layers.0.self_attn.q_a_proj.weight"));
  EXPECT_FALSE(findExpected(tensors, "model.layers.1.mlp.gate.e_score_correction_bias"));
  // Two shared experts of width 32.
  EXPECT_EQ(shapeOf(tensors, "model.layers.1.mlp.shared_experts.gate_proj.weight"),
            (std::vector<int64_t>{64, 64}));
}

TEST(ExpectedTensors, AttentionBiasAddsBiasesWhereHfHasThem) {
  Json config = ft::tinyV3Config();
  config["attention_bias"] = true;
  auto tensors = expectedTensors(parseModelConfig(config, "config.json"));
  EXPECT_TRUE(findExpected(tensors, "model.layers.0.self_attn.q_a_proj.bias"));
  EXPECT_TRUE(findExpected(tensors, "model.layers.0.self_attn.kv_a_proj_with_mqa.bias"));
  EXPECT_TRUE(findExpected(tensors, "model.layers.0.self_attn.o_proj.bias"));
  EXPECT_FALSE(findExpected(tensors, "model.layers.0.self_attn.q_b_proj.bias"));
  EXPECT_FALSE(findExpected(tensors, "model.layers.0.self_attn.kv_b_proj.bias"));
}

TEST(ExpectedTensors, DeepseekVl) {
  auto tensors = expectedTensors(parseModelConfig(ft::tinyVlConfig(), "config.json"));
  EXPECT_EQ(shapeOf(tensors, "model.vision_model.embeddings.patch_embedding.weight"),
            (std::vector<int64_t>{32, 3, 16, 16}));
  EXPECT_EQ(shapeOf(tensors, "model.vision_model.embeddings.position_embedding.weight"),
            (std::vector<int64_t>{4, 32}));
  EXPECT_EQ(shapeOf(tensors, "model.aligner.linear1.weight"), (std::vector<int64_t>{64, 32}));
  EXPECT_EQ(shapeOf(tensors, "model.language_model.layers.1.self_attn.k_proj.weight"),
            (std::vector<int64_t>{64, 64}));
  EXPECT_EQ(shapeOf(tensors, "lm_head.weight"), (std::vector<int64_t>{256, 64}));
  EXPECT_FALSE(findExpected(tensors, "model.vision_model.head.probe"));
}

TEST(Inventory, CompleteCheckpointPasses) {
  ft::TempDir dir;
  ft::writeCheckpoint(dir.path(), ft::tinyV3Config());
  Checkpoint checkpoint = Checkpoint::open(dir.path());
  const InventoryReport& report = checkpoint.inventory();
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.expectedCount, 91u);
  EXPECT_EQ(report.expertLayout, ExpertLayout::PerExpert);
  EXPECT_TRUE(report.unexpected.empty());
  EXPECT_TRUE(report.mtpLayers.empty());
}

TEST(Inventory, FusedExpertLayout) {
  ft::TempDir dir;
  ft::writeCheckpoint(dir.path(), ft::tinyV3Config(), [](std::vector<TensorSpec>& specs) {
    fuseExperts(specs, 1);
    fuseExperts(specs, 2);
  });
  Checkpoint checkpoint = Checkpoint::open(dir.path());
  EXPECT_EQ(checkpoint.inventory().expertLayout, ExpertLayout::Fused);
  EXPECT_EQ(checkpoint.inventory().expectedCount, 3u + 12u + 2u * 16u);
}

TEST(Inventory, MixedLayoutsAcrossLayersAreReported) {
  ft::TempDir dir;
  ft::writeCheckpoint(dir.path(), ft::tinyV3Config(),
                      [](std::vector<TensorSpec>& specs) { fuseExperts(specs, 2); });
  EXPECT_EQ(Checkpoint::open(dir.path()).inventory().expertLayout, ExpertLayout::Mixed);
}

TEST(Inventory, BothLayoutsInOneLayerIsAnError) {
  ft::TempDir dir;
  ft::writeCheckpoint(dir.path(), ft::tinyV3Config(), [](std::vector<TensorSpec>& specs) {
    specs.push_back({"model.layers.1.mlp.experts.gate_up_proj", DType::BF16, {8, 64, 64}, {}});
  });
  EXPECT_THAT(
      ft::errorOf([&] { Checkpoint::open(dir.path()); }),
      AllOf(HasSubstr("model.safetensors"), HasSubstr("layer 1 stores its experts both fused")));
}

TEST(Inventory, MissingTensorsNamedWithACount) {
  ft::TempDir dir;
  ft::writeCheckpoint(dir.path(), ft::tinyV3Config(), [](std::vector<TensorSpec>& specs) {
    removeTensor(specs, "model.layers.0.self_attn.q_a_proj.weight");
    for (int expert = 0; expert < 4; ++expert)
      removeTensor(specs,
                   "model.layers.2.mlp.experts." + std::to_string(expert) + ".up_proj.weight");
  });
  EXPECT_THAT(ft::errorOf([&] { Checkpoint::open(dir.path()); }),
              AllOf(HasSubstr("model.safetensors: 5 of 91 expected tensors missing: "
                              "model.layers.0.self_attn.q_a_proj.weight, "
                              "model.layers.2.mlp.experts.0.up_proj.weight, "
                              "model.layers.2.mlp.experts.1.up_proj.weight (and 2 more)")));
}

TEST(Inventory, ShapeMismatchExplainsTheRule) {
  ft::TempDir dir;
  ft::writeCheckpoint(dir.path(), ft::tinyV3Config(), [](std::vector<TensorSpec>& specs) {
    specNamed(specs, "model.layers.1.self_attn.kv_a_proj_with_mqa.weight").shape = {16, 64};
  });
  EXPECT_THAT(
      ft::errorOf([&] { Checkpoint::open(dir.path()); }),
      HasSubstr("model.safetensors: tensor "
                "\"model.layers.1.self_attn.kv_a_proj_with_mqa.weight\" has shape [16, 64], "
                "but the config needs [24, 64] = [kv_lora_rank + qk_rope_head_dim, "
                "hidden_size]"));
}

TEST(Inventory, IntegerWeightIsAnError) {
  ft::TempDir dir;
  ft::writeCheckpoint(dir.path(), ft::tinyV3Config(), [](std::vector<TensorSpec>& specs) {
    specNamed(specs, "model.norm.weight").dtype = DType::I16;
  });
  EXPECT_THAT(ft::errorOf([&] { Checkpoint::open(dir.path()); }),
              HasSubstr("tensor \"model.norm.weight\" has dtype I16, expected a floating-point"));
}

TEST(Inventory, ExtraTensorsAreWarnings) {
  ft::TempDir dir;
  ft::writeCheckpoint(dir.path(), ft::tinyV3Config(), [](std::vector<TensorSpec>& specs) {
    specs.push_back({"model.layers.0.self_attn.rotary_emb.inv_freq", DType::F32, {4}, {}});
  });
  Checkpoint checkpoint = Checkpoint::open(dir.path());
  EXPECT_THAT(checkpoint.inventory().unexpected,
              ::testing::ElementsAre("model.layers.0.self_attn.rotary_emb.inv_freq"));
  ASSERT_EQ(checkpoint.warnings().size(), 1u);
  EXPECT_THAT(checkpoint.warnings()[0], HasSubstr("1 tensors not read by the architecture: "
                                                  "model.layers.0.self_attn.rotary_emb.inv_freq"));
}

TEST(Inventory, MtpLayerIsRecognisedNotFlagged) {
  ft::TempDir dir;
  ft::writeCheckpoint(dir.path(), ft::tinyV3Config(), [](std::vector<TensorSpec>& specs) {
    for (const char* name : {"enorm.weight", "hnorm.weight", "shared_head.norm.weight"})
      specs.push_back({std::string("model.layers.3.") + name, DType::BF16, {64}, {}});
    specs.push_back({"model.layers.3.eh_proj.weight", DType::BF16, {64, 128}, {}});
    // Beyond num_nextn_predict_layers (1): not an MTP layer.
    specs.push_back({"model.layers.4.enorm.weight", DType::BF16, {64}, {}});
  });
  Checkpoint checkpoint = Checkpoint::open(dir.path());
  EXPECT_THAT(checkpoint.inventory().mtpLayers, ::testing::ElementsAre(3));
  EXPECT_EQ(checkpoint.inventory().mtpTensorCount, 4u);
  EXPECT_THAT(checkpoint.inventory().unexpected,
              ::testing::ElementsAre("model.layers.4.enorm.weight"));
}

TEST(Inventory, TiedEmbeddingsNeedNoHead) {
  ft::TempDir dir;
  Json config = ft::tinyV3Config();
  config["tie_word_embeddings"] = true;
  ft::writeCheckpoint(dir.path(), config);
  Checkpoint checkpoint = Checkpoint::open(dir.path());
  EXPECT_TRUE(checkpoint.inventory().ok());
  EXPECT_FALSE(checkpoint.findTensor("lm_head.weight"));
}

TEST(Inventory, ClassificationHeads) {
  ft::TempDir dir;
  Json config = ft::tinyV3Config();
  config["architectures"] = {"DeepseekV3ForTokenClassification"};
  config["num_labels"] = 5;
  ft::writeCheckpoint(dir.path(), config,
                      [](std::vector<TensorSpec>& specs) { removeTensor(specs, "score.bias"); });
  EXPECT_THAT(ft::errorOf([&] { Checkpoint::open(dir.path()); }),
              HasSubstr("1 of 92 expected tensors missing: score.bias"));
}

// FP8: layer 0's dense down_proj [64, 96] quantized, with one 128x128 block -> scale [1, 1].
class Fp8Inventory : public ::testing::Test {
protected:
  Json fp8Config() const {
    Json config = ft::tinyV3Config();
    config["quantization_config"] = {{"quant_method", "fp8"},
                                     {"fmt", "e4m3"},
                                     {"activation_scheme", "dynamic"},
                                     {"weight_block_size", {128, 128}}};
    return config;
  }
  std::string openError(const Json& config, const std::function<void(TensorSpec&)>& editScale,
                        bool withScale = true) {
    ft::writeCheckpoint(dir_.path(), config, [&](std::vector<TensorSpec>& specs) {
      specNamed(specs, kWeight).dtype = DType::F8E4M3;
      if (!withScale)
        return;
      TensorSpec scale{std::string(kWeight) + "_scale_inv", DType::F32, {1, 1}, {}};
      if (editScale)
        editScale(scale);
      specs.push_back(scale);
    });
    return ft::errorOf([&] { Checkpoint::open(dir_.path()); });
  }
  static constexpr const char* kWeight = "model.layers.0.mlp.down_proj.weight";
  ft::TempDir dir_;
};

TEST_F(Fp8Inventory, WeightWithItsScalePasses) {
  ft::writeCheckpoint(dir_.path(), fp8Config(), [](std::vector<TensorSpec>& specs) {
    specNamed(specs, kWeight).dtype = DType::F8E4M3;
    specs.push_back({std::string(kWeight) + "_scale_inv", DType::F32, {1, 1}, {}});
  });
  Checkpoint checkpoint = Checkpoint::open(dir_.path());
  EXPECT_EQ(checkpoint.inventory().fp8WeightCount, 1u);
  EXPECT_TRUE(checkpoint.inventory().unexpected.empty());
}

TEST_F(Fp8Inventory, WeightWithoutItsScale) {
  EXPECT_THAT(openError(fp8Config(), {}, /*withScale=*/false),
              AllOf(HasSubstr("model.safetensors"),
                    HasSubstr("FP8 tensor \"model.layers.0.mlp.down_proj.weight\" has no scale "
                              "tensor \"model.layers.0.mlp.down_proj.weight_scale_inv\"")));
}

TEST_F(Fp8Inventory, ScaleOfTheWrongShape) {
  EXPECT_THAT(openError(fp8Config(),
                        [](TensorSpec& scale) {
                          scale.shape = {1, 2};
                        }),
              AllOf(HasSubstr("model.safetensors"),
                    HasSubstr("scale tensor \"model.layers.0.mlp.down_proj.weight_scale_inv\" has "
                              "shape [1, 2], expected [1, 1] for "
                              "\"model.layers.0.mlp.down_proj.weight\" [64, 96] with 128x128 "
                              "blocks")));
}

TEST_F(Fp8Inventory, ScaleOfTheWrongDType) {
  EXPECT_THAT(openError(fp8Config(), [](TensorSpec& scale) { scale.dtype = DType::BF16; }),
              HasSubstr("scale tensor \"model.layers.0.mlp.down_proj.weight_scale_inv\" is BF16, "
                        "expected F32"));
}

TEST_F(Fp8Inventory, Fp8WithoutQuantizationConfig) {
  EXPECT_THAT(openError(ft::tinyV3Config(), {}),
              HasSubstr("tensor \"model.layers.0.mlp.down_proj.weight\" is F8_E4M3 but config.json "
                        "has no quantization_config"));
}

TEST(InventoryVl, HubNestedVisionPrefixIsAccepted) {
  ft::TempDir dir;
  ft::writeCheckpoint(dir.path(), ft::tinyVlConfig(), [](std::vector<TensorSpec>& specs) {
    for (TensorSpec& spec : specs)
      if (spec.name.starts_with("model.vision_model."))
        spec.name.insert(std::string("model.vision_model.").size(), "vision_model.");
  });
  Checkpoint checkpoint = Checkpoint::open(dir.path());
  EXPECT_EQ(checkpoint.inventory().visionPrefix, "model.vision_model.vision_model.");
  EXPECT_TRUE(checkpoint.inventory().ok());
}

TEST(InventoryVl, LenientOpenKeepsEveryProblem) {
  ft::TempDir dir;
  ft::writeCheckpoint(dir.path(), ft::tinyVlConfig(), [](std::vector<TensorSpec>& specs) {
    removeTensor(specs, "lm_head.weight");
    specNamed(specs, "model.aligner.linear2.bias").shape = {3};
  });
  Checkpoint checkpoint = openLenient(dir.path());
  EXPECT_THAT(checkpoint.inventory().missing, ::testing::ElementsAre("lm_head.weight"));
  ASSERT_EQ(checkpoint.inventory().errors.size(), 1u);
  EXPECT_THAT(checkpoint.inventory().errors[0], HasSubstr("\"model.aligner.linear2.bias\""));
}

} // namespace
