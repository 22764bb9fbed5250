#include "fathom/artifact/Checksum.h"

#include <cstring>

namespace fathom {
namespace {

constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ull;
constexpr uint64_t kPrime2 = 0xC2B2AE3D27D4EB4Full;
constexpr uint64_t kPrime3 = 0x165667B19E3779F9ull;
constexpr uint64_t kPrime4 = 0x85EBCA77C2B2AE63ull;
constexpr uint64_t kPrime5 = 0x27D4EB2F165667C5ull;

uint64_t rotl(uint64_t value, int bits) { return (value << bits) | (value >> (64 - bits)); }

uint64_t load64(const uint8_t* p) {
  uint64_t value;
  std::memcpy(&value, p, 8);
  return value; // little-endian hosts only, like the rest of the artifact format
}

uint32_t load32(const uint8_t* p) {
  uint32_t value;
  std::memcpy(&value, p, 4);
  return value;
}

uint64_t round(uint64_t accumulator, uint64_t input) {
  accumulator += input * kPrime2;
  return rotl(accumulator, 31) * kPrime1;
}

uint64_t mergeRound(uint64_t accumulator, uint64_t lane) {
  accumulator ^= round(0, lane);
  return accumulator * kPrime1 + kPrime4;
}

} // namespace

Xxh64::Xxh64() : lanes_{kPrime1 + kPrime2, kPrime2, 0, 0ull - kPrime1} {}

void Xxh64::update(const void* data, size_t size) {
  const uint8_t* bytes = static_cast<const uint8_t*>(data);
  totalSize_ += size;
  if (pendingSize_ + size < 32) {
    std::memcpy(pending_ + pendingSize_, bytes, size);
    pendingSize_ += size;
    return;
  }
  if (pendingSize_ > 0) {
    size_t fill = 32 - pendingSize_;
    std::memcpy(pending_ + pendingSize_, bytes, fill);
    for (int lane = 0; lane < 4; ++lane)
      lanes_[lane] = round(lanes_[lane], load64(pending_ + 8 * lane));
    bytes += fill;
    size -= fill;
    pendingSize_ = 0;
  }
  while (size >= 32) {
    for (int lane = 0; lane < 4; ++lane)
      lanes_[lane] = round(lanes_[lane], load64(bytes + 8 * lane));
    bytes += 32;
    size -= 32;
  }
  std::memcpy(pending_, bytes, size);
  pendingSize_ = size;
}

uint64_t Xxh64::digest() const {
  uint64_t hash;
  if (totalSize_ >= 32) {
    hash = rotl(lanes_[0], 1) + rotl(lanes_[1], 7) + rotl(lanes_[2], 12) + rotl(lanes_[3], 18);
    for (uint64_t lane : lanes_)
      hash = mergeRound(hash, lane);
  } else {
    hash = lanes_[2] + kPrime5;
  }
  hash += totalSize_;
  const uint8_t* p = pending_;
  size_t remaining = pendingSize_;
  while (remaining >= 8) {
    hash ^= round(0, load64(p));
    hash = rotl(hash, 27) * kPrime1 + kPrime4;
    p += 8;
    remaining -= 8;
  }
  if (remaining >= 4) {
    hash ^= uint64_t(load32(p)) * kPrime1;
    hash = rotl(hash, 23) * kPrime2 + kPrime3;
    p += 4;
    remaining -= 4;
  }
  while (remaining > 0) {
    hash ^= (*p) * kPrime5;
    hash = rotl(hash, 11) * kPrime1;
    ++p;
    --remaining;
  }
  hash ^= hash >> 33;
  hash *= kPrime2;
  hash ^= hash >> 29;
  hash *= kPrime3;
  hash ^= hash >> 32;
  return hash;
}

uint64_t xxh64(const void* data, size_t size) {
  Xxh64 hasher;
  hasher.update(data, size);
  return hasher.digest();
}

} // namespace fathom
