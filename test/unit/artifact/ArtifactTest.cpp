// Writes artifacts with the streaming writer, reads them back with the runtime loader, and
// checks that every kind of damage is refused with a message naming the file and the problem.
#include "fathom/artifact/Artifact.h"
#include "Artifact_generated.h"
#include "compiler/artifact/ArtifactWriter.h"
#include "fathom/artifact/Checksum.h"
#include "fathom/runtime/Error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <numeric>

namespace fathom::artifact {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class ArtifactTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("fathom-artifact-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    path_ = (dir_ / "model.fathom").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  void writeSample() {
    ArtifactWriter writer(path_);
    writer.beginSection("weights");
    std::vector<float> embedding(16 * 4);
    std::iota(embedding.begin(), embedding.end(), 0.0f);
    writer.addTensorBytes({"model.embed_tokens.weight", DType::F32, {16, 4}}, embedding.data(),
                          embedding.size() * sizeof(float));
    // Streamed in three chunks, as the weight transformer does for big tensors.
    writer.addTensor({"model.norm.weight", DType::BF16, {3}}, [](const ByteSink& sink) {
      uint16_t values[3] = {0x3f80, 0x4000, 0x4040};
      for (uint16_t& value : values)
        sink(&value, sizeof value);
    });
    writer.endSection();
    ArtifactContents contents;
    contents.producer = "fathom-compile test";
    contents.target = "cpu";
    contents.modelConfigJson = R"({"model_type": "deepseek_v3"})";
    contents.computeDtype = DType::BF16;
    contents.maxSeqLen = 128;
    contents.maxBatch = 2;
    auto prefill = std::make_unique<fb::EntryPointT>();
    prefill->name = "prefill";
    prefill->kind = fb::EntryKind::Prefill;
    fb::RmsNormCallT norm;
    norm.x = std::make_unique<fb::View>(0, fb::Extent::Tokens, 1, 0, 4, 0, 1, 4, 4);
    norm.weight = 1;
    norm.epsilon = 1e-6f;
    norm.out = std::make_unique<fb::View>(1, fb::Extent::Tokens, 1, 0, 4, 0, 1, 4, 4);
    auto call = std::make_unique<fb::KernelCallT>();
    call->params.Set(std::move(norm));
    call->name = "fathom.rms_norm";
    prefill->calls.push_back(std::move(call));
    contents.entryPoints.push_back(std::move(prefill));
    contents.arenaSize = 4096;
    contents.tokenizerJson = "{}";
    contents.generation.bosTokenId = 0;
    contents.generation.eosTokenIds = {1};
    writer.finish(contents);
  }

  std::vector<char> readFile() {
    std::ifstream in(path_, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  void writeFile(const std::vector<char>& bytes) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
  }
  std::string openError() {
    try {
      Artifact::open(path_);
    } catch (const Error& error) {
      return error.what();
    }
    return "opened without error";
  }

  fs::path dir_;
  std::string path_;
};

TEST(Xxh64, MatchesReferenceVectors) {
  // Reference values from the python `xxhash` package (xxh64, seed 0).
  EXPECT_EQ(xxh64("", 0), 0xef46db3751d8e999ull);
  EXPECT_EQ(xxh64("a", 1), 0xd24ec4f1a98c6e5bull);
  EXPECT_EQ(xxh64("abc", 3), 0x44bc2cf5ad770999ull);
  std::string long_text;
  for (int i = 0; i < 10; ++i)
    long_text += "Fathom artifact section";
  EXPECT_EQ(xxh64(long_text.data(), long_text.size()), 0x65dfddcd3aa1dd4bull);
  Xxh64 chunked; // the same bytes fed in uneven pieces
  for (size_t at = 0; at < long_text.size(); at += 7)
    chunked.update(long_text.data() + at, std::min<size_t>(7, long_text.size() - at));
  EXPECT_EQ(chunked.digest(), 0x65dfddcd3aa1dd4bull);
}

TEST_F(ArtifactTest, RoundTripsMetadataAndWeights) {
  writeSample();
  auto artifact = Artifact::open(path_);
  EXPECT_EQ(artifact->metadata().target()->str(), "cpu");
  EXPECT_EQ(artifact->metadata().max_seq_len(), 128u);
  EXPECT_EQ(artifact->metadata().compute_dtype(), fb::ElementType::BF16);
  ASSERT_EQ(artifact->tensorCount(), 2u);
  WeightView embedding = artifact->tensor("model.embed_tokens.weight");
  EXPECT_EQ(embedding.shape, (std::vector<int64_t>{16, 4}));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(embedding.data) % kAlignment, 0u);
  EXPECT_EQ(reinterpret_cast<const float*>(embedding.data)[63], 63.0f);
  WeightView norm = artifact->tensor("model.norm.weight");
  EXPECT_EQ(norm.dtype, DType::BF16);
  EXPECT_EQ(reinterpret_cast<const uint16_t*>(norm.data)[2], 0x4040);
  const fb::EntryPoint* prefill = artifact->entryPoint("prefill");
  ASSERT_NE(prefill, nullptr);
  const fb::RmsNormCall* call = prefill->calls()->Get(0)->params_as_RmsNormCall();
  ASSERT_NE(call, nullptr);
  EXPECT_EQ(call->weight(), 1);
  EXPECT_FLOAT_EQ(call->epsilon(), 1e-6f);
  EXPECT_EQ(call->out()->buffer(), 1);
  EXPECT_EQ(artifact->entryPoint("decode"), nullptr);
  EXPECT_EQ(artifact->metadata().generation()->eos_token_ids()->Get(0), 1);
  EXPECT_THAT(
      [&] { artifact->tensor("lm_head.weight"); },
      ::testing::ThrowsMessage<Error>(HasSubstr("artifact has no tensor 'lm_head.weight'")));
}

TEST_F(ArtifactTest, ReportsChecksumProgressUpToEverySectionByte) {
  writeSample();
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  auto artifact =
      Artifact::open(path_, Artifact::Verify::Everything, [&](uint64_t done, uint64_t total) {
        calls.push_back({done, total});
      });
  uint64_t sectionBytes = 0;
  for (const fb::Section* section : *artifact->metadata().sections())
    sectionBytes += section->size();
  ASSERT_GT(sectionBytes, 0u);
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back(), std::make_pair(sectionBytes, sectionBytes));
  for (size_t i = 1; i < calls.size(); ++i)
    EXPECT_LE(calls[i - 1].first, calls[i].first);

  calls.clear(); // nothing is read, so nothing is reported
  Artifact::open(path_, Artifact::Verify::MetadataOnly, [&](uint64_t done, uint64_t total) {
    calls.push_back({done, total});
  });
  EXPECT_TRUE(calls.empty());
}

TEST_F(ArtifactTest, RefusesAFlippedWeightByte) {
  writeSample();
  std::vector<char> bytes = readFile();
  bytes[kHeaderSize + 5] ^= 0x10; // inside the embedding's data
  writeFile(bytes);
  EXPECT_THAT(openError(), HasSubstr("model.fathom: section 'weights' checksum mismatch"));
}

TEST_F(ArtifactTest, RefusesAFlippedMetadataByte) {
  writeSample();
  std::vector<char> bytes = readFile();
  bytes[bytes.size() - 9] ^= 0x01;
  writeFile(bytes);
  EXPECT_THAT(openError(), HasSubstr("metadata checksum mismatch: the file is corrupted"));
}

TEST_F(ArtifactTest, RefusesATruncatedFile) {
  writeSample();
  std::vector<char> bytes = readFile();
  bytes.resize(bytes.size() - 100);
  writeFile(bytes);
  EXPECT_THAT(openError(), HasSubstr("lies outside the"));
  bytes.resize(40);
  writeFile(bytes);
  EXPECT_THAT(openError(), HasSubstr("40 bytes, shorter than the 64-byte header"));
}

TEST_F(ArtifactTest, RefusesAnotherFormatVersion) {
  writeSample();
  std::vector<char> bytes = readFile();
  uint32_t version = kFormatVersion + 1;
  std::memcpy(bytes.data() + 8, &version, sizeof version);
  writeFile(bytes);
  EXPECT_THAT(openError(),
              HasSubstr("artifact format version 3, but this runtime reads version 2; recompile"));
}

TEST_F(ArtifactTest, RefusesOtherFiles) {
  writeFile(std::vector<char>(200, 'x'));
  EXPECT_THAT(openError(), HasSubstr("not a Fathom artifact (bad magic bytes)"));
  fs::remove(path_);
  EXPECT_THAT(openError(), HasSubstr("model.fathom: cannot open artifact: No such file"));
}

TEST_F(ArtifactTest, LeavesNothingBehindWhenWritingFails) {
  {
    ArtifactWriter writer(path_);
    writer.beginSection("weights");
    EXPECT_THAT(
        [&] {
          writer.addTensor({"short", DType::F32, {4}}, [](const ByteSink& sink) {
            float value = 1.0f;
            sink(&value, sizeof value);
          });
        },
        ::testing::ThrowsMessage<Error>(HasSubstr("tensor 'short' produced 4 bytes, expected 16")));
  }
  EXPECT_FALSE(fs::exists(path_));
  EXPECT_FALSE(fs::exists(path_ + ".partial"));
}

// A sharded artifact: a shared section and one per rank, whose tensors share a name; a rank
// sees the shared tensors and its own, in weight-index order, and verifies only those sections.
TEST_F(ArtifactTest, ARankSeesTheSharedWeightsAndItsOwn) {
  {
    ArtifactWriter writer(path_);
    auto add = [&](const std::string& name, float value, int64_t weight) {
      TensorInfo info{name, DType::F32, {1}};
      info.weight = weight;
      writer.addTensorBytes(info, &value, sizeof value);
    };
    writer.beginSection("weights");
    add("norm", 1.0f, 1);
    writer.endSection();
    for (int32_t rank = 0; rank < 2; ++rank) {
      writer.beginSection("weights.rank" + std::to_string(rank), rank);
      add("embed.shard2", 10.0f + float(rank), 0);
      add("head.shard2", 20.0f + float(rank), 2);
      writer.endSection();
    }
    ArtifactContents contents;
    contents.producer = "fathom-compile test";
    contents.target = "cpu";
    contents.worldSize = 2;
    contents.tensorParallel = 2;
    writer.finish(contents);
  }
  for (int64_t rank = 0; rank < 2; ++rank) {
    auto file = Artifact::open(path_, Artifact::Verify::Everything, {}, rank);
    ASSERT_EQ(file->tensorCount(), 3u);
    const char* names[] = {"embed.shard2", "norm", "head.shard2"};
    const float values[] = {10.0f + float(rank), 1.0f, 20.0f + float(rank)};
    for (size_t i = 0; i < 3; ++i) {
      WeightView view = file->tensor(i);
      EXPECT_EQ(view.name, names[i]);
      EXPECT_EQ(*reinterpret_cast<const float*>(view.data), values[i]);
    }
    EXPECT_EQ(*reinterpret_cast<const float*>(file->tensor("head.shard2").data),
              20.0f + float(rank));
    EXPECT_EQ(file->metadata().tensor_parallel(), 2u);
  }
  EXPECT_THAT([&] { Artifact::open(path_, Artifact::Verify::Everything, {}, 2); },
              ::testing::ThrowsMessage<Error>(
                  HasSubstr("model.fathom: rank 2 of an artifact compiled for 2 rank(s)")));
  // Damage in rank 1's section is rank 1's problem only.
  std::vector<char> bytes = readFile();
  auto file = Artifact::open(path_, Artifact::Verify::MetadataOnly, {}, 1);
  const fb::Section* own = file->metadata().sections()->Get(2);
  ASSERT_EQ(own->rank(), 1);
  bytes[own->offset()] ^= 1;
  file.reset();
  writeFile(bytes);
  EXPECT_NO_THROW(Artifact::open(path_, Artifact::Verify::Everything, {}, 0));
  EXPECT_THAT([&] { Artifact::open(path_, Artifact::Verify::Everything, {}, 1); },
              ::testing::ThrowsMessage<Error>(
                  HasSubstr("section 'weights.rank1' checksum mismatch: the file is corrupted")));
}

} // namespace
} // namespace fathom::artifact
