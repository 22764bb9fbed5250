// Embedding lookup and row gather: plain copies (with dtype conversion), split over rows.
#include "Elements.h"
#include "fathom/cpu/Elementwise.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <type_traits>

namespace fathom::cpu {
namespace {

template <class In, class Out> void copyRow(const In* src, Out* dst, int64_t width) {
  if constexpr (std::is_same_v<In, Out>) {
    std::memcpy(dst, src, size_t(width) * sizeof(In));
  } else {
    for (int64_t i = 0; i < width; ++i)
      dst[i] = detail::fromFloat<Out>(detail::toFloat(src[i]));
  }
}

// Rows per chunk so that a chunk moves roughly 64 KiB.
int64_t rowGrain(int64_t width) {
  return std::max<int64_t>(1, 16384 / std::max<int64_t>(width, 1));
}

} // namespace

void embedding(ThreadPool& pool, DType tableType, const void* table, int64_t vocabSize,
               int64_t hidden, const int64_t* ids, int64_t count, DType outType, void* out,
               int64_t firstId, int64_t vocabulary) {
  if (vocabulary < 0)
    vocabulary = vocabSize;
  for (int64_t i = 0; i < count; ++i)
    if (ids[i] < 0 || ids[i] >= vocabulary)
      throw Error("embedding: token id " + std::to_string(ids[i]) + " at position " +
                  std::to_string(i) + " is outside the vocabulary [0, " +
                  std::to_string(vocabulary) + ")");
  detail::withActivationType(tableType, "embedding", "table", [&](auto tableTag) {
    using In = decltype(tableTag);
    detail::withActivationType(outType, "embedding", "out", [&](auto outTag) {
      using Out = decltype(outTag);
      pool.parallelFor(0, count, rowGrain(hidden), [&](int64_t first, int64_t last) {
        for (int64_t i = first; i < last; ++i) {
          Out* row = static_cast<Out*>(out) + i * hidden;
          const int64_t local = ids[i] - firstId;
          if (local < 0 || local >= vocabSize)
            std::fill(row, row + hidden, Out(0)); // another shard's id (0 is +0.0 in bf16 too)
          else
            copyRow(static_cast<const In*>(table) + local * hidden, row, hidden);
        }
      });
    });
  });
}

void gatherRows(ThreadPool& pool, DType type, const void* x, int64_t ldx, const int32_t* rowIndex,
                int64_t count, int64_t width, void* out, int64_t ldOut) {
  size_t elementSize = dtypeSize(type);
  pool.parallelFor(0, count, rowGrain(width), [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i)
      std::memcpy(static_cast<std::byte*>(out) + size_t(i * ldOut) * elementSize,
                  static_cast<const std::byte*>(x) + size_t(rowIndex[i] * ldx) * elementSize,
                  size_t(width) * elementSize);
  });
}

} // namespace fathom::cpu
