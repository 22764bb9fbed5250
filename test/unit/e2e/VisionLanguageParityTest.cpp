// DeepSeek-VL's vision tower end to end against HF transformers: tiny-vl compiled to an artifact
// (fp32 and bf16), its encode_image entry point run on the pixel values HF's processor made for
// the recorded image prompt, and the image embeddings (vision tower + aligner) compared with
// HF's image_features.
#include "compiler/driver/CompileCheckpoint.h"
#include "fathom/executor/Model.h"
#include "fathom/frontend/TensorStore.h"
#include "fathom/runtime/Error.h"
#include "fathom/runtime/Numeric.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace fathom {
namespace {
namespace fs = std::filesystem;

const fs::path kReference = fs::path(FATHOM_SOURCE_DIR) / "test" / "reference";

std::vector<float> readFloats(const frontend::TensorStore& store, const std::string& name) {
  frontend::TensorView view = store.get(name);
  std::vector<float> values(size_t(view.numel()));
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = loadFloat(view.dtype, view.data + i * dtypeSize(view.dtype));
  return values;
}

double relativeError(const std::vector<float>& ours, const std::vector<float>& hf) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < hf.size(); ++i) {
    diff = std::max(diff, double(std::fabs(ours[i] - hf[i])));
    scale = std::max(scale, double(std::fabs(hf[i])));
  }
  return diff / std::max(scale, 1e-30);
}

class VisionLanguageParity : public testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    std::ifstream in(kReference / "outputs" / "tiny-vl.json");
    ASSERT_TRUE(in);
    json_ = nlohmann::json::parse(in);
    tensors_ = std::make_unique<frontend::TensorStore>(frontend::TensorStore::openSingleFile(
        kReference / "outputs" / json_["tensors_file"].get<std::string>()));
    artifact_ = fs::temp_directory_path() /
                ("fathom-vl-" + GetParam() + "-" + std::to_string(getpid()) + ".fathom");
    compiler::CompileOptions options;
    options.compute = GetParam() == "bf16" ? DType::BF16 : DType::F32;
    options.maxBatch = 2;
    options.maxSeqLen = 160;
    compiler::compileCheckpoint(frontend::Checkpoint::open(kReference / "checkpoints" / "tiny-vl"),
                                artifact_.string(), options);
    model_ = executor::Model::load(artifact_.string());
  }
  void TearDown() override {
    model_.reset();
    std::error_code ignored;
    fs::remove(artifact_, ignored);
  }

  const nlohmann::json& imageCase() const {
    for (const auto& c : json_["cases"])
      if (c.contains("pixel_values"))
        return c;
    throw std::runtime_error("tiny-vl.json has no image case");
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
      readFloats(*tensors_, c["runs"][GetParam()]["image_features"]["name"].get<std::string>());
  std::vector<float> ours = model_->encodeImages(pixels);
  ASSERT_EQ(ours.size(), hf.size());
  double error = relativeError(ours, hf);
  std::printf("[ parity ] tiny-vl %s image embeddings max rel error %.3g\n", GetParam().c_str(),
              error);
  EXPECT_LE(error, GetParam() == "bf16" ? 1e-2 : 1e-5);

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

TEST_P(VisionLanguageParity, RefusesPartialImages) {
  std::vector<float> pixels(size_t(model_->pixelValuesPerImage()) + 1, 0.0f);
  try {
    model_->encodeImages(pixels);
    FAIL() << "a partial image was accepted";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "pixel values must be whole images of 3072 floats, got 3073");
  }
}

INSTANTIATE_TEST_SUITE_P(TinyVl, VisionLanguageParity, testing::Values("fp32", "bf16"),
                         [](const auto& info) { return info.param; });

} // namespace
} // namespace fathom
