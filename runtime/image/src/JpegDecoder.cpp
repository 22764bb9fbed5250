// JPEG through libjpeg(-turbo) with the settings Pillow decodes with: libjpeg's defaults
// (JDCT_ISLOW, fancy upsampling, block smoothing), output RGB, grayscale or CMYK as Pillow asks,
// converted to RGB the way Pillow's convert("RGB") does.
//
// libjpeg reports errors by calling error_exit, which must not return; the standard answer is
// longjmp. To keep that safe in C++ every libjpeg call runs inside one of the small functions
// below (readHeader, decompress) that call setjmp themselves and own no object with a
// destructor: a longjmp then unwinds only libjpeg's C frames and our trivial callbacks. The
// decompressor and every buffer live in decodeJpeg's frame, which the jump never crosses.
#include "DecodeInternal.h"

#include "fathom/runtime/Error.h"

#include <csetjmp>
#include <cstdio> // jpeglib.h uses FILE and size_t without including them

#include <jerror.h>
#include <jpeglib.h>

namespace fathom::image::detail {
namespace {

struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void jumpOut(j_common_ptr info) {
  auto* error = reinterpret_cast<ErrorManager*>(info->err);
  (*info->err->format_message)(info, error->message);
  std::longjmp(error->jump, 1);
}

// libjpeg's warnings are corrupt-data notes it recovers from; Pillow ignores them and so do we,
// except running out of data: libjpeg would pad the rest of the image with grey, while Pillow
// raises "image file is truncated".
void onMessage(j_common_ptr info, int level) {
  if (level < 0 && info->err->msg_code == JWRN_JPEG_EOF)
    jumpOut(info);
}

void silent(j_common_ptr) {}

// Each scan of a progressive JPEG is another pass over every coefficient block.
void onProgress(j_common_ptr info) {
  auto* decompress = reinterpret_cast<j_decompress_ptr>(info);
  if (decompress->input_scan_number > kMaxJpegScans) {
    auto* error = reinterpret_cast<ErrorManager*>(info->err);
    std::snprintf(error->message, sizeof error->message, "more than %d progressive scans",
                  kMaxJpegScans);
    std::longjmp(error->jump, 1);
  }
}

struct Decompressor {
  jpeg_decompress_struct info{};
  ErrorManager error{};
  jpeg_progress_mgr progress{};

  Decompressor() {
    info.err = jpeg_std_error(&error.pub);
    error.pub.error_exit = jumpOut;
    error.pub.emit_message = onMessage;
    error.pub.output_message = silent;
    progress.progress_monitor = onProgress;
  }
  // Safe on a struct jpeg_create_decompress never finished: jpeg_destroy checks for memory.
  ~Decompressor() { jpeg_destroy_decompress(&info); }
};

// Returns false after a libjpeg error, whose text is then in error.message.
bool readHeader(Decompressor& d, const uint8_t* data, size_t size) {
  if (setjmp(d.error.jump))
    return false;
  jpeg_create_decompress(&d.info);
  d.info.progress = &d.progress;
  jpeg_mem_src(&d.info, data, static_cast<unsigned long>(size));
  jpeg_read_header(&d.info, TRUE);
  return true;
}

// CMYK as Pillow has it: its JPEG plugin always reads 4-component files as Adobe-inverted
// ("CMYK;I"), and convert("RGB") then computes R = (255 - C') * (255 - K') / 255 with its
// rounding MULDIV255. With C' = 255 - C from the file that is C * K / 255.
inline uint8_t mulDiv255(unsigned a, unsigned b) {
  unsigned t = a * b + 128;
  return uint8_t(((t >> 8) + t) >> 8);
}

void cmykRowToRgb(const uint8_t* in, uint8_t* out, unsigned width) {
  for (unsigned x = 0; x < width; ++x, in += 4, out += 3) {
    out[0] = mulDiv255(in[0], in[3]);
    out[1] = mulDiv255(in[1], in[3]);
    out[2] = mulDiv255(in[2], in[3]);
  }
}

void grayRowToRgb(const uint8_t* in, uint8_t* out, unsigned width) {
  for (unsigned x = 0; x < width; ++x, out += 3)
    out[0] = out[1] = out[2] = in[x];
}

// Decodes every row into `out` (width*height*3 bytes); `row` holds one raw row when the output
// colour space is not RGB.
bool decompress(Decompressor& d, uint8_t* out, uint8_t* row) {
  if (setjmp(d.error.jump))
    return false;
  const unsigned width = d.info.image_width;
  jpeg_start_decompress(&d.info);
  // No scaling is requested, so the output has the header's size; the buffers depend on it.
  if (d.info.output_width != width || d.info.output_height != d.info.image_height) {
    std::snprintf(d.error.message, sizeof d.error.message, "output size differs from the header");
    return false;
  }
  const size_t stride = size_t(width) * 3;
  while (d.info.output_scanline < d.info.output_height) {
    uint8_t* target = out + size_t(d.info.output_scanline) * stride;
    JSAMPROW rows[1] = {d.info.out_color_space == JCS_RGB ? target : row};
    if (jpeg_read_scanlines(&d.info, rows, 1) != 1) { // only a suspending source returns 0
      std::snprintf(d.error.message, sizeof d.error.message, "no scanline returned");
      return false;
    }
    if (d.info.out_color_space == JCS_CMYK)
      cmykRowToRgb(row, target, width);
    else if (d.info.out_color_space == JCS_GRAYSCALE)
      grayRowToRgb(row, target, width);
  }
  // Reads up to EOI: Pillow reports a file cut anywhere before it as truncated.
  jpeg_finish_decompress(&d.info);
  return true;
}

} // namespace

RgbImage decodeJpeg(std::span<const uint8_t> bytes, std::string_view name,
                    const DecodeOptions& options) {
  Decompressor d;
  auto libjpegError = [&] {
    fail(name, std::string("corrupt or truncated JPEG: ") + d.error.message);
  };
  if (!readHeader(d, bytes.data(), bytes.size()))
    libjpegError();
  // Pillow's JPEG plugin accepts 8-bit samples with 1, 3 or 4 components, nothing else.
  if (d.info.data_precision != 8)
    fail(name, "unsupported JPEG: " + std::to_string(d.info.data_precision) +
                   "-bit samples (only 8-bit JPEGs are supported)");
  switch (d.info.num_components) {
  case 1:
    d.info.out_color_space = JCS_GRAYSCALE;
    break;
  case 3:
    d.info.out_color_space = JCS_RGB;
    break;
  case 4:
    d.info.out_color_space = JCS_CMYK; // libjpeg turns Adobe YCCK into CMYK itself
    break;
  default:
    fail(name, "unsupported JPEG: " + std::to_string(d.info.num_components) +
                   " components (expected 1, 3 or 4)");
  }
  checkDimensions(d.info.image_width, d.info.image_height, "JPEG", name, options);

  RgbImage image;
  image.width = int(d.info.image_width);
  image.height = int(d.info.image_height);
  image.pixels.resize(size_t(image.width) * image.height * 3);
  std::vector<uint8_t> row(size_t(image.width) * 4);
  if (!decompress(d, image.pixels.data(), row.data()))
    libjpegError();
  return image;
}

} // namespace fathom::image::detail
