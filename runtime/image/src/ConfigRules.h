#pragma once
// The range rules of an ImageProcessorConfig, shared by the JSON reader (which names JSON paths)
// and the ImageProcessor constructor (which checks configs built in C++).
#include "fathom/image/ImageProcessor.h"

#include <string>

namespace fathom::image::detail {

inline constexpr const char* kUnsupportedFilter =
    "is not supported (implemented: 0 NEAREST, 1 LANCZOS, 2 BILINEAR, 3 BICUBIC, 4 BOX, "
    "5 HAMMING)";

// A double as JSON writes it (0.5, 1e-05), for messages.
std::string formatNumber(double value);

// transformers' DeepseekVLImageProcessor.__init__: tuple(int(x * 255) for x in image_mean),
// int() truncating toward zero; values outside 0..255 are clamped here and refused by
// checkConfig when padding would use them.
std::array<uint8_t, 3> backgroundFromMean(const std::array<double, 3>& mean);

// Throws "<where>: <prefix><json key>: <problem>" for the first rule broken.
void checkConfig(const ImageProcessorConfig& config, const std::string& where,
                 const std::string& prefix);

} // namespace fathom::image::detail
