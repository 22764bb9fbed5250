#pragma once
// On-disk layout of a Fathom artifact:
//   [0, 64)            ArtifactHeader
//   64-byte aligned    data sections (weights), each checksummed
//   metadataOffset     the Artifact FlatBuffer (Artifact.fbs), checksummed in the header
// Little-endian only. Readers refuse any other kFormatVersion.
#include <cstddef>
#include <cstdint>

namespace fathom::artifact {

inline constexpr char kMagic[8] = {'F', 'A', 'T', 'H', 'O', 'M', 'A', 'F'};
inline constexpr uint32_t kFormatVersion = 2;
inline constexpr size_t kHeaderSize = 64;
inline constexpr size_t kAlignment = 64;

struct ArtifactHeader {
  char magic[8];
  uint32_t formatVersion;
  uint32_t reserved;
  uint64_t metadataOffset;
  uint64_t metadataSize;
  uint64_t metadataXxh64;
  uint8_t padding[24];
};
static_assert(sizeof(ArtifactHeader) == kHeaderSize);

// The largest plan an artifact may hold (far above any real one: batches of 64, contexts of
// 163840), low enough that no product of them with a row width overflows 64 bits. The compiler
// refuses more; the loader refuses artifacts that claim more.
inline constexpr int64_t kMaxBatchLimit = int64_t(1) << 16;
inline constexpr int64_t kMaxSeqLenLimit = int64_t(1) << 24;

inline uint64_t alignUp(uint64_t value, uint64_t alignment = kAlignment) {
  return (value + alignment - 1) / alignment * alignment;
}

} // namespace fathom::artifact
