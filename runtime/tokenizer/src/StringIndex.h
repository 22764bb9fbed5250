#pragma once
// A flat open-addressing index from strings to ids, where the strings themselves live in a
// caller-owned table (id -> string). Loading DeepSeek-V3 does ~400k vocabulary lookups (three per
// merge); std::unordered_map's per-node allocations and pointer chasing made that the largest part
// of load time, and its keys duplicated the 128k token strings.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::tokenizer::detail {

class StringIndex {
public:
  // FNV-1a: tokens are short, and the two-part form below must hash like the joined string.
  static uint64_t hash(std::string_view text, uint64_t seed = 0xCBF29CE484222325ull) {
    for (char c : text) {
      seed ^= static_cast<unsigned char>(c);
      seed *= 0x100000001B3ull;
    }
    return seed;
  }

  // Indexes strings[id] for every id with present[id]. Returns the first id whose string repeats
  // an earlier one, or -1.
  int64_t build(const std::vector<std::string>& strings, const std::vector<bool>& present) {
    strings_ = &strings;
    size_t count = 0;
    for (bool flag : present)
      count += flag;
    size_t capacity = 16;
    while (capacity < count * 2)
      capacity *= 2;
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    for (uint32_t id = 0; id < strings.size(); ++id) {
      if (!present[id])
        continue;
      uint64_t h = hash(strings[id]);
      size_t index = h & mask_;
      while (slots_[index].idPlusOne != 0) {
        if (slots_[index].hash == h && strings[slots_[index].idPlusOne - 1] == strings[id])
          return id;
        index = (index + 1) & mask_;
      }
      slots_[index] = Slot{h, id + 1};
    }
    return -1;
  }

  // The id of `text`, or -1.
  int64_t find(std::string_view text) const { return findJoined(text, {}); }

  // The id of the concatenation left + right, without building it.
  int64_t findJoined(std::string_view left, std::string_view right) const {
    if (slots_.empty())
      return -1;
    uint64_t h = hash(right, hash(left));
    size_t index = h & mask_;
    while (slots_[index].idPlusOne != 0) {
      if (slots_[index].hash == h) {
        const std::string& candidate = (*strings_)[slots_[index].idPlusOne - 1];
        if (candidate.size() == left.size() + right.size() && candidate.starts_with(left) &&
            candidate.ends_with(right))
          return slots_[index].idPlusOne - 1;
      }
      index = (index + 1) & mask_;
    }
    return -1;
  }

  // Re-points the index at the same strings after its owner moved them.
  void rebind(const std::vector<std::string>& strings) { strings_ = &strings; }

private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t idPlusOne = 0; // 0 marks an empty slot
  };
  const std::vector<std::string>* strings_ = nullptr;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

} // namespace fathom::tokenizer::detail
