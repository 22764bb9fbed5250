// The DeepSeek-VL builder on tiny-vl-gqa's weights with config variants: which rope table and
// which GELU each hidden_act / rope_type gives, and the configs it refuses (with their numbers).
#include "models/DeepseekVlBuilder.h"
#include "dialects/fathom/FathomDialect.h"
#include "fathom/frontend/Checkpoint.h"
#include "fathom/runtime/Error.h"

#include "mlir/IR/Verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <unistd.h>

namespace fathom::models {
namespace {
namespace fs = std::filesystem;

const fs::path kCheckpoint =
    fs::path(FATHOM_SOURCE_DIR) / "test" / "reference" / "checkpoints" / "tiny-vl-gqa";

// tiny-vl-gqa with its config.json edited by `edit`, in a temporary folder.
class EditedCheckpoint {
public:
  explicit EditedCheckpoint(const std::function<void(nlohmann::json&)>& edit)
      : dir_(fs::temp_directory_path() / ("fathom-vl-builder-" + std::to_string(getpid()))) {
    fs::remove_all(dir_);
    fs::copy(kCheckpoint, dir_, fs::copy_options::recursive);
    std::ifstream in(dir_ / "config.json");
    nlohmann::json config = nlohmann::json::parse(in);
    edit(config);
    std::ofstream(dir_ / "config.json") << config.dump(2);
  }
  ~EditedCheckpoint() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  const fs::path& dir() const { return dir_; }

private:
  fs::path dir_;
};

struct Built {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

std::unique_ptr<Built> build(const fs::path& dir, int64_t maxSeqLen) {
  frontend::Checkpoint checkpoint = frontend::Checkpoint::open(dir);
  auto built = std::make_unique<Built>();
  built->module = buildDeepseekVl(built->context, checkpoint.config(), checkpoint.weightCatalog(),
                                  {DType::F32, maxSeqLen, 1});
  EXPECT_TRUE(mlir::succeeded(mlir::verify(*built->module)));
  return built;
}

template <typename Op> std::vector<Op> opsOf(mlir::ModuleOp module) {
  std::vector<Op> ops;
  module.walk([&](Op op) { ops.push_back(op); });
  return ops;
}

TEST(DeepseekVlBuilder, Llama3RopeAndTanhGeluFromTheConfig) {
  auto built = build(kCheckpoint, 128);
  auto attention = opsOf<mlir::fathom::MultiHeadAttentionOp>(*built->module);
  ASSERT_FALSE(attention.empty());
  int64_t withRope = 0;
  for (auto op : attention) {
    mlir::fathom::RopeAttr rope = op.getRopeAttr();
    if (!rope)
      continue; // the vision tower's
    ++withRope;
    EXPECT_EQ(rope.getScaling(), mlir::fathom::RopeScaling::llama3);
    EXPECT_EQ(rope.getFactor().convertToDouble(), 4.0);
    EXPECT_EQ(rope.getOriginalMaxPositions(), 64);
    EXPECT_EQ(rope.getLowFreqFactor().convertToDouble(), 1.0);
    EXPECT_EQ(rope.getHighFreqFactor().convertToDouble(), 4.0);
    EXPECT_EQ(op.getNumKvHeads(), 2u);
  }
  EXPECT_EQ(withRope, 2);
  // Two encoder layers' MLPs take gelu_pytorch_tanh; the aligner's GELU stays exact.
  std::map<mlir::fathom::GeluApproximation, int> gelus;
  for (auto op : opsOf<mlir::fathom::GeluOp>(*built->module))
    ++gelus[op.getApproximation()];
  EXPECT_EQ(gelus[mlir::fathom::GeluApproximation::tanh], 2);
  EXPECT_EQ(gelus[mlir::fathom::GeluApproximation::erf], 1);
}

TEST(DeepseekVlBuilder, GeluNewIsTheUnfusedTanhForm) {
  EditedCheckpoint edited([](nlohmann::json& c) { c["vision_config"]["hidden_act"] = "gelu_new"; });
  auto built = build(edited.dir(), 128);
  int unfused = 0;
  for (auto op : opsOf<mlir::fathom::GeluOp>(*built->module))
    unfused += op.getApproximation() == mlir::fathom::GeluApproximation::tanh_unfused;
  EXPECT_EQ(unfused, 2);
}

TEST(DeepseekVlBuilder, RefusesAVisionActivationThatIsNotAGelu) {
  EditedCheckpoint edited([](nlohmann::json& c) { c["vision_config"]["hidden_act"] = "relu"; });
  EXPECT_THAT([&] { build(edited.dir(), 128); },
              testing::ThrowsMessage<Error>(testing::HasSubstr(
                  "vision_config.hidden_act \"relu\" is not supported (gelu, gelu_pytorch_tanh or "
                  "gelu_new)")));
}

// Dynamic NTK only changes the frequencies of a call that reaches past max_position_embeddings
// (256 here): up to there it is the default rope, past it the builder refuses.
TEST(DeepseekVlBuilder, DynamicRopeIsTheDefaultUpToMaxPositionEmbeddings) {
  EditedCheckpoint edited([](nlohmann::json& c) {
    c["text_config"]["rope_parameters"] = {
        {"rope_type", "dynamic"}, {"rope_theta", 10000.0}, {"factor", 2.0}};
  });
  auto built = build(edited.dir(), 256);
  int64_t withRope = 0;
  for (auto op : opsOf<mlir::fathom::MultiHeadAttentionOp>(*built->module))
    if (mlir::fathom::RopeAttr rope = op.getRopeAttr()) {
      ++withRope;
      EXPECT_EQ(rope.getScaling(), mlir::fathom::RopeScaling::none);
    }
  EXPECT_EQ(withRope, 2);
  EXPECT_THAT([&] { build(edited.dir(), 257); },
              testing::ThrowsMessage<Error>(testing::HasSubstr(
                  "rope type dynamic rescales its frequencies per call beyond "
                  "max_position_embeddings (256), which a compiled table cannot do; compile with "
                  "a max sequence length of at most 256 (got 257)")));
}

// longrope up to original_max_position_embeddings (64) divides by short_factor and scales cos
// and sin by sqrt(1 + ln(max / original) / ln(original)); past it the builder refuses.
TEST(DeepseekVlBuilder, LongRopeUpToItsOriginalContext) {
  EditedCheckpoint edited([](nlohmann::json& c) {
    c["text_config"]["rope_parameters"] = {
        {"rope_type", "longrope"},
        {"rope_theta", 10000.0},
        {"original_max_position_embeddings", 64},
        {"short_factor", {1.0, 1.25, 1.5, 2.0, 3.0, 4.5, 7.0, 11.0}},
        {"long_factor", {1.0, 2.0, 4.0, 8.0, 16.0, 24.0, 32.0, 48.0}}};
  });
  auto built = build(edited.dir(), 64);
  int64_t withRope = 0;
  for (auto op : opsOf<mlir::fathom::MultiHeadAttentionOp>(*built->module))
    if (mlir::fathom::RopeAttr rope = op.getRopeAttr()) {
      ++withRope;
      EXPECT_EQ(rope.getScaling(), mlir::fathom::RopeScaling::longrope);
      ASSERT_TRUE(rope.getDivisors());
      EXPECT_EQ(rope.getDivisors().asArrayRef()[7], 11.0f);
      EXPECT_DOUBLE_EQ(rope.getAttentionFactor().convertToDouble(), 1.1547005383792517);
    }
  EXPECT_EQ(withRope, 2);
  EXPECT_THAT([&] { build(edited.dir(), 65); },
              testing::ThrowsMessage<Error>(testing::HasSubstr(
                  "rope type longrope switches to long_factor per call beyond "
                  "original_max_position_embeddings (64)")));
}

TEST(DeepseekVlBuilder, RefusesLongRopeFactorListsOfTheWrongLength) {
  EditedCheckpoint edited([](nlohmann::json& c) {
    c["text_config"]["rope_parameters"] = {{"rope_type", "longrope"},
                                           {"original_max_position_embeddings", 64},
                                           {"short_factor", {1.0, 2.0}},
                                           {"long_factor", {1.0, 2.0}}};
  });
  EXPECT_THAT([&] { build(edited.dir(), 64); },
              testing::ThrowsMessage<Error>(
                  testing::HasSubstr("text_config: rope_parameters: \"short_factor\" must be a "
                                     "list of 8 numbers, each a number in (0, 10000], got "
                                     "[1.0,2.0]")));
}

} // namespace
} // namespace fathom::models
