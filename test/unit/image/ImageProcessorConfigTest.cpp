// Reading image processor settings: which file wins, transformers' defaults, and an exact
// message for every field that is wrong.
#include "ImageTestSupport.h"

#include "fathom/image/ImageProcessor.h"

#include <gtest/gtest.h>

#include <fstream>

namespace fathom::image {
namespace {

using namespace testing;
using Json = nlohmann::json;

void writeJson(const std::filesystem::path& path, const Json& json) {
  std::ofstream(path) << json.dump();
}

TEST(ImageProcessorConfig, ReadsTinyVlAndTheDeepSeekVl13bSettings) {
  ImageProcessorConfig tiny = loadImageProcessorConfig(referenceDir() / "checkpoints" / "tiny-vl");
  EXPECT_EQ(tiny.size, 32);
  EXPECT_EQ(tiny.minSize, 14);
  EXPECT_EQ(tiny.resample, Resample::Bicubic);
  EXPECT_EQ(tiny.imageMean, (std::array<double, 3>{0.5, 0.5, 0.5}));
  EXPECT_EQ(tiny.rescaleFactor, 1.0 / 255);
  EXPECT_FALSE(tiny.doConvertRgb.has_value());
  ImageProcessorConfig vl = loadImageProcessorConfig(imageDir() / "deepseek-vl-1.3b-chat");
  EXPECT_EQ(vl.size, 384);
  EXPECT_EQ(vl.backgroundColor, (std::array<uint8_t, 3>{127, 127, 127}));
}

TEST(ImageProcessorConfig, AbsentKeysTakeTheClassDefaults) {
  ImageProcessorConfig config = parseImageProcessorConfig(Json::object(), "x");
  EXPECT_EQ(config.size, 384);
  EXPECT_EQ(config.minSize, 14);
  EXPECT_TRUE(config.doResize && config.doRescale && config.doNormalize && config.doPad);
  EXPECT_EQ(config.imageStd, (std::array<double, 3>{0.26862954, 0.26130258, 0.27577711}));
  // int(0.48145466 * 255) = 122, int(0.4578275 * 255) = 116, int(0.40821073 * 255) = 104
  EXPECT_EQ(config.backgroundColor, (std::array<uint8_t, 3>{122, 116, 104}));
  // HF ignores the file's background_color and derives it from the mean; so do we.
  config = parseImageProcessorConfig({{"background_color", {0, 0, 0}}, {"size", 64}}, "x");
  EXPECT_EQ(config.backgroundColor, (std::array<uint8_t, 3>{122, 116, 104}));
  EXPECT_EQ(config.size, 64);
  EXPECT_EQ(parseImageProcessorConfig({{"do_convert_rgb", true}}, "x").doConvertRgb, true);
  EXPECT_EQ(parseImageProcessorConfig({{"do_convert_rgb", nullptr}}, "x").doConvertRgb,
            std::nullopt);
}

TEST(ImageProcessorConfig, TheNestedCopyInProcessorConfigWins) {
  TempDir dir;
  writeJson(dir / "preprocessor_config.json", {{"size", 100}});
  EXPECT_EQ(loadImageProcessorConfig(dir.path()).size, 100);
  writeJson(dir / "processor_config.json", {{"num_image_tokens", 16}}); // no image_processor
  EXPECT_EQ(loadImageProcessorConfig(dir.path()).size, 100);
  writeJson(dir / "processor_config.json", {{"image_processor", {{"size", 200}}}});
  EXPECT_EQ(loadImageProcessorConfig(dir.path()).size, 200); // transformers 5.23's order
  writeJson(dir / "processor_config.json", {{"image_processor", {{"size", -1}}}});
  EXPECT_EQ(errorOf([&] { loadImageProcessorConfig(dir.path()); }),
            (dir / "processor_config.json").string() +
                ": image_processor.size: expected an integer from 1 to 4096, got -1");
  TempDir empty;
  EXPECT_EQ(errorOf([&] { loadImageProcessorConfig(empty.path()); }),
            empty.path().string() + ": no image processor settings (neither processor_config.json "
                                    "with an \"image_processor\" nor preprocessor_config.json)");
}

TEST(ImageProcessorConfig, EveryBadFieldIsNamed) {
  const std::pair<Json, std::string> cases[] = {
      {{{"size", 0}}, "size: expected an integer from 1 to 4096, got 0"},
      {{{"size", 5000}}, "size: expected an integer from 1 to 4096, got 5000"},
      {{{"size", 38.5}}, "size: expected an integer from 1 to 4096, got 38.5"},
      {{{"size", "384"}},
       "size: expected an integer or {\"height\": n, \"width\": n}, got \"384\""},
      {{{"size", {{"height", 32}, {"width", 30}}}},
       "size: height 32 and width 30 differ (DeepseekVLImageProcessor resizes the longer side to "
       "one size)"},
      {{{"size", {{"height", 32}}}}, "size: missing \"width\""},
      {{{"size", {{"height", 32}, {"width", 0}}}},
       "size.width: expected an integer from 1 to 4096, got 0"},
      {{{"size", {{"shortest_edge", 32}}}},
       "size: unsupported key \"shortest_edge\" (DeepseekVLImageProcessor takes only height and "
       "width)"},
      {{{"min_size", 0}}, "min_size: expected an integer from 1 to 4096, got 0"},
      {{{"resample", 7}},
       "resample: 7 (MKS2021) is not supported (implemented: 0 NEAREST, 1 LANCZOS, 2 BILINEAR, 3 "
       "BICUBIC, 4 BOX, 5 HAMMING)"},
      {{{"resample", 9}}, "resample: expected an integer from 0 to 7, got 9"},
      {{{"do_resize", "yes"}}, "do_resize: expected true or false, got \"yes\""},
      {{{"do_pad", 1}}, "do_pad: expected true or false, got 1"},
      {{{"do_convert_rgb", "no"}}, "do_convert_rgb: expected true, false or null, got \"no\""},
      {{{"rescale_factor", -1.0}}, "rescale_factor: expected a positive number, got -1.0"},
      {{{"rescale_factor", "1/255"}}, "rescale_factor: expected a number, got \"1/255\""},
      {{{"image_mean", {0.5, 0.5}}},
       "image_mean: expected a list of 3 numbers (one per RGB channel), got [0.5,0.5]"},
      {{{"image_mean", 0.5}},
       "image_mean: expected a list of 3 numbers (one per RGB channel), got 0.5"},
      {{{"image_std", {0.5, 0, 0.5}}}, "image_std[1]: expected a finite, non-zero number, got 0.0"},
      {{{"image_std", {0.5, nullptr, 0.5}}}, "image_std[1]: expected a number, got null"},
      {{{"image_mean", {0.5, 1.5, 0.5}}},
       "image_mean[1]: gives the padding grey int(1.5 * 255), outside 0..255 (transformers "
       "derives the padding colour from the mean and fails on it too)"},
      {{{"background_color", {127, 127}}},
       "background_color: expected a list of 3 integers from 0 to 255, got [127,127]"},
      {{{"background_color", {127, 300, 127}}},
       "background_color[1]: expected an integer from 0 to 255, got 300"},
      {{{"image_processor_type", "CLIPImageProcessor"}},
       "image_processor_type: \"CLIPImageProcessor\" is not supported (expected "
       "DeepseekVLImageProcessor, its Fast or Pil variant; Fathom reproduces the Pil one)"},
  };
  for (const auto& [json, message] : cases)
    EXPECT_EQ(errorOf([&] { parseImageProcessorConfig(json, "cfg.json"); }), "cfg.json: " + message)
        << json.dump();
  EXPECT_EQ(errorOf([&] { parseImageProcessorConfig(Json::array(), "artifact"); }),
            "artifact: expected a JSON object, got []");
  // Without padding the mean's grey is never used, so any finite mean is fine.
  EXPECT_NO_THROW(
      parseImageProcessorConfig({{"image_mean", {100, 110, 120}}, {"do_pad", false}}, "x"));
}

} // namespace
} // namespace fathom::image
