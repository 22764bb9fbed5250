// Sharded checkpoints: the index and its shards must agree both ways.
#include "TestCheckpoint.h"

#include "fathom/frontend/TensorStore.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {
using namespace fathom;
using namespace fathom::frontend;
namespace ft = fathom::frontend::testing;
using ::testing::AllOf;
using ::testing::HasSubstr;
using Json = nlohmann::json;

// Two shards: a.safetensors holds x and y, b.safetensors holds z.
class ShardedStore : public ::testing::Test {
protected:
  void SetUp() override {
    writeSafetensors(dir_ / "a.safetensors",
                     {{"x", DType::F32, {2}, {}}, {"y", DType::BF16, {3}, {}}});
    writeSafetensors(dir_ / "b.safetensors", {{"z", DType::I64, {1}, {}}});
    index_ = {
        {"metadata", {{"total_size", 22}}},
        {"weight_map", {{"x", "a.safetensors"}, {"y", "a.safetensors"}, {"z", "b.safetensors"}}}};
  }
  std::string openError() {
    ft::writeJson(indexPath(), index_);
    return ft::errorOf([&] { TensorStore::openIndex(indexPath()); });
  }
  std::filesystem::path indexPath() const { return dir_ / "model.safetensors.index.json"; }

  ft::TempDir dir_;
  Json index_;
};

TEST_F(ShardedStore, OpensAndLooksUpAcrossShards) {
  ft::writeJson(indexPath(), index_);
  TensorStore store = TensorStore::openIndex(indexPath());
  EXPECT_EQ(store.size(), 3u);
  EXPECT_EQ(store.fileCount(), 2u);
  EXPECT_EQ(store.get("z").dtype, DType::I64);
  EXPECT_EQ(store.fileOf("z")->path().filename(), "b.safetensors");
  EXPECT_EQ(std::vector<std::string_view>(store.names().begin(), store.names().end()),
            (std::vector<std::string_view>{"x", "y", "z"}));
  EXPECT_EQ(store.totalTensorBytes(), 22u);
  EXPECT_TRUE(store.warnings().empty());
  EXPECT_FALSE(store.find("w"));
  EXPECT_THAT(ft::errorOf([&] { store.get("w"); }),
              AllOf(HasSubstr("model.safetensors.index.json"), HasSubstr("no tensor named \"w\"")));
}

TEST_F(ShardedStore, StoreSurvivesBeingMoved) {
  ft::writeJson(indexPath(), index_);
  TensorStore first = TensorStore::openIndex(indexPath());
  TensorStore moved = std::move(first);
  EXPECT_EQ(moved.get("y").name, "y");
  EXPECT_EQ(moved.get("y").numel(), 3);
}

TEST_F(ShardedStore, TotalSizeMismatchIsAWarning) {
  index_["metadata"]["total_size"] = 999;
  ft::writeJson(indexPath(), index_);
  TensorStore store = TensorStore::openIndex(indexPath());
  ASSERT_EQ(store.warnings().size(), 1u);
  EXPECT_THAT(store.warnings()[0], HasSubstr("total_size is 999 but the shards hold 22 bytes"));
}

TEST_F(ShardedStore, MissingShard) {
  index_["weight_map"]["z"] = "c.safetensors";
  EXPECT_THAT(openError(),
              AllOf(HasSubstr("model.safetensors.index.json"),
                    HasSubstr("shard \"c.safetensors\" does not exist"), HasSubstr("e.g. \"z\"")));
}

TEST_F(ShardedStore, IndexPointsAtATensorTheShardDoesNotHold) {
  index_["weight_map"]["w"] = "b.safetensors";
  EXPECT_THAT(openError(), AllOf(HasSubstr("model.safetensors.index.json"),
                                 HasSubstr("tensor \"w\" is mapped to shard \"b.safetensors\", "
                                           "which does not contain it")));
}

TEST_F(ShardedStore, TensorInAShardButNotInTheIndex) {
  index_["weight_map"].erase("y");
  EXPECT_THAT(openError(),
              AllOf(HasSubstr("a.safetensors"),
                    HasSubstr("tensor \"y\" is not listed in model.safetensors.index.json")));
}

TEST_F(ShardedStore, TensorStoredInAShardTheIndexDoesNotNameForIt) {
  writeSafetensors(dir_ / "b.safetensors",
                   {{"z", DType::I64, {1}, {}}, {"x", DType::F32, {2}, {}}});
  EXPECT_THAT(openError(),
              AllOf(HasSubstr("b.safetensors"), HasSubstr("tensor \"x\" is stored here but "
                                                          "model.safetensors.index.json maps it to "
                                                          "\"a.safetensors\"")));
}

TEST_F(ShardedStore, MissingWeightMap) {
  index_.erase("weight_map");
  EXPECT_THAT(openError(), AllOf(HasSubstr("model.safetensors.index.json"),
                                 HasSubstr("missing \"weight_map\"")));
}

TEST_F(ShardedStore, ShardNameLeavingTheFolder) {
  index_["weight_map"]["z"] = "../b.safetensors";
  EXPECT_THAT(openError(), AllOf(HasSubstr("model.safetensors.index.json"),
                                 HasSubstr("weight_map entry for \"z\" must be a file name in "
                                           "the checkpoint folder, got \"../b.safetensors\"")));
}

TEST_F(ShardedStore, BrokenShardIsNamed) {
  ft::writeFile(dir_ / "b.safetensors", "xx");
  EXPECT_THAT(openError(), AllOf(HasSubstr("b.safetensors"), HasSubstr("too short")));
}

TEST_F(ShardedStore, IndexThatIsNotJson) {
  ft::writeFile(indexPath(), "{\"weight_map\": ");
  EXPECT_THAT(ft::errorOf([&] { TensorStore::openIndex(indexPath()); }),
              AllOf(HasSubstr("model.safetensors.index.json"), HasSubstr("invalid JSON")));
}

TEST(SingleFileStore, OpensOneFile) {
  ft::TempDir dir;
  writeSafetensors(dir / "model.safetensors", {{"w", DType::BF16, {4, 2}, {}}});
  TensorStore store = TensorStore::openSingleFile(dir / "model.safetensors");
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.get("w").byteSize, 16u);
  EXPECT_EQ(store.source().filename(), "model.safetensors");
}

} // namespace
