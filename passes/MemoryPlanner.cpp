#include "passes/MemoryPlanner.h"

#include <algorithm>
#include <numeric>

namespace mlir::fathom {
namespace {

bool overlaps(const BufferLifetime& a, const BufferLifetime& b) {
  return a.firstCall <= b.lastCall && b.firstCall <= a.lastCall;
}
} // namespace

Placement placeBuffers(const std::vector<BufferLifetime>& buffers, uint64_t alignment) {
  auto alignUp = [alignment](uint64_t value) {
    return (value + alignment - 1) / alignment * alignment;
  };
  Placement placement;
  placement.offsets.assign(buffers.size(), 0);
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return buffers[a].size > buffers[b].size; });
  std::vector<size_t> placed;
  for (size_t index : order) {
    const BufferLifetime& buffer = buffers[index];
    // Ranges taken by placed buffers alive at the same time, by offset.
    std::vector<std::pair<uint64_t, uint64_t>> taken;
    for (size_t other : placed)
      if (overlaps(buffer, buffers[other]))
        taken.emplace_back(placement.offsets[other],
                           placement.offsets[other] + alignUp(buffers[other].size));
    std::sort(taken.begin(), taken.end());
    uint64_t offset = 0;
    for (const auto& [begin, end] : taken) {
      if (offset + alignUp(buffer.size) <= begin)
        break;
      offset = std::max(offset, end);
    }
    placement.offsets[index] = offset;
    placement.arenaSize = std::max(placement.arenaSize, offset + alignUp(buffer.size));
    placed.push_back(index);
  }
  return placement;
}

} // namespace mlir::fathom
