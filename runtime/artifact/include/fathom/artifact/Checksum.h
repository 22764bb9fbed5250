#pragma once
// XXH64 (seed 0): fast enough to checksum every weight section at load time.
#include <cstddef>
#include <cstdint>

namespace fathom {

class Xxh64 {
public:
  Xxh64();
  void update(const void* data, size_t size);
  uint64_t digest() const;

private:
  uint64_t lanes_[4];
  uint8_t pending_[32];
  size_t pendingSize_ = 0;
  uint64_t totalSize_ = 0;
};

uint64_t xxh64(const void* data, size_t size);

} // namespace fathom
