#pragma once
// The BPE result of recently seen pieces. Natural text repeats a small set of pieces, so most
// lookups hit; a flat table with the keys and ids in two arenas keeps a hit to one hash, one probe
// sequence and one memcmp (a node-based std::unordered_map of vectors was the top encode cost).
// Bounded like HF's cache: once full, new pieces are simply not cached. Thread-safe.
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::tokenizer::detail {

class PieceCache {
public:
  static constexpr size_t kMaxEntries = 1 << 16;
  static constexpr size_t kMaxPieceBytes = 255;

  // Appends the cached ids of `piece` to `out` and returns true, or returns false on a miss.
  bool lookup(std::string_view piece, std::vector<uint32_t>& out) const {
    uint64_t h = hash(piece);
    std::lock_guard lock(mutex_);
    if (slots_.empty())
      return false;
    for (size_t index = h & kMask; slots_[index].used; index = (index + 1) & kMask) {
      const Slot& slot = slots_[index];
      if (slot.hash == h && slot.keyLength == piece.size() &&
          std::memcmp(keys_.data() + slot.keyOffset, piece.data(), piece.size()) == 0) {
        out.insert(out.end(), ids_.begin() + slot.idsOffset,
                   ids_.begin() + slot.idsOffset + slot.idCount);
        return true;
      }
    }
    return false;
  }

  void insert(std::string_view piece, const std::vector<uint32_t>& ids) {
    if (piece.size() > kMaxPieceBytes || ids.size() > 0xFFFF)
      return;
    uint64_t h = hash(piece);
    std::lock_guard lock(mutex_);
    if (entries_ >= kMaxEntries)
      return;
    if (slots_.empty())
      slots_.assign(kSlots, Slot{}); // allocated on first use: 3 MB per tokenizer
    size_t index = h & kMask;
    for (; slots_[index].used; index = (index + 1) & kMask) {
      const Slot& slot = slots_[index];
      if (slot.hash == h && slot.keyLength == piece.size() &&
          std::memcmp(keys_.data() + slot.keyOffset, piece.data(), piece.size()) == 0)
        return; // another thread cached it meanwhile
    }
    slots_[index] = Slot{h,
                         static_cast<uint32_t>(keys_.size()),
                         static_cast<uint32_t>(ids_.size()),
                         static_cast<uint16_t>(ids.size()),
                         static_cast<uint8_t>(piece.size()),
                         true};
    keys_.append(piece);
    ids_.insert(ids_.end(), ids.begin(), ids.end());
    ++entries_;
  }

  void clear() {
    std::lock_guard lock(mutex_);
    slots_.clear();
    keys_.clear();
    ids_.clear();
    entries_ = 0;
  }

private:
  // Twice the entries, so probe sequences stay short even when full.
  static constexpr size_t kSlots = kMaxEntries * 2;
  static constexpr size_t kMask = kSlots - 1;

  struct Slot {
    uint64_t hash = 0;
    uint32_t keyOffset = 0;
    uint32_t idsOffset = 0;
    uint16_t idCount = 0;
    uint8_t keyLength = 0;
    bool used = false;
  };

  static uint64_t hash(std::string_view text) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (char c : text) {
      h ^= static_cast<unsigned char>(c);
      h *= 0x100000001B3ull;
    }
    return h ^ (h >> 29);
  }

  mutable std::mutex mutex_;
  std::vector<Slot> slots_;
  std::string keys_;
  std::vector<uint32_t> ids_;
  size_t entries_ = 0;
};

} // namespace fathom::tokenizer::detail
