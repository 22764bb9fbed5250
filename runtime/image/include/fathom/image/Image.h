#pragma once
// Decoding the pictures a DeepSeek-VL prompt refers to, as Pillow does: `Image.open(path)`
// followed by `.convert("RGB")`. The format is told by the file's first bytes, never by its name.
// Every failure is a fathom::Error of one line naming the file and the problem.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace fathom::image {

// 8-bit RGB, rows top to bottom, pixels interleaved R, G, B; pixels.size() == width*height*3.
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;

  const uint8_t* pixel(int x, int y) const { return pixels.data() + (size_t(y) * width + x) * 3; }
};

// Pillow's DecompressionBombError threshold (2 * Image.MAX_IMAGE_PIXELS): a header claiming more
// is refused before anything is allocated, as Pillow refuses it.
inline constexpr uint64_t kMaxImagePixels = 178'956'970;
// Progressive JPEGs may have any number of scans, each costing a pass over the coefficients; real
// encoders write about 10. libjpeg-turbo's own tools refuse more than 500 when asked to be safe.
inline constexpr int kMaxJpegScans = 1000;

struct DecodeOptions {
  uint64_t maxPixels = kMaxImagePixels;
  uint64_t maxFileBytes = uint64_t(1) << 30;
};

enum class ImageFormat { Jpeg, Png };

// JPEG starts FF D8 FF (Pillow's test), PNG with its 8-byte signature; anything else is nullopt.
std::optional<ImageFormat> detectImageFormat(std::span<const uint8_t> bytes);

// Reads and decodes a JPEG or PNG file. Errors start with the path as given.
RgbImage decodeImageFile(const std::filesystem::path& path, const DecodeOptions& options = {});

// The same for bytes already in memory; `name` starts every error message.
RgbImage decodeImage(std::span<const uint8_t> bytes, std::string_view name,
                     const DecodeOptions& options = {});

} // namespace fathom::image
