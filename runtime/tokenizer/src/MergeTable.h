#pragma once
// BPE merge lookup: (left id, right id) -> (rank, merged id). An open-addressing hash table over
// 64-bit keys, because the merge loop does one lookup per adjacent pair and std::unordered_map's
// node chasing dominated encode time.
#include <cstdint>
#include <optional>
#include <vector>

namespace fathom::tokenizer::detail {

struct MergeResult {
  uint32_t rank;
  uint32_t mergedId;
};

class MergeTable {
public:
  void reserve(size_t count) {
    size_t capacity = 16;
    while (capacity < count * 2)
      capacity *= 2;
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    size_ = 0;
  }

  // A pair listed twice keeps its last entry, as HF's HashMap collect does.
  void insertOrAssign(uint32_t left, uint32_t right, MergeResult result) {
    if ((size_ + 1) * 2 > slots_.size())
      grow();
    uint64_t key = packKey(left, right);
    size_t index = hash(key) & mask_;
    while (slots_[index].occupied && slots_[index].key != key)
      index = (index + 1) & mask_;
    if (!slots_[index].occupied)
      ++size_;
    slots_[index] = Slot{key, result, true};
  }

  const MergeResult* find(uint32_t left, uint32_t right) const {
    if (slots_.empty())
      return nullptr;
    uint64_t key = packKey(left, right);
    size_t index = hash(key) & mask_;
    while (slots_[index].occupied) {
      if (slots_[index].key == key)
        return &slots_[index].result;
      index = (index + 1) & mask_;
    }
    return nullptr;
  }

  size_t size() const { return size_; }

private:
  struct Slot {
    uint64_t key = 0;
    MergeResult result{};
    bool occupied = false;
  };

  static uint64_t packKey(uint32_t left, uint32_t right) {
    return (static_cast<uint64_t>(left) << 32) | right;
  }
  static size_t hash(uint64_t key) {
    // Fibonacci hashing spreads the structured (small-id) keys across the table.
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 17);
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    reserve(old.empty() ? 8 : old.size());
    for (const Slot& slot : old)
      if (slot.occupied)
        insertOrAssign(static_cast<uint32_t>(slot.key >> 32), static_cast<uint32_t>(slot.key),
                       slot.result);
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

} // namespace fathom::tokenizer::detail
