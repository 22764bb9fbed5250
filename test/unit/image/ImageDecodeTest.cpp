// Decoding against Pillow 13's Image.open(f).convert("RGB") (goldens.json "decoded"), and every
// refusal with its exact one-line message.
#include "ImageTestSupport.h"

#include "fathom/image/Image.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

namespace fathom::image {
namespace {

using namespace testing;

// Big-endian helpers for hand-made PNG and JPEG headers.
void put32(std::vector<uint8_t>& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(uint8_t(value >> shift));
}

void pngChunk(std::vector<uint8_t>& out, const char* type, const std::vector<uint8_t>& data) {
  put32(out, uint32_t(data.size()));
  std::vector<uint8_t> body(type, type + 4);
  body.insert(body.end(), data.begin(), data.end());
  out.insert(out.end(), body.begin(), body.end());
  put32(out, crc32Of(std::as_bytes(std::span(body))));
}

// A PNG whose IHDR says width x height (8-bit RGB), with a token IDAT: enough for the header to
// be read and judged.
std::vector<uint8_t> pngWithSize(uint32_t width, uint32_t height) {
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> ihdr;
  put32(ihdr, width);
  put32(ihdr, height);
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});
  pngChunk(png, "IHDR", ihdr);
  pngChunk(png, "IDAT", {0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
  pngChunk(png, "IEND", {});
  return png;
}

// A real JPEG with the SOF0 frame size rewritten.
std::vector<uint8_t> jpegWithSize(uint16_t width, uint16_t height) {
  std::vector<uint8_t> jpeg = readBytes(imageDir() / "chelsea-301x199-420.jpg");
  for (size_t i = 2; i + 9 < jpeg.size(); ++i)
    if (jpeg[i] == 0xff && jpeg[i + 1] == 0xc0) {
      jpeg[i + 5] = uint8_t(height >> 8), jpeg[i + 6] = uint8_t(height);
      jpeg[i + 7] = uint8_t(width >> 8), jpeg[i + 8] = uint8_t(width);
      return jpeg;
    }
  ADD_FAILURE() << "no SOF0 marker";
  return jpeg;
}

std::string decodeError(const TempDir& dir, const std::string& name,
                        const std::vector<uint8_t>& bytes, const DecodeOptions& options = {}) {
  writeBytes(dir / name, bytes);
  return errorOf([&] { decodeImageFile(dir / name, options); });
}

TEST(ImageDecode, EveryReferenceImageDecodesAsPillowDoes) {
  size_t images = 0, jpegs = 0;
  for (const nlohmann::json& entry : goldens().images()) {
    const std::string file = entry.at("file");
    SCOPED_TRACE(file);
    RgbImage image = decodeImageFile(imageDir() / file);
    ASSERT_EQ(image.width, entry.at("width").get<int>());
    ASSERT_EQ(image.height, entry.at("height").get<int>());
    const nlohmann::json& decoded = entry.at("decoded");
    if (decoded.contains("tensor")) {
      std::span<const std::byte> pil = goldens().bytes(decoded.at("tensor"));
      ASSERT_EQ(pil.size(), image.pixels.size());
      EXPECT_EQ(std::memcmp(pil.data(), image.pixels.data(), pil.size()), 0);
    }
    EXPECT_EQ(crc32Of(image), decoded.at("crc32").get<uint32_t>())
        << entry.at("pil_mode") << " decodes differently from Pillow";
    ++images;
    jpegs += entry.at("format") == "JPEG";
  }
  EXPECT_EQ(images, 20u);
  EXPECT_EQ(jpegs, 9u);
}

TEST(ImageDecode, MemoryAndFileAgree) {
  for (const char* file : {"grace_hopper.jpg", "chelsea-151x101-interlaced.png"}) {
    std::vector<uint8_t> bytes = readBytes(imageDir() / file);
    EXPECT_EQ(decodeImage(bytes, file).pixels, decodeImageFile(imageDir() / file).pixels) << file;
  }
}

TEST(ImageDecode, FormatIsToldByMagicBytes) {
  std::vector<uint8_t> png = readBytes(imageDir() / "chelsea-10x6.png");
  EXPECT_EQ(detectImageFormat(png), ImageFormat::Png);
  EXPECT_EQ(detectImageFormat(readBytes(imageDir() / "rocket.jpg")), ImageFormat::Jpeg);
  EXPECT_EQ(detectImageFormat(std::vector<uint8_t>{0xff, 0xd8}), std::nullopt);
  TempDir dir;
  writeBytes(dir / "really-a-png.jpg", png); // the name does not matter
  EXPECT_EQ(decodeImageFile(dir / "really-a-png.jpg").width, 10);
}

TEST(ImageDecode, PngMayEndAfterItsLastRowAsInPillow) {
  // Without IEND, the IDAT checksum and the zlib trailer, all rows are still there; Pillow
  // decodes such a file, so do we.
  std::vector<uint8_t> bytes = readBytes(imageDir() / "chelsea-151x101-interlaced.png");
  bytes.resize(bytes.size() - 12 - 4 - 4);
  EXPECT_EQ(decodeImage(bytes, "cut.png").pixels,
            decodeImageFile(imageDir() / "chelsea-151x101-interlaced.png").pixels);
}

TEST(ImageDecode, TruncatedAndCorruptFilesAreRefused) {
  TempDir dir;
  auto path = [&](const char* name) { return (dir / name).string(); };
  std::vector<uint8_t> jpeg = readBytes(imageDir() / "chelsea-301x199-420.jpg");
  std::vector<uint8_t> progressive = readBytes(imageDir() / "coffee-600x400-progressive.jpg");
  std::vector<uint8_t> png = readBytes(imageDir() / "coins-384x303-gray.png");
  const std::string jpegTruncated = ": corrupt or truncated JPEG: Premature end of JPEG file";

  // libjpeg would fill the missing rows with grey and warn; Pillow raises "image file is
  // truncated", and so do we, also when only the EOI marker is missing.
  EXPECT_EQ(decodeError(dir, "photo.jpg", {jpeg.begin(), jpeg.begin() + 5000}),
            path("photo.jpg") + jpegTruncated);
  EXPECT_EQ(decodeError(dir, "no-eoi.jpg", {jpeg.begin(), jpeg.end() - 2}),
            path("no-eoi.jpg") + jpegTruncated);
  EXPECT_EQ(decodeError(dir, "progressive.jpg", {progressive.begin(), progressive.end() - 3000}),
            path("progressive.jpg") + jpegTruncated);
  EXPECT_EQ(decodeError(dir, "header.jpg", {jpeg.begin(), jpeg.begin() + 100}),
            path("header.jpg") + jpegTruncated);

  EXPECT_EQ(decodeError(dir, "half.png", {png.begin(), png.begin() + png.size() / 2}),
            path("half.png") + ": corrupt or truncated PNG: unexpected end of file");
  std::vector<uint8_t> badCrc = png;
  badCrc[29] ^= 0xff; // the IHDR checksum
  EXPECT_EQ(decodeError(dir, "x.png", badCrc),
            path("x.png") + ": corrupt or truncated PNG: IHDR: CRC error");
  // A byte changed inside the compressed image data: libpng's IDAT checksum catches it (Pillow
  // skips that checksum); with the checksum made to match, the image data ends before the last
  // row (libpng says so in a warning, which becomes the message).
  std::vector<uint8_t> badData = png;
  const std::string_view idat = "IDAT";
  const size_t at = size_t(std::search(badData.begin(), badData.end(), idat.begin(), idat.end()) -
                           badData.begin());
  ASSERT_LT(at + 64, badData.size());
  badData[at + 64] ^= 0x55;
  EXPECT_EQ(decodeError(dir, "data.png", badData),
            path("data.png") + ": corrupt or truncated PNG: IDAT: CRC error");
  const size_t length = size_t(badData[at - 4]) << 24 | size_t(badData[at - 3]) << 16 |
                        size_t(badData[at - 2]) << 8 | badData[at - 1];
  std::vector<uint8_t> crc;
  put32(crc, crc32Of(std::as_bytes(std::span(badData).subspan(at, 4 + length))));
  std::copy(crc.begin(), crc.end(), badData.begin() + long(at + 4 + length));
  EXPECT_EQ(decodeError(dir, "zlib.png", badData),
            path("zlib.png") + ": corrupt or truncated PNG: Extra compression data in IDAT");
}

TEST(ImageDecode, OtherFormatsAndMissingFilesAreRefused) {
  TempDir dir;
  auto path = [&](const char* name) { return (dir / name).string(); };
  const std::string unsupported = ": unsupported image format (expected JPEG or PNG)";
  EXPECT_EQ(decodeError(dir, "x.gif", {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0}),
            path("x.gif") + unsupported);
  EXPECT_EQ(decodeError(dir, "x.bmp", {'B', 'M', 0x3a, 0, 0, 0, 0, 0, 0, 0, 0x36, 0, 0, 0}),
            path("x.bmp") + unsupported);
  EXPECT_EQ(decodeError(dir, "empty.png", {}),
            path("empty.png") + ": empty file (expected JPEG or PNG)");
  EXPECT_EQ(errorOf([&] { decodeImageFile(dir / "missing.png"); }),
            path("missing.png") + ": cannot open: No such file or directory");
  EXPECT_EQ(errorOf([&] { decodeImageFile(dir.path()); }),
            dir.path().string() + ": cannot open: Is a directory");
  EXPECT_EQ(errorOf([&] {
              decodeImage(std::vector<uint8_t>{0xff, 0xd8, 0xff}, "three.jpg");
            }),
            "three.jpg: corrupt or truncated JPEG: Premature end of JPEG file");
}

TEST(ImageDecode, SizesAreBoundedBeforeAnythingIsAllocated) {
  TempDir dir;
  auto path = [&](const char* name) { return (dir / name).string(); };
  EXPECT_EQ(decodeError(dir, "huge.png", pngWithSize(60000, 60000)),
            path("huge.png") + ": PNG image is 60000x60000 = 3600000000 pixels, more than the "
                               "limit of 178956970");
  EXPECT_EQ(decodeError(dir, "huge.jpg", jpegWithSize(65000, 65000)),
            path("huge.jpg") + ": JPEG image is 65000x65000 = 4225000000 pixels, more than the "
                               "limit of 178956970");
  EXPECT_EQ(decodeError(dir, "wide.png", pngWithSize(2'000'000, 1)),
            path("wide.png") +
                ": corrupt or truncated PNG: Invalid IHDR data: Image width exceeds user "
                "limit in IHDR");
  EXPECT_EQ(decodeError(dir, "zero.png", pngWithSize(0, 10)),
            path("zero.png") +
                ": corrupt or truncated PNG: Invalid IHDR data: Image width is zero in IHDR");
  EXPECT_EQ(decodeError(dir, "zero.jpg", jpegWithSize(301, 0)),
            path("zero.jpg") + ": corrupt or truncated JPEG: Empty JPEG image (DNL not supported)");

  DecodeOptions small;
  small.maxPixels = 1000;
  small.maxFileBytes = 100'000;
  EXPECT_NO_THROW(decodeImageFile(imageDir() / "chelsea-10x6.png", small));
  EXPECT_EQ(errorOf([&] { decodeImageFile(imageDir() / "rocket.jpg", small); }),
            (imageDir() / "rocket.jpg").string() +
                ": file is 112525 bytes, more than the limit of 100000");
  EXPECT_EQ(errorOf([&] { decodeImageFile(imageDir() / "grace_hopper.jpg", small); }),
            (imageDir() / "grace_hopper.jpg").string() +
                ": JPEG image is 512x600 = 307200 pixels, more than the limit of 1000");
}

} // namespace
} // namespace fathom::image
