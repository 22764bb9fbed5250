#pragma once
// A read-only memory mapping of a whole file. Checkpoint shards are mapped, never read: the
// kernel pages in only what is touched, so opening a 700 GB checkpoint costs its headers.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

namespace fathom::frontend {

class MappedFile {
public:
  // Maps `path` read-only; throws fathom::Error naming the file when it cannot.
  static MappedFile open(const std::filesystem::path& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const std::filesystem::path& path() const { return path_; }
  std::span<const std::byte> bytes() const { return {data_, size_}; }
  uint64_t size() const { return size_; }

private:
  void unmap();

  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
};

} // namespace fathom::frontend
