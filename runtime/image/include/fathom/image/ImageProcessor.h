#pragma once
// transformers' DeepseekVLImageProcessorPil (5.23), the image half of DeepSeek-VL's processor:
// scale the longer side to `size` (round(), never below min_size), Pillow resize, pad to a square
// with int(mean * 255) grey, then x * rescale_factor in float64 cast to float32, then
// (x - mean) / std in float32, laid out [3, H, W]. The input is the RGB image decodeImageFile
// gives, i.e. what `Image.open(path).convert("RGB")` hands the processor.
#include "fathom/image/Image.h"
#include "fathom/image/Resize.h"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace fathom::image {

// A processor output larger than this is refused (only reachable with do_resize false).
inline constexpr int kMaxProcessedSide = 4096;

// The fields DeepseekVLImageProcessorPil reads. Absent keys take that class's defaults.
struct ImageProcessorConfig {
  bool doResize = true;
  int size = 384; // "size": {"height": n, "width": n} or n; HF requires height == width
  int minSize = 14;
  Resample resample = Resample::Bicubic;
  bool doRescale = true;
  double rescaleFactor = 1.0 / 255.0;
  bool doNormalize = true;
  // OPENAI_CLIP_MEAN / OPENAI_CLIP_STD, the class defaults; DeepSeek-VL's config sets 0.5.
  std::array<double, 3> imageMean = {0.48145466, 0.4578275, 0.40821073};
  std::array<double, 3> imageStd = {0.26862954, 0.26130258, 0.27577711};
  bool doPad = true;
  // What the padding is filled with. HF ignores the config's "background_color" and always
  // derives int(mean * 255) per channel in its constructor; parsing does the same.
  std::array<uint8_t, 3> backgroundColor = {122, 116, 104};
  // Validated only: the input is already RGB with any alpha dropped, so HF's conversion (which
  // composites alpha onto white) never has anything to do.
  std::optional<bool> doConvertRgb;
};

// Reads an image_processor object (the "image_processor" of processor_config.json or the whole
// preprocessor_config.json). Errors read "<where>: <field>: <problem>".
ImageProcessorConfig parseImageProcessorConfig(const nlohmann::json& json,
                                               const std::string& where);

// processor_config.json's "image_processor", else preprocessor_config.json: transformers 5.23
// prefers the nested copy when both exist. Throws when neither has one.
ImageProcessorConfig loadImageProcessorConfig(const std::filesystem::path& checkpointDir);

// The image and its processor output size, as the processor computes them.
struct ProcessedSize {
  int resizedWidth = 0;
  int resizedHeight = 0;
  int side = 0; // output height == width when do_pad, else the resized size
  int outputWidth = 0;
  int outputHeight = 0;
};

class ImageProcessor {
public:
  explicit ImageProcessor(ImageProcessorConfig config);
  static ImageProcessor fromCheckpoint(const std::filesystem::path& checkpointDir) {
    return ImageProcessor(loadImageProcessorConfig(checkpointDir));
  }

  const ImageProcessorConfig& config() const { return config_; }

  // The sizes the steps produce for a width x height input.
  ProcessedSize sizes(int width, int height) const;
  // Resize and pad, still 8-bit: the image HF rescales and normalizes.
  RgbImage resizeAndPad(const RgbImage& image) const;
  // pixel_values for one image: float32 [3, outputHeight, outputWidth], channel-major.
  std::vector<float> preprocess(const RgbImage& image) const;
  std::vector<float> preprocessFile(const std::filesystem::path& path,
                                    const DecodeOptions& options = {}) const {
    return preprocess(decodeImageFile(path, options));
  }

private:
  ImageProcessorConfig config_;
  // rescale then normalize depends only on the channel and the 8-bit value: one table each.
  std::array<std::array<float, 256>, 3> lookup_;
};

} // namespace fathom::image
