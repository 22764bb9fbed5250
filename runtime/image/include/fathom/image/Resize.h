#pragma once
// Pillow's Image.resize for 8-bit RGB, bit for bit: separable convolution with coefficients
// computed in double, normalized, rounded to 22-bit fixed point, the horizontal pass first into
// an 8-bit image, then the vertical pass; a pass is skipped when its dimension is unchanged.
#include "fathom/image/Image.h"

#include <optional>
#include <string_view>

namespace fathom::image {

// PIL.Image.Resampling, with PIL's numbers (the "resample" of an image processor config).
enum class Resample : int {
  Nearest = 0,
  Lanczos = 1,
  Bilinear = 2,
  Bicubic = 3,
  Box = 4,
  Hamming = 5,
};

// PIL's name for a filter ("BICUBIC"), for messages.
std::string_view resampleName(Resample filter);
// The filter PIL numbers `value`, nullopt outside 0..5.
std::optional<Resample> resampleFromPil(int64_t value);

// Resizes to width x height (both >= 1; fathom::Error otherwise). NEAREST takes Pillow's other
// code path (ImagingScaleAffine: one source pixel per output, no filter).
RgbImage resize(const RgbImage& image, int width, int height, Resample filter = Resample::Bicubic);

} // namespace fathom::image
