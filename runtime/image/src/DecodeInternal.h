#pragma once
// Shared by the two decoders: the bounds every header is checked against before allocation.
#include "fathom/image/Image.h"

#include <string>
#include <string_view>

namespace fathom::image::detail {

RgbImage decodeJpeg(std::span<const uint8_t> bytes, std::string_view name,
                    const DecodeOptions& options);
RgbImage decodePng(std::span<const uint8_t> bytes, std::string_view name,
                   const DecodeOptions& options);

// Throws "<name>: <format> image is WxH ..." for a zero side or more pixels than allowed.
void checkDimensions(uint64_t width, uint64_t height, std::string_view format,
                     std::string_view name, const DecodeOptions& options);

[[noreturn]] void fail(std::string_view name, const std::string& problem);

} // namespace fathom::image::detail
