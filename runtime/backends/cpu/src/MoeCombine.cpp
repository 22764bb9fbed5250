// Grouping (token, slot) pairs by expert and summing the weighted expert outputs back per token,
// in the order and with the roundings of transformers' experts implementations.
#include "Elements.h"
#include "Simd.h"
#include "fathom/cpu/Moe.h"

#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

namespace fathom::cpu {
namespace {

constexpr int64_t kMaxTopK = 64;

// acc = round(acc + round(y * weight)) over one row, bf16 (EagerExpertLoop).
FATHOM_CPU_CLONES
void indexAddBf16(const uint16_t* y, float weight, float* acc, int64_t n) {
  using namespace detail;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    Vec16 weighted = roundVecToBf16(loadBf16Vec(y + i) * weight);
    storeVec(acc + i, roundVecToBf16(loadVec(acc + i) + weighted));
  }
  for (; i < n; ++i)
    acc[i] = roundToBf16(acc[i] + roundToBf16(bf16ToFloat(y[i]) * weight));
}

// acc += y * weight over one row (fp32 product, fp32 sum).
template <class T> void accumulate(const T* y, float weight, float* acc, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    acc[i] += detail::toFloat(y[i]) * weight;
}

} // namespace

void moeDispatch(const int32_t* expertIndex, int64_t tokens, int64_t topK, int64_t numExperts,
                 int32_t* expertOffsets, int32_t* rowToken, int32_t* slotRow, int64_t firstExpert,
                 int64_t totalExperts) {
  const int64_t pairs = tokens * topK;
  const bool shard = firstExpert >= 0;
  const int64_t first = shard ? firstExpert : 0;
  const int64_t total = shard ? totalExperts : numExperts;
  // The local expert of pair i, or -1 for another shard's.
  auto local = [&](int64_t i) {
    const int64_t e = int64_t(expertIndex[i]) - first;
    return e >= 0 && e < numExperts ? e : int64_t(-1);
  };
  // The counts live here, not in expertOffsets, which a caller's buffers may alias with
  // rowToken or slotRow: what indexes the writes is never written through them.
  std::vector<int32_t> next(size_t(numExperts) + 1, 0);
  for (int64_t i = 0; i < pairs; ++i) {
    if (expertIndex[i] < 0 || expertIndex[i] >= total)
      throw Error("moeDispatch: expert id " + std::to_string(expertIndex[i]) + " of token " +
                  std::to_string(i / topK) + " is outside [0, " + std::to_string(total) + ")");
    if (int64_t e = local(i); e >= 0)
      ++next[size_t(e) + 1];
  }
  for (int64_t e = 0; e < numExperts; ++e)
    next[size_t(e) + 1] += next[size_t(e)];
  std::copy(next.begin(), next.end(), expertOffsets);
  // Counting sort: next[e] serves as expert e's next free row.
  for (int64_t i = 0; i < pairs; ++i) {
    const int64_t e = local(i);
    if (e < 0) {
      slotRow[i] = -1;
      continue;
    }
    int32_t row = next[size_t(e)]++;
    rowToken[row] = int32_t(i / topK);
    slotRow[i] = row;
  }
  for (int64_t row = next[size_t(numExperts)]; row < pairs; ++row)
    rowToken[row] = 0;
}

void moeCombine(ThreadPool& pool, MoeCombineOrder order, DType type, const void* expertOut,
                int64_t ldExpertOut, const int32_t* slotRow, const int32_t* expertIndex,
                const float* expertWeight, int64_t tokens, int64_t topK, int64_t hidden, void* out,
                int64_t ldOut) {
  if (topK <= 0 || topK > kMaxTopK)
    throw Error("moeCombine: topK " + std::to_string(topK) + " must be in [1, " +
                std::to_string(kMaxTopK) + "]");
  detail::withActivationType(type, "moeCombine", "expertOut", [&](auto tag) {
    using T = decltype(tag);
    pool.parallelFor(0, tokens, 1, [&](int64_t first, int64_t last) {
      constexpr int64_t kChunk = 1024; // hidden columns accumulated at a time, on the stack
      alignas(64) float acc[kChunk];
      int64_t slots[kMaxTopK];
      for (int64_t t = first; t < last; ++t) {
        for (int64_t k = 0; k < topK; ++k)
          slots[k] = k;
        if (order == MoeCombineOrder::EagerExpertLoop)
          std::sort(slots, slots + topK, [&](int64_t a, int64_t b) {
            return expertIndex[t * topK + a] < expertIndex[t * topK + b];
          });
        for (int64_t c0 = 0; c0 < hidden; c0 += kChunk) {
          const int64_t width = std::min(kChunk, hidden - c0);
          std::fill(acc, acc + width, 0.0f);
          for (int64_t s = 0; s < topK; ++s) {
            const int64_t slot = t * topK + slots[s];
            if (slotRow[slot] < 0) // routed to another rank's experts
              continue;
            const T* y = static_cast<const T*>(expertOut) + slotRow[slot] * ldExpertOut + c0;
            const float weight = expertWeight[slot];
            if constexpr (std::is_same_v<T, uint16_t>) {
              if (order == MoeCombineOrder::EagerExpertLoop) {
                indexAddBf16(y, weight, acc, width);
                continue;
              }
            }
            accumulate(y, weight, acc, width);
          }
          T* dst = static_cast<T*>(out) + t * ldOut + c0;
          for (int64_t i = 0; i < width; ++i)
            dst[i] = detail::fromFloat<T>(acc[i]);
        }
      }
    });
  });
}

} // namespace fathom::cpu
