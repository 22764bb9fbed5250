#include "ImageTestSupport.h"

#include "fathom/runtime/Error.h"
#include "fathom/runtime/Json.h"

#include <gtest/gtest.h>

#include <array>

#include <fstream>
#include <iterator>

namespace fathom::image::testing {

std::filesystem::path referenceDir() {
  return std::filesystem::path(FATHOM_SOURCE_DIR) / "test" / "reference";
}
std::filesystem::path imageDir() {
  return referenceDir() / "images";
}

std::span<const std::byte> Goldens::bytes(const std::string& name) const {
  std::optional<frontend::TensorView> view = tensors.find(name);
  EXPECT_TRUE(view.has_value()) << "goldens.safetensors has no tensor " << name;
  return view ? view->bytes() : std::span<const std::byte>{};
}

const Goldens& goldens() {
  static const Goldens loaded{loadJsonFile(imageDir() / "goldens.json"),
                              frontend::SafetensorsFile::open(imageDir() / "goldens.safetensors")};
  return loaded;
}

// zlib's CRC-32 (reflected polynomial 0xEDB88320), which record_images.py takes from Python's
// zlib.crc32; written out so the tests need no zlib of their own.
uint32_t crc32Of(std::span<const std::byte> bytes) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k)
        c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (std::byte b : bytes)
    crc = table[(crc ^ uint32_t(b)) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}
uint32_t crc32Of(const RgbImage& image) {
  return crc32Of(std::as_bytes(std::span(image.pixels)));
}
uint32_t crc32Of(const std::vector<float>& values) {
  return crc32Of(std::as_bytes(std::span(values)));
}

std::vector<uint8_t> readBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot read " << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void writeBytes(const std::filesystem::path& path, std::span<const uint8_t> bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

std::string errorOf(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected a fathom::Error";
  return "";
}

} // namespace fathom::image::testing
