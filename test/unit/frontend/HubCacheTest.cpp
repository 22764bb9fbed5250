// A Hugging Face hub cache laid out as huggingface_hub writes it (snapshot files are symlinks
// into blobs/): cache folders and repo ids resolve to the snapshot; nothing else changes.
#include "fathom/frontend/HubCache.h"
#include "../support/TempDir.h"
#include "fathom/runtime/Error.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fathom::frontend {
namespace {
namespace fs = std::filesystem;

class HubCache : public ::testing::Test {
protected:
  void SetUp() override {
    root_ = temp_.path();
    repo_ = root_ / "hub" / "models--deepseek-ai--DeepSeek-V3";
    fs::create_directories(repo_ / "blobs");
    fs::create_directories(repo_ / "refs");
    for (const char* revision : {"aaa111", "bbb222"}) {
      fs::create_directories(repo_ / "snapshots" / revision);
      std::ofstream(repo_ / "blobs" / (std::string("config-") + revision)) << "{}";
      fs::create_symlink(fs::path("..") / ".." / "blobs" / (std::string("config-") + revision),
                         repo_ / "snapshots" / revision / "config.json");
    }
    std::ofstream(repo_ / "refs" / "main") << "bbb222";
    setenv("HF_HUB_CACHE", (root_ / "hub").c_str(), 1);
  }
  void TearDown() override { unsetenv("HF_HUB_CACHE"); }
  testing::TempDir temp_;
  fs::path root_, repo_;
};

TEST_F(HubCache, ACacheFolderResolvesToTheSnapshotRefsMainNames) {
  EXPECT_EQ(resolveCheckpointPath(repo_.string()), (repo_ / "snapshots" / "bbb222").string());
  EXPECT_EQ(resolveCheckpointPath(repo_.string() + "/"), (repo_ / "snapshots" / "bbb222").string());
  EXPECT_TRUE(fs::exists(fs::path(resolveCheckpointPath(repo_.string())) / "config.json"));
}

TEST_F(HubCache, ARepoIdResolvesThroughTheCache) {
  EXPECT_EQ(resolveCheckpointPath("deepseek-ai/DeepSeek-V3"),
            (repo_ / "snapshots" / "bbb222").string());
  unsetenv("HF_HUB_CACHE");
  setenv("HF_HOME", root_.c_str(), 1);
  EXPECT_EQ(hubCacheDirectory(), (root_ / "hub").string());
  EXPECT_EQ(resolveCheckpointPath("deepseek-ai/DeepSeek-V3"),
            (repo_ / "snapshots" / "bbb222").string());
  unsetenv("HF_HOME");
}

TEST_F(HubCache, WithoutRefsMainTheOnlySnapshotIsTakenAndSeveralAreRefused) {
  fs::remove(repo_ / "refs" / "main");
  try {
    resolveCheckpointPath(repo_.string());
    FAIL() << "two snapshots and no refs/main resolved";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("without refs/main and with 2 snapshots"),
              std::string::npos)
        << error.what();
  }
  fs::remove_all(repo_ / "snapshots" / "aaa111");
  EXPECT_EQ(resolveCheckpointPath(repo_.string()), (repo_ / "snapshots" / "bbb222").string());
}

TEST_F(HubCache, ARepoIdNotInTheCacheIsRefusedWithoutDownloading) {
  try {
    resolveCheckpointPath("deepseek-ai/DeepSeek-R1");
    FAIL() << "a missing repo id resolved";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what())
                  .find("models--deepseek-ai--DeepSeek-R1; Fathom does not "
                        "download checkpoints"),
              std::string::npos)
        << error.what();
  }
}

TEST_F(HubCache, OrdinaryPathsAreLeftAlone) {
  EXPECT_EQ(resolveCheckpointPath(root_.string()), root_.string());
  EXPECT_EQ(resolveCheckpointPath("missing-folder"), "missing-folder");
  EXPECT_EQ(resolveCheckpointPath("./a/b"), "./a/b");
  EXPECT_EQ(resolveCheckpointPath("a/b/c"), "a/b/c");
}

} // namespace
} // namespace fathom::frontend
