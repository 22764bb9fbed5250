// DeepSeek-VL end to end against HF transformers: tiny-vl and tiny-vl-gqa compiled to artifacts
// (fp32 and bf16), encode_image run on the pixel values HF's processor made for the recorded
// image prompts, the image embeddings (vision tower + aligner) compared with HF's
// image_features, then the image prompts' logits and greedy continuations.
// Built a second time with FATHOM_VL_ON_CUDA (fathom_cuda_vl_parity_tests, label gpu): the same
// cases on the artifacts tools/gpu/check.sh compiled for cuda:sm_80 (FATHOM_GPU_ARTIFACTS),
// skipped where no GPU is.
#include "ReferenceTensors.h"
#ifdef FATHOM_VL_ON_CUDA
#include "fathom/cuda/Kernels.h"
#else
#include "compiler/driver/CompileCheckpoint.h"
#endif
#include "fathom/executor/Generate.h"
#include "fathom/executor/Model.h"
#include "fathom/frontend/TensorStore.h"
#include "fathom/image/ImageProcessor.h"
#include "fathom/runtime/Error.h"
#include "fathom/runtime/Numeric.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace fathom {
namespace {
namespace fs = std::filesystem;

// FATHOM_REFERENCE_DIR: test/reference where the source tree moved (the device machine).
const fs::path kReference = std::getenv("FATHOM_REFERENCE_DIR")
                                ? fs::path(std::getenv("FATHOM_REFERENCE_DIR"))
                                : fs::path(FATHOM_SOURCE_DIR) / "test" / "reference";

using test::caseBatch;
using test::readFloats;

double relativeError(const std::vector<float>& ours, const std::vector<float>& hf) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < hf.size(); ++i) {
    diff = std::max(diff, double(std::fabs(ours[i] - hf[i])));
    scale = std::max(scale, double(std::fabs(hf[i])));
  }
  return diff / std::max(scale, 1e-30);
}

struct VlVariant {
  std::string checkpoint; // tiny-vl, or tiny-vl-gqa (GQA, llama3 rope, tanh GELU)
  std::string dtype;      // fp32 or bf16
};
void PrintTo(const VlVariant& v, std::ostream* out) {
  *out << v.checkpoint << " " << v.dtype;
}

class VisionLanguageParity : public testing::TestWithParam<VlVariant> {
protected:
  const std::string& dtype() const { return GetParam().dtype; }
  const std::string& checkpoint() const { return GetParam().checkpoint; }

  void SetUp() override {
#ifdef FATHOM_VL_ON_CUDA
    std::string reason;
    if (!cuda::deviceAvailable(reason))
      GTEST_SKIP() << "no usable CUDA GPU here, so the model cannot run on one: " << reason;
    const char* artifacts = std::getenv("FATHOM_GPU_ARTIFACTS");
    if (!artifacts)
      GTEST_SKIP() << "FATHOM_GPU_ARTIFACTS is not set: tools/gpu/check.sh compiles the CUDA "
                      "artifacts and runs this test";
#endif
    std::ifstream in(kReference / "outputs" / (checkpoint() + ".json"));
    ASSERT_TRUE(in);
    json_ = nlohmann::json::parse(in);
    tensors_ = std::make_unique<frontend::TensorStore>(frontend::TensorStore::openSingleFile(
        kReference / "outputs" / json_["tensors_file"].get<std::string>()));
#ifdef FATHOM_VL_ON_CUDA
    artifact_ =
        fs::path(std::getenv("FATHOM_GPU_ARTIFACTS")) / (checkpoint() + "-" + dtype() + ".fathom");
    ASSERT_TRUE(fs::exists(artifact_)) << artifact_;
    model_ = executor::Model::load(artifact_.string());
    ASSERT_EQ(model_->artifact().metadata().target()->str(), "cuda");
#else
    artifact_ = fs::temp_directory_path() / ("fathom-" + checkpoint() + "-" + dtype() + "-" +
                                             std::to_string(getpid()) + ".fathom");
    compiler::CompileOptions options; // tools/gpu/check.sh compiles the CUDA ones so too
    options.compute = dtype() == "bf16" ? DType::BF16 : DType::F32;
    options.maxBatch = 2;
    options.maxSeqLen = 192;
    compiler::compileCheckpoint(
        frontend::Checkpoint::open(kReference / "checkpoints" / checkpoint()), artifact_.string(),
        options);
    model_ = executor::Model::load(artifact_.string());
#endif
  }
  void TearDown() override {
    model_.reset();
#ifndef FATHOM_VL_ON_CUDA
    std::error_code ignored;
    fs::remove(artifact_, ignored);
#endif
  }

  const nlohmann::json& imageCase() const {
    for (const auto& c : json_["cases"])
      if (c.contains("pixel_values"))
        return c;
    throw std::runtime_error(checkpoint() + ".json has no image case");
  }

  nlohmann::json json_;
  std::unique_ptr<frontend::TensorStore> tensors_;
  fs::path artifact_;
  std::unique_ptr<executor::Model> model_;
};

TEST_P(VisionLanguageParity, ImageEmbeddingsMatchHf) {
  const nlohmann::json& c = imageCase();
  ASSERT_TRUE(model_->encodesImages());
  EXPECT_EQ(model_->pixelValuesPerImage(), 3 * 32 * 32);
  EXPECT_EQ(model_->imageTokens(), 16);
  std::vector<float> pixels = readFloats(*tensors_, c["pixel_values"]["name"]);
  std::vector<float> hf =
      readFloats(*tensors_, c["runs"][dtype()]["image_features"]["name"].get<std::string>());
  std::vector<float> ours = model_->encodeImages(pixels);
  ASSERT_EQ(ours.size(), hf.size());
  double error = relativeError(ours, hf);
  std::printf("[ parity ] %s %s image embeddings max rel error %.3g\n", checkpoint().c_str(),
              dtype().c_str(), error);
  EXPECT_LE(error, dtype() == "bf16" ? 1e-2 : 1e-5);

  // Three images in one call: max_batch (2) at a time, each image's embeddings its own.
  std::vector<float> three = pixels;
  for (int k = 0; k < 2; ++k)
    three.insert(three.end(), pixels.begin(), pixels.end());
  std::vector<float> batched = model_->encodeImages(three);
  ASSERT_EQ(batched.size(), 3 * ours.size());
  for (size_t k = 0; k < 3; ++k)
    EXPECT_EQ(std::vector<float>(batched.begin() + long(k * ours.size()),
                                 batched.begin() + long((k + 1) * ours.size())),
              ours)
        << "image " << k;
}

// Every recorded image prompt (one image; two images in one turn; a left-padded batch of two
// conversations): the images' embeddings at their image tokens, then HF's logits at every real
// position and its greedy continuations.
TEST_P(VisionLanguageParity, ImagePromptLogitsAndGreedyContinuations) {
  int cases = 0;
  for (const auto& c : json_["cases"]) {
    if (!c.contains("pixel_values"))
      continue;
    ++cases;
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto& run = c["runs"][dtype()];
    std::vector<float> embeddings =
        model_->encodeImages(readFloats(*tensors_, c["pixel_values"]["name"]));
    executor::TokenBatch batch = caseBatch(c);
    std::vector<float> hf = readFloats(*tensors_, run["logits"]["name"]);
    std::vector<float> ours = model_->prefill(batch, /*allPositions=*/true, embeddings);
    ASSERT_EQ(ours.size(), hf.size());
    const size_t vocab = size_t(model_->outputWidth());
    double diff = 0, scale = 0;
    for (size_t r = 0; r < batch.mask.size(); ++r)
      for (size_t j = 0; batch.mask[r] && j < vocab; ++j) {
        diff = std::max(diff, double(std::fabs(ours[r * vocab + j] - hf[r * vocab + j])));
        scale = std::max(scale, double(std::fabs(hf[r * vocab + j])));
      }
    std::printf("[ parity ] %s %s %s prefill max rel error %.3g\n", checkpoint().c_str(),
                dtype().c_str(), c["name"].get<std::string>().c_str(), diff / scale);
    EXPECT_LE(diff / scale, dtype() == "bf16" ? 1e-2 : 1e-4);

    std::vector<std::vector<int64_t>> prompts(size_t(batch.batch));
    for (int64_t b = 0; b < batch.batch; ++b)
      for (int64_t t = 0; t < batch.tokens; ++t)
        if (batch.mask[size_t(b * batch.tokens + t)])
          prompts[size_t(b)].push_back(batch.ids[size_t(b * batch.tokens + t)]);
    executor::GenerationOptions options;
    options.maxNewTokens = run["generate"]["num_steps"].get<int64_t>();
    options.padTokenId = run["generate"]["pad_token_id_after_eos"].get<int64_t>();
    options.imageEmbeddings = embeddings;
    auto result = executor::generate(*model_, prompts, options);
    for (int64_t b = 0; b < batch.batch; ++b) {
      std::vector<int64_t> got = result.newTokens[size_t(b)];
      std::vector<int64_t> expected = run["generate"]["new_ids"][b].get<std::vector<int64_t>>();
      got.resize(expected.size(), options.padTokenId);
      EXPECT_EQ(got, expected) << "row " << b;
    }
    if (c["name"] == "image") {
      // Without the image the same prompt embeds its image tokens as text (HF without pixel
      // values), so the logits differ.
      std::vector<float> textOnly = model_->prefill(batch, /*allPositions=*/true);
      EXPECT_GT(relativeError(textOnly, hf), 1e-2);
    }
  }
  EXPECT_EQ(cases, 3);
}

// The image files of every case through the runtime's image processor (the checkpoint's
// settings) give HF's PIL processor's pixel values, image by image.
TEST_P(VisionLanguageParity, ImageFilesGiveHfPixelValues) {
  image::ImageProcessor processor(
      image::loadImageProcessorConfig(kReference / "checkpoints" / checkpoint()));
  for (const auto& c : json_["cases"]) {
    if (!c.contains("pixel_values"))
      continue;
    SCOPED_TRACE(c["name"].get<std::string>());
    std::vector<std::string> files = c.contains("images")
                                         ? c["images"].get<std::vector<std::string>>()
                                         : std::vector<std::string>{c["image"].get<std::string>()};
    std::vector<float> hf = readFloats(*tensors_, c["pixel_values"]["name"]);
    std::vector<float> ours;
    for (const std::string& file : files) {
      std::vector<float> one = processor.preprocessFile(kReference / file);
      ours.insert(ours.end(), one.begin(), one.end());
    }
    ASSERT_EQ(ours.size(), hf.size());
    double worst = 0;
    for (size_t i = 0; i < hf.size(); ++i)
      worst = std::max(worst, double(std::fabs(ours[i] - hf[i])));
    EXPECT_LE(worst, 1e-6);
  }
}

TEST_P(VisionLanguageParity, RefusesImageRowsThatDoNotMatchTheImageTokens) {
  const nlohmann::json& c = imageCase();
  std::vector<float> embeddings =
      model_->encodeImages(readFloats(*tensors_, c["pixel_values"]["name"]));
  embeddings.resize(embeddings.size() - 64); // 15 rows for 16 image tokens
  std::vector<int64_t> ids = c["input_ids"][0].get<std::vector<int64_t>>();
  executor::TokenBatch batch{1, int64_t(ids.size()), ids, {}, std::vector<uint8_t>(ids.size(), 1)};
  for (int64_t t = 0; t < batch.tokens; ++t)
    batch.positions.push_back(t);
  try {
    model_->prefill(batch, false, embeddings);
    FAIL() << "15 image rows for 16 image tokens were accepted";
  } catch (const Error& error) {
#ifdef FATHOM_VL_ON_CUDA // the device error word's message, at the step's synchronize
    EXPECT_NE(std::string(error.what())
                  .find("image tokens are not as many as the image "
                        "embedding rows given"),
              std::string::npos)
        << error.what();
#else
    EXPECT_STREQ(
        error.what(),
        "the prompts hold 16 image tokens (id 511) but 15 image embedding rows were given");
#endif
  }
}

TEST_P(VisionLanguageParity, RefusesPartialImages) {
  std::vector<float> pixels(size_t(model_->pixelValuesPerImage()) + 1, 0.0f);
  try {
    model_->encodeImages(pixels);
    FAIL() << "a partial image was accepted";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "pixel values must be whole images of 3072 floats, got 3073");
  }
}

INSTANTIATE_TEST_SUITE_P(TinyVl, VisionLanguageParity,
                         testing::Values(VlVariant{"tiny-vl", "fp32"}, VlVariant{"tiny-vl", "bf16"},
                                         VlVariant{"tiny-vl-gqa", "fp32"},
                                         VlVariant{"tiny-vl-gqa", "bf16"}),
                         [](const auto& info) {
                           std::string name = info.param.checkpoint + "_" + info.param.dtype;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

} // namespace
} // namespace fathom
