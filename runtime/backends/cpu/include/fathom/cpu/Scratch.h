#pragma once
// Temporary memory for kernels. Kernels never allocate: the ones that need room take a Scratch
// span whose size their *ScratchBytes function gives, so the executor can size one buffer per
// plan ahead of time.
#include <cstddef>
#include <memory>
#include <span>

namespace fathom::cpu {

using Scratch = std::span<std::byte>;

// An owning, 64-byte aligned scratch buffer (tests, tools, and the executor's plan).
class ScratchBuffer {
public:
  ScratchBuffer() = default;
  explicit ScratchBuffer(size_t bytes) { reserve(bytes); }

  // Grows (never shrinks) to at least `bytes`; the contents are not kept.
  void reserve(size_t bytes) {
    if (bytes <= bytes_)
      return;
    data_.reset(static_cast<std::byte*>(::operator new[](bytes, std::align_val_t(64))));
    bytes_ = bytes;
  }
  Scratch span() { return {data_.get(), bytes_}; }
  size_t size() const { return bytes_; }

private:
  struct AlignedDelete {
    void operator()(std::byte* p) const { ::operator delete[](p, std::align_val_t(64)); }
  };
  std::unique_ptr<std::byte[], AlignedDelete> data_;
  size_t bytes_ = 0;
};

} // namespace fathom::cpu
