// Resize against Pillow 13's Image.resize on the decoded reference images (goldens.json
// "resize": shrinking, growing, one axis, odd factors; every filter, NEAREST included, on two
// images).
#include "ImageTestSupport.h"

#include "fathom/image/Resize.h"

#include <gtest/gtest.h>

#include <cstring>

namespace fathom::image {
namespace {

using namespace testing;

TEST(Resize, BitExactAgainstPillow) {
  size_t cases = 0, verticalFirst = 0;
  for (const nlohmann::json& entry : goldens().images()) {
    const std::string file = entry.at("file");
    RgbImage image = decodeImageFile(imageDir() / file);
    for (const nlohmann::json& c : entry.at("resize")) {
      const int width = c.at("width"), height = c.at("height");
      const auto filter = *resampleFromPil(c.at("filter").get<int>());
      SCOPED_TRACE(file + " -> " + std::to_string(width) + "x" + std::to_string(height) + " " +
                   std::string(resampleName(filter)));
      RgbImage out = resize(image, width, height, filter);
      ASSERT_EQ(out.width, width);
      ASSERT_EQ(out.height, height);
      if (c.contains("tensor")) {
        std::span<const std::byte> pil = goldens().bytes(c.at("tensor"));
        ASSERT_EQ(pil.size(), out.pixels.size());
        EXPECT_EQ(std::memcmp(pil.data(), out.pixels.data(), pil.size()), 0);
      }
      EXPECT_EQ(crc32Of(out), c.at("crc32").get<uint32_t>());
      ++cases;
      verticalFirst += height < image.height && image.height - height > 2 * (image.width - width) &&
                       width != image.width;
    }
  }
  EXPECT_EQ(cases, 209u);
  EXPECT_GT(verticalFirst, 10u); // Pillow 13's vertical-first order is exercised too
}

TEST(Resize, SameSizeIsACopy) {
  RgbImage image = decodeImageFile(imageDir() / "chelsea-10x6.png");
  EXPECT_EQ(resize(image, 10, 6).pixels, image.pixels);
}

TEST(Resize, RefusesWhatItDoesNotImplement) {
  RgbImage image = decodeImageFile(imageDir() / "chelsea-10x6.png");
  EXPECT_EQ(errorOf([&] { resize(image, 0, 5); }), "resize: target size 0x5 must be at least 1x1");
  EXPECT_EQ(errorOf([&] { resize(RgbImage{}, 5, 5); }),
            "resize: the input image is empty or its pixel buffer has the wrong size");
  EXPECT_EQ(resampleFromPil(6), std::nullopt);
  EXPECT_EQ(resampleName(Resample::Hamming), "HAMMING");
}

} // namespace
} // namespace fathom::image
