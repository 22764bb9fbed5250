#include "fathom/frontend/SafetensorsWriter.h"

#include "fathom/runtime/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace fathom::frontend {
namespace {
struct OutputFile {
  int fd;
  ~OutputFile() {
    if (fd >= 0)
      ::close(fd);
  }
};

void writeAt(const std::filesystem::path& path, int fd, const void* data, size_t size,
             uint64_t offset) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t written = ::pwrite(fd, bytes, size, off_t(offset));
    if (written < 0) {
      if (errno == EINTR)
        continue;
      throw Error(path.string() + ": write failed: " + std::strerror(errno));
    }
    bytes += written;
    size -= size_t(written);
    offset += uint64_t(written);
  }
}
} // namespace

uint64_t TensorSpec::byteSize() const {
  uint64_t bytes = dtypeSize(dtype);
  for (int64_t dim : shape)
    bytes *= uint64_t(dim);
  return bytes;
}

uint64_t writeSafetensors(const std::filesystem::path& path, std::vector<TensorSpec> tensors,
                          const std::map<std::string, std::string>& metadata) {
  std::stable_sort(tensors.begin(), tensors.end(), [](const TensorSpec& a, const TensorSpec& b) {
    if (dtypeSize(a.dtype) != dtypeSize(b.dtype))
      return dtypeSize(a.dtype) > dtypeSize(b.dtype);
    return a.name < b.name;
  });

  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty())
    header["__metadata__"] = metadata;
  std::vector<uint64_t> offsets;
  uint64_t dataSize = 0;
  for (const TensorSpec& tensor : tensors) {
    uint64_t bytes = tensor.byteSize();
    if (!tensor.data.empty() && tensor.data.size() != bytes)
      throw Error(path.string() + ": tensor \"" + tensor.name + "\" has " +
                  std::to_string(tensor.data.size()) + " bytes of data, its shape needs " +
                  std::to_string(bytes));
    header[tensor.name] = {{"dtype", std::string(dtypeName(tensor.dtype))},
                           {"shape", tensor.shape},
                           {"data_offsets", {dataSize, dataSize + bytes}}};
    offsets.push_back(dataSize);
    dataSize += bytes;
  }
  std::string headerText = header.dump();
  headerText.append((8 - headerText.size() % 8) % 8, ' ');
  const uint64_t headerSize = headerText.size();

  OutputFile file{::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
  if (file.fd < 0)
    throw Error(path.string() + ": cannot create: " + std::strerror(errno));
  unsigned char lengthBytes[8];
  for (int i = 0; i < 8; ++i)
    lengthBytes[i] = static_cast<unsigned char>(headerSize >> (8 * i));
  writeAt(path, file.fd, lengthBytes, 8, 0);
  writeAt(path, file.fd, headerText.data(), headerText.size(), 8);
  const uint64_t dataStart = 8 + headerSize;
  for (size_t i = 0; i < tensors.size(); ++i)
    if (!tensors[i].data.empty())
      writeAt(path, file.fd, tensors[i].data.data(), tensors[i].data.size(),
              dataStart + offsets[i]);
  if (::ftruncate(file.fd, off_t(dataStart + dataSize)) != 0)
    throw Error(path.string() + ": cannot set file size: " + std::strerror(errno));
  return headerSize;
}

} // namespace fathom::frontend
