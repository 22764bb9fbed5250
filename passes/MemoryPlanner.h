#pragma once
// Static placement of activation buffers in one arena: buffers whose lifetimes (first
// definition to last use, in call order) overlap never share bytes; the others may.
#include <cstdint>
#include <vector>

namespace mlir::fathom {

struct BufferLifetime {
  uint64_t size = 0;
  int64_t firstCall = 0; // the call that writes it
  int64_t lastCall = 0;  // the last call that reads it (the program's end for its output)
};

struct Placement {
  std::vector<uint64_t> offsets; // per buffer, aligned
  uint64_t arenaSize = 0;
};

// Greedy by decreasing size, each at the lowest offset (a multiple of `alignment`, a power of
// two) that no placed, overlapping buffer covers: the usual best-effort for interval packing,
// optimal for the chain-shaped lifetimes a decoder produces.
Placement placeBuffers(const std::vector<BufferLifetime>& buffers, uint64_t alignment = 64);

} // namespace mlir::fathom
