// The --inspect summary.
#include "TestCheckpoint.h"

#include "fathom/frontend/ModelSummary.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {
using namespace fathom::frontend;
namespace ft = fathom::frontend::testing;
using ::testing::HasSubstr;

TEST(ModelSummary, LayerRuns) {
  ModelConfig config = parseModelConfig(ft::tinyV3Config(), "config.json");
  EXPECT_EQ(describeLayerRuns(config), "0: dense MLP, 1-2: MoE (8 routed, top-2, 1 shared)");
  nlohmann::json json = ft::tinyV3Config();
  json["moe_layer_freq"] = 2;
  json["num_hidden_layers"] = 5;
  EXPECT_EQ(describeLayerRuns(parseModelConfig(json, "config.json")),
            "0-1: dense MLP, 2: MoE (8 routed, top-2, 1 shared), 3: dense MLP, 4: MoE (8 routed, "
            "top-2, 1 shared)");
}

TEST(ModelSummary, Formats) {
  EXPECT_EQ(formatCount(671026419200ull), "671.0B");
  EXPECT_EQ(formatCount(364600), "364.6K");
  EXPECT_EQ(formatCount(930), "930");
  EXPECT_EQ(formatBytes(688586727753ull), "688.6 GB");
  EXPECT_EQ(formatBytes(512), "512 B");
}

TEST(ModelSummary, TextAndJson) {
  ft::TempDir dir;
  ft::writeCheckpoint(dir.path(), ft::tinyV3Config());
  Checkpoint checkpoint = Checkpoint::open(dir.path());
  std::string text = formatSummaryText(checkpoint);
  EXPECT_THAT(text, HasSubstr("architecture: DeepseekV3ForCausalLM (model_type deepseek_v3"));
  EXPECT_THAT(text, HasSubstr("layers:       0: dense MLP, 1-2: MoE (8 routed, top-2, 1 shared)"));
  EXPECT_THAT(text, HasSubstr("experts:      per-expert layout"));
  EXPECT_THAT(text, HasSubstr("mtp:          1 declared, not in the checkpoint"));
  EXPECT_THAT(text, HasSubstr("rope:         yarn, theta 10000, factor 4"));

  nlohmann::json json = summaryJson(checkpoint);
  EXPECT_EQ(json["model_type"], "deepseek_v3");
  EXPECT_EQ(json["expert_layout"], "per-expert");
  EXPECT_EQ(json["tensors"]["count"], 91);
  EXPECT_EQ(json["config"]["kv_lora_rank"], 16);
  EXPECT_EQ(json["layers"][1]["kind"], "moe");
  EXPECT_TRUE(json["parameters"]["by_dtype"].contains("BF16"));
}

} // namespace
