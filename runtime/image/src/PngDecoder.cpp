// PNG through libpng, giving what Pillow's open + convert("RGB") gives (checked against Pillow 13
// by test/reference/record_images.py and ImageDecodeTest):
//   - palette -> its RGB entries, tRNS ignored; gray of 1/2/4 bits scaled to 0..255;
//   - any alpha channel dropped, never composited;
//   - 16-bit RGB, RGBA and gray+alpha -> the high byte of each sample;
//   - 16-bit gray -> min(value, 255): Pillow opens it as "I;16", whose conversion clips;
//   - no gamma, sBIT or colour-profile correction (Pillow applies none).
// Like Pillow, which feeds its decoder whatever the file holds, the file only has to last until
// the last row is decoded: a missing zlib trailer, IDAT checksum or IEND is not an error. libpng's
// progressive reader gives exactly that. Unlike Pillow, a wrong IDAT checksum is an error (libpng
// checks it, Pillow skips it).
//
// libpng reports errors through a callback that must not return; it longjmps back to the setjmp
// in run(), a small function owning no object with a destructor, so the jump unwinds only
// libpng's C frames and our callbacks, which hold none either when they raise an error. State and
// buffers live in decodePng's frame.
#include "DecodeInternal.h"

#include "fathom/runtime/Error.h"

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <new>

#include <png.h>

namespace fathom::image::detail {
namespace {

struct Reader {
  png_structp png = nullptr;
  png_infop info = nullptr;
  uint64_t maxPixels = 0;
  uint32_t width = 0;
  uint32_t height = 0;
  bool interlaced = false;
  bool gray16 = false; // rows arrive as 16-bit gray; everything else as 8-bit RGB
  bool tooLarge = false;
  size_t rowBytes = 0;
  std::vector<uint8_t> rows;
  char warning[200] = {};
  char idatWarning[200] = {}; // libpng downgrades a zlib error inside the image data to a warning
  char message[256] = {};

  ~Reader() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
};

Reader& readerOf(png_structp png) {
  return *static_cast<Reader*>(png_get_progressive_ptr(png));
}

[[noreturn]] void onError(png_structp png, png_const_charp message) {
  auto* r = static_cast<Reader*>(png_get_error_ptr(png));
  // libpng names what is wrong with IHDR in a warning and then fails with "Invalid IHDR data".
  if (std::strcmp(message, "Invalid IHDR data") == 0 && r->warning[0])
    std::snprintf(r->message, sizeof r->message, "%s: %s", message, r->warning);
  else
    std::snprintf(r->message, sizeof r->message, "%s", message);
  png_longjmp(png, 1);
}

// What libpng recovers from, Pillow ignores too; the text may explain a later error.
void onWarning(png_structp png, png_const_charp message) {
  auto* r = static_cast<Reader*>(png_get_error_ptr(png));
  std::snprintf(r->warning, sizeof r->warning, "%s", message);
  if (std::strstr(message, "IDAT"))
    std::snprintf(r->idatWarning, sizeof r->idatWarning, "%s", message);
}

// After the chunks before the first IDAT: bound the size, choose the transformations, allocate.
void onInfo(png_structp png, png_infop info) {
  Reader& r = readerOf(png);
  r.width = png_get_image_width(png, info);
  r.height = png_get_image_height(png, info);
  r.interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
  if (uint64_t(r.width) * r.height > r.maxPixels) {
    r.tooLarge = true; // decodePng reports it in the words checkDimensions uses
    png_error(png, "image too large");
  }
  const int colorType = png_get_color_type(png, info), bitDepth = png_get_bit_depth(png, info);
  r.gray16 = colorType == PNG_COLOR_TYPE_GRAY && bitDepth == 16;
  if (colorType == PNG_COLOR_TYPE_PALETTE)
    png_set_palette_to_rgb(png);
  if (colorType == PNG_COLOR_TYPE_GRAY && bitDepth < 8)
    png_set_expand_gray_1_2_4_to_8(png);
  if (!r.gray16) {
    png_set_strip_16(png); // keeps the high byte, as Pillow's ";16B" unpackers do
    if (!(colorType & PNG_COLOR_MASK_COLOR))
      png_set_gray_to_rgb(png);
  }
  png_set_strip_alpha(png); // also makes libpng ignore tRNS
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  r.rowBytes = size_t(r.width) * (r.gray16 ? 2 : 3);
  if (png_get_rowbytes(png, info) != r.rowBytes)
    png_error(png, "unexpected row layout after transformations");
  bool allocated = false;
  try {
    r.rows.resize(r.rowBytes * r.height);
    allocated = true;
  } catch (const std::bad_alloc&) {
  }
  if (!allocated) // raised only once the try block has ended, so no C++ frame is skipped
    png_error(png, "out of memory");
}

// With interlace handling libpng hands every row of every pass, already combined with what the
// earlier passes left in our buffer when png_progressive_combine_row merges it.
void onRow(png_structp png, png_bytep row, png_uint_32 rowNumber, int) {
  Reader& r = readerOf(png);
  if (row && rowNumber < r.height)
    png_progressive_combine_row(png, r.rows.data() + size_t(rowNumber) * r.rowBytes, row);
}

// Every row is final once libpng's counters have passed the last row of the last pass. Reaching
// IEND is no proof: after a zlib error libpng skips the rest of the image data with a warning.
bool allRowsDecoded(const Reader& r) {
  if (r.rows.empty())
    return false;
  return r.interlaced ? png_get_current_pass_number(r.png) >= 7
                      : png_get_current_row_number(r.png) >= r.height;
}

// Returns false after a libpng error, whose text is then in r.message.
bool run(Reader& r, const uint8_t* data, size_t size) {
  if (setjmp(png_jmpbuf(r.png)))
    return false;
  png_set_progressive_read_fn(r.png, &r, onInfo, onRow, nullptr);
  png_process_data(r.png, r.info, const_cast<png_bytep>(data), size);
  return true;
}

} // namespace

RgbImage decodePng(std::span<const uint8_t> bytes, std::string_view name,
                   const DecodeOptions& options) {
  Reader r;
  r.maxPixels = options.maxPixels;
  r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r, onError, onWarning);
  if (r.png)
    r.info = png_create_info_struct(r.png);
  if (!r.png || !r.info)
    fail(name, "cannot decode PNG: out of memory");
  const bool finished = run(r, bytes.data(), bytes.size());
  if (r.tooLarge)
    checkDimensions(r.width, r.height, "PNG", name, options);
  if (!finished)
    fail(name, std::string("corrupt or truncated PNG: ") + r.message);
  if (!allRowsDecoded(r))
    fail(name, std::string("corrupt or truncated PNG: ") +
                   (r.idatWarning[0] ? r.idatWarning : "unexpected end of file"));
  checkDimensions(r.width, r.height, "PNG", name, options);

  RgbImage image;
  image.width = int(r.width);
  image.height = int(r.height);
  if (!r.gray16) {
    image.pixels = std::move(r.rows);
    return image;
  }
  image.pixels.resize(size_t(r.width) * r.height * 3);
  for (size_t i = 0, n = size_t(r.width) * r.height; i < n; ++i) { // big-endian, clipped
    unsigned value = unsigned(r.rows[2 * i]) << 8 | r.rows[2 * i + 1];
    std::fill_n(&image.pixels[3 * i], 3, uint8_t(std::min(value, 255u)));
  }
  return image;
}

} // namespace fathom::image::detail
