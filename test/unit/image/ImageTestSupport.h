#pragma once
// What the image tests share: the committed images and the goldens record_images.py wrote from
// Pillow 13 and transformers 5.23 (test/reference/images/), zlib's CRC-32 that the goldens use,
// and scratch files for the error cases.
#include "../support/TempDir.h"
#include "fathom/frontend/SafetensorsFile.h"
#include "fathom/image/Image.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::image::testing {

std::filesystem::path referenceDir(); // test/reference
std::filesystem::path imageDir();     // test/reference/images

struct Goldens {
  nlohmann::json manifest;
  frontend::SafetensorsFile tensors;

  const nlohmann::json& images() const { return manifest.at("images"); }
  // The bytes of a stored tensor; fails the test (and returns empty) when it is missing.
  std::span<const std::byte> bytes(const std::string& name) const;
};

// Loaded once per process.
const Goldens& goldens();

uint32_t crc32Of(std::span<const std::byte> bytes);
uint32_t crc32Of(const RgbImage& image);
uint32_t crc32Of(const std::vector<float>& values);

std::vector<uint8_t> readBytes(const std::filesystem::path& path);

using fathom::testing::TempDir;

void writeBytes(const std::filesystem::path& path, std::span<const uint8_t> bytes);

// The message of the fathom::Error `action` throws; a test failure when it throws nothing.
std::string errorOf(const std::function<void()>& action);

} // namespace fathom::image::testing
