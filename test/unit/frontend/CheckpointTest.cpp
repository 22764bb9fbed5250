// Opening checkpoint folders: the files found, the folder-level failures, and the reference
// checkpoints transformers 5.23 wrote (test/reference/checkpoints).
#include "TestCheckpoint.h"

#include "fathom/frontend/Checkpoint.h"
#include "fathom/frontend/Fp8Dequant.h"
#include "fathom/runtime/Numeric.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

namespace {
using namespace fathom;
using namespace fathom::frontend;
namespace ft = fathom::frontend::testing;
using ::testing::AllOf;
using ::testing::HasSubstr;
using Json = nlohmann::json;

std::filesystem::path referenceCheckpoint(const char* name) {
  return std::filesystem::path(FATHOM_SOURCE_DIR) / "test/reference/checkpoints" / name;
}

#define SKIP_WITHOUT_REFERENCE(name)                                                               \
  if (!std::filesystem::exists(referenceCheckpoint(name)))                                         \
  GTEST_SKIP() << "test/reference/checkpoints/" << name << " is absent"

TEST(Checkpoint, OpensASingleFileCheckpointAndItsSideFiles) {
  ft::TempDir dir;
  ft::writeCheckpoint(dir.path(), ft::tinyV3Config());
  ft::writeJson(dir / "generation_config.json", {{"eos_token_id", {1, 2}}, {"do_sample", true}});
  ft::writeJson(dir / "tokenizer.json", {{"version", "1.0"}, {"model", {{"type", "BPE"}}}});
  ft::writeJson(dir / "tokenizer_config.json", {{"add_bos_token", true}});
  Checkpoint checkpoint = Checkpoint::open(dir.path());
  EXPECT_EQ(checkpoint.config().modelType, ModelType::DeepseekV3);
  EXPECT_THAT(checkpoint.generationConfig().eosTokenIds, ::testing::ElementsAre(1, 2));
  EXPECT_TRUE(checkpoint.generationConfig().doSample);
  EXPECT_EQ(checkpoint.files().tokenizer, dir / "tokenizer.json");
  ASSERT_TRUE(checkpoint.tokenizerConfig());
  EXPECT_EQ((*checkpoint.tokenizerConfig())["add_bos_token"], true);
  EXPECT_FALSE(checkpoint.imageProcessorConfig());
  EXPECT_EQ(checkpoint.tensorNames().size(), 91u);
  EXPECT_EQ(checkpoint.tensor("model.norm.weight").dtype, DType::BF16);
  EXPECT_TRUE(checkpoint.warnings().empty());
}

TEST(Checkpoint, OpensAShardedCheckpoint) {
  ft::TempDir dir;
  ft::writeShardedCheckpoint(dir.path(), ft::tinyV3Config(), 3);
  Checkpoint checkpoint = Checkpoint::open(dir.path());
  EXPECT_EQ(checkpoint.tensors().fileCount(), 3u);
  EXPECT_EQ(checkpoint.files().weights.filename(), "model.safetensors.index.json");
  EXPECT_TRUE(checkpoint.inventory().ok());
}

TEST(Checkpoint, ImageProcessorFromProcessorConfig) {
  ft::TempDir dir;
  ft::writeCheckpoint(dir.path(), ft::tinyVlConfig());
  ft::writeJson(dir / "processor_config.json",
                {{"image_processor", {{"image_mean", {0.5, 0.5, 0.5}}}}, {"num_image_tokens", 4}});
  Checkpoint checkpoint = Checkpoint::open(dir.path());
  ASSERT_TRUE(checkpoint.imageProcessorConfig());
  EXPECT_EQ((*checkpoint.imageProcessorConfig())["image_mean"][0], 0.5);
  EXPECT_TRUE(checkpoint.warnings().empty());
}

// With both files, transformers 5.23 takes processor_config.json's copy.
TEST(Checkpoint, ImageProcessorPrefersTheNestedCopy) {
  ft::TempDir dir;
  ft::writeCheckpoint(dir.path(), ft::tinyVlConfig());
  ft::writeJson(dir / "processor_config.json",
                {{"image_processor", {{"min_size", 14}}}, {"num_image_tokens", 4}});
  ft::writeJson(dir / "preprocessor_config.json", {{"min_size", 7}});
  Checkpoint checkpoint = Checkpoint::open(dir.path());
  ASSERT_TRUE(checkpoint.imageProcessorConfig());
  EXPECT_EQ((*checkpoint.imageProcessorConfig())["min_size"], 14);
}

TEST(CheckpointErrors, MissingFolder) {
  ft::TempDir dir;
  EXPECT_THAT(ft::errorOf([&] { Checkpoint::open(dir / "nope"); }),
              AllOf(HasSubstr("nope"), HasSubstr("checkpoint folder does not exist")));
}

TEST(CheckpointErrors, MissingConfig) {
  ft::TempDir dir;
  EXPECT_THAT(ft::errorOf([&] { Checkpoint::open(dir.path()); }),
              AllOf(HasSubstr("config.json"), HasSubstr("file not found")));
}

TEST(CheckpointErrors, NoWeights) {
  ft::TempDir dir;
  ft::writeJson(dir / "config.json", ft::tinyV3Config());
  EXPECT_THAT(ft::errorOf([&] { Checkpoint::open(dir.path()); }),
              HasSubstr("no weights (expected model.safetensors or "
                        "model.safetensors.index.json)"));
}

TEST(CheckpointErrors, MalformedTokenizerJson) {
  ft::TempDir dir;
  ft::writeCheckpoint(dir.path(), ft::tinyV3Config());
  ft::writeFile(dir / "tokenizer.json", R"({"model": {"vocab": {"a": 0, "a": 1}}})");
  EXPECT_THAT(ft::errorOf([&] { Checkpoint::open(dir.path()); }),
              AllOf(HasSubstr("tokenizer.json"), HasSubstr("duplicate key \"a\"")));
}

TEST(CheckpointErrors, TokenizerJsonWithoutAModel) {
  ft::TempDir dir;
  ft::writeCheckpoint(dir.path(), ft::tinyV3Config());
  ft::writeFile(dir / "tokenizer.json", R"({"version": "1.0"})");
  EXPECT_THAT(ft::errorOf([&] { Checkpoint::open(dir.path()); }),
              AllOf(HasSubstr("tokenizer.json"), HasSubstr("\"model\" section")));
}

TEST(CheckpointErrors, TokenizerConfigNotAnObject) {
  ft::TempDir dir;
  ft::writeCheckpoint(dir.path(), ft::tinyV3Config());
  ft::writeFile(dir / "tokenizer_config.json", "[]");
  EXPECT_THAT(ft::errorOf([&] { Checkpoint::open(dir.path()); }),
              AllOf(HasSubstr("tokenizer_config.json"), HasSubstr("must be a JSON object")));
}

TEST(CheckpointErrors, MalformedGenerationConfig) {
  ft::TempDir dir;
  ft::writeCheckpoint(dir.path(), ft::tinyV3Config());
  ft::writeFile(dir / "generation_config.json", R"({"top_k": -1})");
  EXPECT_THAT(ft::errorOf([&] { Checkpoint::open(dir.path()); }),
              AllOf(HasSubstr("generation_config.json"),
                    HasSubstr("\"top_k\" must be an integer in [0, 2147483647], got -1")));
}

// --- reference checkpoints (written by transformers 5.23) -------------------------------

TEST(ReferenceCheckpoints, AllOpenCleanly) {
  for (const char* name : {"tiny-v3", "tiny-v3-fused", "tiny-v3-fp8", "tiny-v2-lite", "tiny-vl",
                           "tiny-v3-seqcls", "tiny-v3-tokcls"}) {
    if (!std::filesystem::exists(referenceCheckpoint(name)))
      continue;
    SCOPED_TRACE(name);
    Checkpoint checkpoint = Checkpoint::open(referenceCheckpoint(name));
    EXPECT_TRUE(checkpoint.inventory().ok());
    EXPECT_TRUE(checkpoint.inventory().unexpected.empty());
  }
}

TEST(ReferenceCheckpoints, Fp8ShardedWithMtp) {
  SKIP_WITHOUT_REFERENCE("tiny-v3-fp8");
  Checkpoint checkpoint = Checkpoint::open(referenceCheckpoint("tiny-v3-fp8"));
  const DeepseekConfig& model = *checkpoint.config().deepseek();
  EXPECT_GT(checkpoint.tensors().fileCount(), 1u);
  ASSERT_TRUE(checkpoint.config().quantization);
  EXPECT_EQ(checkpoint.config().quantization->weightBlockSize, (BlockSize{128, 128}));
  EXPECT_THAT(checkpoint.inventory().mtpLayers, ::testing::ElementsAre(model.numHiddenLayers));
  EXPECT_GT(checkpoint.inventory().fp8WeightCount, 0u);

  // Dequantize one real FP8 weight and check it against the rule computed here, element by
  // element, from the raw bytes.
  const std::string name = "model.layers.0.self_attn.kv_a_proj_with_mqa.weight";
  TensorView weight = checkpoint.tensor(name);
  TensorView scale = checkpoint.tensor(fp8ScaleName(name));
  ASSERT_EQ(weight.dtype, DType::F8E4M3);
  std::vector<float> out(size_t(weight.numel()));
  dequantizeFp8(weight, scale, {128, 128}, out);
  const int64_t columns = weight.shape[1];
  const int64_t scaleColumns = scale.shape[1];
  for (int64_t row = 0; row < weight.shape[0]; row += 7)
    for (int64_t column = 0; column < columns; column += 5) {
      float s;
      std::memcpy(&s, scale.data + 4 * ((row / 128) * scaleColumns + column / 128), 4);
      const auto code = static_cast<uint8_t>(weight.data[row * columns + column]);
      ASSERT_EQ(out[size_t(row * columns + column)], f8e4m3ToFloat(code) * s);
    }
}

TEST(ReferenceCheckpoints, FusedExpertLayout) {
  SKIP_WITHOUT_REFERENCE("tiny-v3-fused");
  Checkpoint checkpoint = Checkpoint::open(referenceCheckpoint("tiny-v3-fused"));
  EXPECT_EQ(checkpoint.inventory().expertLayout, ExpertLayout::Fused);
}

TEST(ReferenceCheckpoints, V2LiteAndVl) {
  SKIP_WITHOUT_REFERENCE("tiny-v2-lite");
  SKIP_WITHOUT_REFERENCE("tiny-vl");
  Checkpoint v2 = Checkpoint::open(referenceCheckpoint("tiny-v2-lite"));
  EXPECT_FALSE(v2.config().deepseek()->qLoraRank);
  Checkpoint vl = Checkpoint::open(referenceCheckpoint("tiny-vl"));
  EXPECT_EQ(vl.config().deepseekVl()->vision.hiddenAct, Activation::Gelu);
  EXPECT_TRUE(vl.imageProcessorConfig());
}

} // namespace
