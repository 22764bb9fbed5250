// DeepseekVLImageProcessorPil._preprocess for one image: resize, pad_to_square, rescale,
// normalize, in that order and with transformers' arithmetic (see the header). Built with
// -ffp-contract=off like Resize.cpp: the float steps must round one operation at a time.
#include "ConfigRules.h"

#include "fathom/image/ImageProcessor.h"
#include "fathom/runtime/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace fathom::image {
namespace detail {

std::array<uint8_t, 3> backgroundFromMean(const std::array<double, 3>& mean) {
  std::array<uint8_t, 3> color{};
  for (size_t c = 0; c < 3; ++c)
    color[c] = uint8_t(std::clamp(std::trunc(mean[c] * 255), 0.0, 255.0));
  return color;
}

std::string formatNumber(double value) {
  return nlohmann::json(value).dump();
}

void checkConfig(const ImageProcessorConfig& config, const std::string& where,
                 const std::string& prefix) {
  auto fail = [&](const std::string& field, const std::string& problem) {
    throw Error(where + ": " + prefix + field + ": " + problem);
  };
  const std::string limit = std::to_string(kMaxProcessedSide);
  if (config.size < 1 || config.size > kMaxProcessedSide)
    fail("size", "expected from 1 to " + limit + ", got " + std::to_string(config.size));
  if (config.minSize < 1 || config.minSize > kMaxProcessedSide)
    fail("min_size", "expected from 1 to " + limit + ", got " + std::to_string(config.minSize));
  if (config.doRescale && !(std::isfinite(config.rescaleFactor) && config.rescaleFactor > 0))
    fail("rescale_factor", "expected a positive number, got " + formatNumber(config.rescaleFactor));
  for (size_t c = 0; c < 3; ++c) {
    const std::string index = "[" + std::to_string(c) + "]";
    if (!std::isfinite(config.imageMean[c]))
      fail("image_mean" + index, "expected a finite number");
    if (!std::isfinite(config.imageStd[c]) || (config.doNormalize && config.imageStd[c] == 0))
      fail("image_std" + index,
           "expected a finite, non-zero number, got " + formatNumber(config.imageStd[c]));
    double fill = std::trunc(config.imageMean[c] * 255);
    if (config.doPad && (fill < 0 || fill > 255))
      fail("image_mean" + index,
           "gives the padding grey int(" + formatNumber(config.imageMean[c]) + " * 255), " +
               "outside 0..255 (transformers derives the padding colour from the mean and fails "
               "on it too)");
  }
}

} // namespace detail

ImageProcessor::ImageProcessor(ImageProcessorConfig config) : config_(std::move(config)) {
  detail::checkConfig(config_, "image processor config", "");
  for (size_t c = 0; c < 3; ++c) {
    // normalize() casts mean and std to the image's float32, then computes in float32.
    const float mean = float(config_.imageMean[c]), stdev = float(config_.imageStd[c]);
    for (int v = 0; v < 256; ++v) {
      // rescale(): image.astype(float64) * scale, then .astype(float32).
      float x = config_.doRescale ? float(double(v) * config_.rescaleFactor) : float(v);
      if (config_.doNormalize)
        x = (x - mean) / stdev;
      lookup_[c][size_t(v)] = x;
    }
  }
}

ProcessedSize ImageProcessor::sizes(int width, int height) const {
  ProcessedSize s;
  s.resizedWidth = width;
  s.resizedHeight = height;
  if (config_.doResize) {
    // delta = target / max(h, w); max(round(h * delta), min_size): Python's round() is
    // round-half-even, which nearbyint does in the default rounding mode.
    const double delta = double(config_.size) / std::max(width, height);
    s.resizedHeight = std::max(int(std::nearbyint(height * delta)), config_.minSize);
    s.resizedWidth = std::max(int(std::nearbyint(width * delta)), config_.minSize);
  }
  s.side = std::max(s.resizedWidth, s.resizedHeight);
  s.outputWidth = config_.doPad ? s.side : s.resizedWidth;
  s.outputHeight = config_.doPad ? s.side : s.resizedHeight;
  return s;
}

RgbImage ImageProcessor::resizeAndPad(const RgbImage& image) const {
  if (image.width < 1 || image.height < 1 ||
      image.pixels.size() != size_t(image.width) * image.height * 3)
    throw Error("image processor: the input image is empty or its pixel buffer has the wrong size");
  const ProcessedSize s = sizes(image.width, image.height);
  if (s.outputWidth > kMaxProcessedSide || s.outputHeight > kMaxProcessedSide)
    throw Error("image processor: the output would be " + std::to_string(s.outputWidth) + "x" +
                std::to_string(s.outputHeight) + ", more than " +
                std::to_string(kMaxProcessedSide) + " a side (do_resize is false)");
  RgbImage resized =
      config_.doResize ? resize(image, s.resizedWidth, s.resizedHeight, config_.resample) : image;
  if (!config_.doPad || resized.width == resized.height)
    return resized;
  RgbImage canvas;
  canvas.width = canvas.height = s.side;
  canvas.pixels.resize(size_t(s.side) * s.side * 3);
  for (size_t i = 0; i < canvas.pixels.size(); i += 3)
    std::memcpy(&canvas.pixels[i], config_.backgroundColor.data(), 3);
  // pad_to_square centres the image, the odd pixel of padding going after it: (max - n) // 2.
  const int top = resized.width > resized.height ? (s.side - resized.height) / 2 : 0;
  const int left = resized.width > resized.height ? 0 : (s.side - resized.width) / 2;
  const size_t rowBytes = size_t(resized.width) * 3;
  for (int y = 0; y < resized.height; ++y)
    std::memcpy(&canvas.pixels[(size_t(y + top) * s.side + left) * 3],
                &resized.pixels[size_t(y) * rowBytes], rowBytes);
  return canvas;
}

std::vector<float> ImageProcessor::preprocess(const RgbImage& image) const {
  const RgbImage canvas = resizeAndPad(image);
  const size_t plane = size_t(canvas.width) * canvas.height;
  std::vector<float> values(plane * 3);
  for (size_t c = 0; c < 3; ++c) {
    const std::array<float, 256>& table = lookup_[c];
    float* out = values.data() + c * plane;
    for (size_t i = 0; i < plane; ++i)
      out[i] = table[canvas.pixels[3 * i + c]];
  }
  return values;
}

} // namespace fathom::image
