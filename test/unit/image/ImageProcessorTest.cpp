// The DeepSeek-VL processor against transformers 5.23's DeepseekVLImageProcessorPil on every
// reference image and four configs (goldens.json "processed"): tiny-vl's processor_config.json,
// deepseek-vl-1.3b-chat's settings, the class defaults with BILINEAR, and no pad / no rescale.
#include "ImageTestSupport.h"

#include "fathom/image/ImageProcessor.h"
#include "fathom/runtime/Json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>

namespace fathom::image {
namespace {

using namespace testing;

std::vector<float> floatsOf(std::span<const std::byte> bytes) {
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
  return values;
}

// Configs are a folder to load (relative to test/reference) or the JSON itself.
std::map<std::string, ImageProcessor> processors() {
  std::map<std::string, ImageProcessor> result;
  for (const auto& [name, config] : goldens().manifest.at("configs").items())
    result.emplace(name,
                   config.is_string()
                       ? ImageProcessor::fromCheckpoint(referenceDir() / config.get<std::string>())
                       : ImageProcessor(parseImageProcessorConfig(config, name)));
  return result;
}

TEST(ImageProcessor, PixelValuesMatchTransformers) {
  const std::map<std::string, ImageProcessor> configs = processors();
  ASSERT_EQ(configs.size(), 4u);
  const size_t stride = goldens().manifest.at("sample_stride");
  size_t outputs = 0, bitExact = 0;
  double maxAbs = 0;
  for (const nlohmann::json& entry : goldens().images()) {
    const std::string file = entry.at("file");
    RgbImage image = decodeImageFile(imageDir() / file);
    for (const auto& [name, expected] : entry.at("processed").items()) {
      SCOPED_TRACE(file + " with " + name);
      const ImageProcessor& processor = configs.at(name);
      ProcessedSize sizes = processor.sizes(image.width, image.height);
      EXPECT_EQ(sizes.resizedWidth, expected.at("resized")[0].get<int>());
      EXPECT_EQ(sizes.resizedHeight, expected.at("resized")[1].get<int>());
      ASSERT_EQ(expected.at("shape"),
                nlohmann::json::array({3, sizes.outputHeight, sizes.outputWidth}));
      EXPECT_EQ(crc32Of(processor.resizeAndPad(image)),
                expected.at("canvas_crc32").get<uint32_t>());

      std::vector<float> values = processor.preprocess(image);
      ASSERT_EQ(values.size(), size_t(3) * sizes.outputHeight * sizes.outputWidth);
      // Where all values are stored, compare them all; elsewhere every 997th, then the CRC-32
      // of all the float32 bytes, i.e. bit-exactness.
      const bool whole = expected.contains("tensor");
      std::vector<float> reference =
          floatsOf(goldens().bytes(expected.at(whole ? "tensor" : "samples")));
      ASSERT_EQ(reference.size(), whole ? values.size() : (values.size() + stride - 1) / stride);
      for (size_t i = 0; i < reference.size(); ++i)
        maxAbs = std::max(maxAbs, double(std::fabs(values[whole ? i : i * stride] - reference[i])));
      bool exact = crc32Of(values) == expected.at("crc32").get<uint32_t>();
      EXPECT_TRUE(exact);
      bitExact += exact;
      ++outputs;
    }
  }
  EXPECT_EQ(outputs, 80u);
  EXPECT_EQ(bitExact, outputs);
  EXPECT_LE(maxAbs, 1e-6);
}

TEST(ImageProcessor, TinyVlImageCaseOfTheModelReference) {
  // record_outputs.py ran AutoProcessor(backend="pil") on test-45x30.png for tiny-vl's image case.
  auto outputs =
      frontend::SafetensorsFile::open(referenceDir() / "outputs" / "tiny-vl.safetensors");
  std::optional<frontend::TensorView> view = outputs.find("image.pixel_values");
  ASSERT_TRUE(view);
  ImageProcessor processor =
      ImageProcessor::fromCheckpoint(referenceDir() / "checkpoints" / "tiny-vl");
  std::vector<float> values = processor.preprocessFile(imageDir() / "test-45x30.png");
  ASSERT_EQ(view->byteSize, values.size() * sizeof(float));
  EXPECT_EQ(std::memcmp(view->data, values.data(), view->byteSize), 0);
  EXPECT_EQ(processor.config().backgroundColor, (std::array<uint8_t, 3>{127, 127, 127}));
}

TEST(ImageProcessor, ConfigsBuiltInCodeAreChecked) {
  ImageProcessorConfig config;
  config.size = 0;
  EXPECT_EQ(errorOf([&] { ImageProcessor{config}; }),
            "image processor config: size: expected from 1 to 4096, got 0");
  config = {};
  config.imageStd[2] = 0;
  EXPECT_EQ(errorOf([&] { ImageProcessor{config}; }),
            "image processor config: image_std[2]: expected a finite, non-zero number, got 0.0");
}

TEST(ImageProcessor, OutputsAreBounded) {
  ImageProcessorConfig config;
  config.doResize = false;
  ImageProcessor processor(config);
  RgbImage wide{5000, 2, std::vector<uint8_t>(5000 * 2 * 3)};
  EXPECT_EQ(errorOf([&] { processor.preprocess(wide); }),
            "image processor: the output would be 5000x5000, more than 4096 a side (do_resize is "
            "false)");
  EXPECT_EQ(errorOf([&] { processor.preprocess(RgbImage{}); }),
            "image processor: the input image is empty or its pixel buffer has the wrong size");
}

TEST(ImageProcessor, TargetSizeRoundsHalfToEvenAndHonoursMinSize) {
  ImageProcessorConfig config;
  config.size = 32;
  ImageProcessor processor(config);
  // 45x30: 30 * 32/45 = 21.33 -> 21; 400x12 -> 0.96 -> 1, raised to min_size 14; 1x1 grows.
  EXPECT_EQ(processor.sizes(45, 30).resizedHeight, 21);
  EXPECT_EQ(processor.sizes(400, 12).resizedHeight, 14);
  EXPECT_EQ(processor.sizes(1, 1).side, 32);
  // Python's round() goes to even on ties: 2.5 -> 2, 3.5 -> 4, 1.5 -> 2.
  config.minSize = 1;
  ImageProcessor noFloor(config);
  EXPECT_EQ(noFloor.sizes(64, 5).resizedHeight, 2);
  EXPECT_EQ(noFloor.sizes(64, 7).resizedHeight, 4);
  EXPECT_EQ(noFloor.sizes(64, 3).resizedHeight, 2);
}

} // namespace
} // namespace fathom::image
