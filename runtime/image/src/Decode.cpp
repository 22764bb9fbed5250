// Format detection, whole-file reads and the dimension bounds; the codecs live in JpegDecoder.cpp
// and PngDecoder.cpp.
#include "DecodeInternal.h"

#include "fathom/runtime/Error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fathom::image {
namespace detail {

void fail(std::string_view name, const std::string& problem) {
  throw Error(std::string(name) + ": " + problem);
}

void checkDimensions(uint64_t width, uint64_t height, std::string_view format,
                     std::string_view name, const DecodeOptions& options) {
  std::string size = std::to_string(width) + "x" + std::to_string(height);
  if (width == 0 || height == 0)
    fail(name, std::string(format) + " header gives an empty image (" + size + ")");
  // Both sides fit in 32 bits (the formats say so), so the product cannot wrap.
  if (width * height > options.maxPixels)
    fail(name, std::string(format) + " image is " + size + " = " + std::to_string(width * height) +
                   " pixels, more than the limit of " + std::to_string(options.maxPixels));
}

} // namespace detail

namespace {

// Closes the descriptor on every path out of readFile.
struct FileDescriptor {
  int fd = -1;
  ~FileDescriptor() {
    if (fd >= 0)
      ::close(fd);
  }
};

std::vector<uint8_t> readFile(const std::filesystem::path& path, uint64_t maxBytes) {
  const std::string name = path.string();
  auto failErrno = [&](const char* what) {
    detail::fail(name, std::string(what) + ": " + std::strerror(errno));
  };
  FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0)
    failErrno("cannot open");
  struct stat info {};
  if (::fstat(file.fd, &info) != 0)
    failErrno("cannot open");
  if (S_ISDIR(info.st_mode)) {
    errno = EISDIR;
    failErrno("cannot open");
  }
  if (!S_ISREG(info.st_mode))
    detail::fail(name, "cannot open: not a regular file");
  if (uint64_t(info.st_size) > maxBytes)
    detail::fail(name, "file is " + std::to_string(info.st_size) +
                           " bytes, more than the limit of " + std::to_string(maxBytes));
  std::vector<uint8_t> bytes(size_t(info.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t got = ::read(file.fd, bytes.data() + done, bytes.size() - done);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      failErrno("read error");
    if (got == 0)
      break; // the file shrank while we read it: decode what is there, which will say so
    done += size_t(got);
  }
  bytes.resize(done);
  return bytes;
}

} // namespace

std::optional<ImageFormat> detectImageFormat(std::span<const uint8_t> bytes) {
  static constexpr uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff)
    return ImageFormat::Jpeg;
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), kPng, 8) == 0)
    return ImageFormat::Png;
  return std::nullopt;
}

RgbImage decodeImage(std::span<const uint8_t> bytes, std::string_view name,
                     const DecodeOptions& options) {
  if (bytes.empty())
    detail::fail(name, "empty file (expected JPEG or PNG)");
  std::optional<ImageFormat> format = detectImageFormat(bytes);
  if (!format)
    detail::fail(name, "unsupported image format (expected JPEG or PNG)");
  return *format == ImageFormat::Jpeg ? detail::decodeJpeg(bytes, name, options)
                                      : detail::decodePng(bytes, name, options);
}

RgbImage decodeImageFile(const std::filesystem::path& path, const DecodeOptions& options) {
  std::vector<uint8_t> bytes = readFile(path, options.maxFileBytes);
  return decodeImage(bytes, path.string(), options);
}

} // namespace fathom::image
