// Builds fathom modules from the Hugging Face reference checkpoints (test/reference/) and checks
// them against what HF itself computed there: the softmax scale and the RoPE cos/sin factor
// recorded in outputs/<name>.json, one MLA block per layer, MoE where the config says, and the
// weights the builder declares.
#include "models/DeepseekBuilder.h"
#include "dialects/fathom/FathomDialect.h"
#include "fathom/frontend/Checkpoint.h"
#include "fathom/runtime/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace fathom::models {
namespace {

const std::string kReference = std::string(FATHOM_SOURCE_DIR) + "/test/reference/";

nlohmann::json derived(const std::string& name) {
  std::ifstream in(kReference + "outputs/" + name + ".json");
  return nlohmann::json::parse(in).at("derived");
}

struct Built {
  explicit Built(const std::string& name)
      : checkpoint(frontend::Checkpoint::open(kReference + "checkpoints/" + name)) {}
  frontend::Checkpoint checkpoint;
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

std::unique_ptr<Built> build(const std::string& name, DType compute) {
  auto built = std::make_unique<Built>(name);
  built->module = buildDeepseek(built->context, built->checkpoint.config(),
                                built->checkpoint.weightCatalog(), {compute, 64, 1});
  return built;
}

template <typename Op> std::vector<Op> opsOf(mlir::ModuleOp module) {
  std::vector<Op> ops;
  module.walk([&](Op op) { ops.push_back(op); });
  return ops;
}

class ReferenceCheckpoint : public ::testing::TestWithParam<std::string> {};

TEST_P(ReferenceCheckpoint, BuildsAVerifiedModuleWithHfScales) {
  for (DType compute : {DType::F32, DType::BF16}) {
    auto built = build(GetParam(), compute);
    ASSERT_TRUE(mlir::succeeded(mlir::verify(*built->module)));
    const frontend::DeepseekConfig& config = *built->checkpoint.config().deepseek();
    auto attention = opsOf<mlir::fathom::MlaAttentionOp>(*built->module);
    ASSERT_EQ(int64_t(attention.size()), config.numHiddenLayers);
    int64_t moeLayers = 0;
    for (int64_t layer = 0; layer < config.numHiddenLayers; ++layer)
      moeLayers += config.isMoeLayer(layer);
    EXPECT_EQ(int64_t(opsOf<mlir::fathom::MoeRouterOp>(*built->module).size()), moeLayers);
    EXPECT_EQ(int64_t(opsOf<mlir::fathom::ExpertFfnOp>(*built->module).size()), moeLayers);

    nlohmann::json hf = derived(GetParam()).at("fp32");
    mlir::fathom::MlaAttentionOp first = attention.front();
    EXPECT_NEAR(first.getScale().convertToFloat(), hf.at("softmax_scale").get<double>(), 1e-7);
    if (hf.contains("rope_attention_factor")) {
      EXPECT_NEAR(first.getRope().getAttentionFactor().convertToDouble(),
                  hf.at("rope_attention_factor").get<double>(), 1e-12);
    }
    EXPECT_EQ(first.getRope().getDim(), config.qkRopeHeadDim);
  }
}

INSTANTIATE_TEST_SUITE_P(Hf, ReferenceCheckpoint,
                         ::testing::Values("tiny-v3", "tiny-v3-fp8", "tiny-v2-lite",
                                           "tiny-v3-seqcls", "tiny-v3-tokcls"));

TEST(DeepseekBuilder, KeepsFp8WeightsQuantizedWithTheirScales) {
  auto built = build("tiny-v3-fp8", DType::BF16);
  int quantized = 0;
  for (auto param : opsOf<mlir::fathom::ParamOp>(*built->module)) {
    if (!param.getQuantization())
      continue;
    ++quantized;
    EXPECT_TRUE(mlir::isa<mlir::Float8E4M3FNType>(param.getTensorType().getElementType()));
    EXPECT_EQ(param.getScale()->str(), param.getSymName().str() + "_scale_inv");
  }
  EXPECT_GT(quantized, 0);
  // The MTP layer (model.layers.N at N = num_hidden_layers) is not part of the network.
  std::string mtp = "model.layers." +
                    std::to_string(built->checkpoint.config().deepseek()->numHiddenLayers) + ".";
  for (auto param : opsOf<mlir::fathom::ParamOp>(*built->module))
    EXPECT_FALSE(param.getSymName().starts_with(mtp)) << param.getSymName().str();
}

TEST(DeepseekBuilder, MarksConvertedWeightsWithTheirSourceDtype) {
  auto built = build("tiny-v3", DType::F32);
  bool sawBias = false;
  for (auto param : opsOf<mlir::fathom::ParamOp>(*built->module)) {
    if (param.getSymName().ends_with("e_score_correction_bias")) {
      sawBias = true; // HF keeps the router bias in fp32 whatever the model dtype
      EXPECT_FALSE(param.getSourceDtype());
      continue;
    }
    ASSERT_TRUE(param.getSourceDtype()) << param.getSymName().str();
    EXPECT_EQ(*param.getSourceDtype(), mlir::fathom::DType::bf16);
    EXPECT_TRUE(param.getTensorType().getElementType().isF32());
  }
  EXPECT_TRUE(sawBias);
}

TEST(DeepseekBuilder, HeadsEndInTheirProjection) {
  auto lm = build("tiny-v3", DType::F32);
  EXPECT_EQ(opsOf<mlir::fathom::LmHeadOp>(*lm->module).size(), 1u);
  auto tokens = build("tiny-v3-tokcls", DType::F32);
  EXPECT_TRUE(opsOf<mlir::fathom::LmHeadOp>(*tokens->module).empty());
  auto model = tokens->module->lookupSymbol<mlir::func::FuncOp>("model");
  ASSERT_TRUE(model);
  auto result = mlir::cast<mlir::RankedTensorType>(model.getResultTypes()[0]);
  EXPECT_EQ(result.getDimSize(2), tokens->checkpoint.config().numLabels);
  // Sequence classification pools one row per sequence before the score projection.
  auto sequences = build("tiny-v3-seqcls", DType::F32);
  EXPECT_EQ(opsOf<mlir::fathom::LastTokenRowsOp>(*sequences->module).size(), 1u);
  auto pooled = mlir::cast<mlir::RankedTensorType>(
      sequences->module->lookupSymbol<mlir::func::FuncOp>("model").getResultTypes()[0]);
  EXPECT_EQ(pooled.getRank(), 2);
}

TEST(DeepseekBuilder, SlicesFusedExpertsIntoPerExpertParams) {
  // transformers v5's gate_up_proj [E, 2I, H]: expert e's gate rows start at e * 2I * H, its up
  // rows I * H later; down_proj [E, H, I] slices at e * H * I.
  auto built = build("tiny-v3-fused", DType::F32);
  const auto& config = *built->checkpoint.config().deepseek();
  int64_t hidden = config.hiddenSize, inter = config.moeIntermediateSize;
  auto param = [&](const std::string& name) {
    return built->module->lookupSymbol<mlir::fathom::ParamOp>(name);
  };
  auto up = param("model.layers.1.mlp.experts.3.up_proj.weight");
  ASSERT_TRUE(up);
  EXPECT_EQ(up.getSource(), "model.layers.1.mlp.experts.gate_up_proj");
  EXPECT_EQ(up.getSourceOffset(), 3 * 2 * inter * hidden + inter * hidden);
  EXPECT_EQ(up.getTensorType().getShape(), llvm::ArrayRef<int64_t>({inter, hidden}));
  auto down = param("model.layers.1.mlp.experts.3.down_proj.weight");
  ASSERT_TRUE(down);
  EXPECT_EQ(down.getSource(), "model.layers.1.mlp.experts.down_proj");
  EXPECT_EQ(down.getSourceOffset(), 3 * hidden * inter);
}

} // namespace
} // namespace fathom::models
