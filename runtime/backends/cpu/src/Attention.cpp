// Eager HF attention, one (batch, query, block of heads) at a time; tasks are independent, so
// they are spread over the pool and each thread keeps its score rows in its own scratch slot.
// Heads that share a key head (multi-query attention: MLA's absorbed decode) form one block that
// reads each cached row once instead of once per head.
#include "fathom/cpu/Attention.h"
#include "Dot.h"
#include "Elements.h"
#include "RopeRow.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>

namespace fathom::cpu {
namespace {

constexpr int64_t kMaxDim = 1024; // q/k and v lengths held on the stack

template <class T> const T* rowOf(const AttentionOperand& op, int64_t b, int64_t t, int64_t h) {
  return static_cast<const T*>(op.data) + b * op.batchStride + t * op.tokenStride +
         h * op.headStride;
}

// Byte address of row (b, t), head h of an operand of `type`.
const std::byte* bytesOf(const AttentionOperand& op, DType type, int64_t b, int64_t t, int64_t h) {
  return static_cast<const std::byte*>(op.data) +
         (b * op.batchStride + t * op.tokenStride + h * op.headStride) * int64_t(dtypeSize(type));
}

// n elements of an F32 or BF16 row, widened.
void loadRow(DType type, const std::byte* row, int64_t n, float* out) {
  if (type == DType::F32) {
    std::memcpy(out, row, size_t(n) * 4);
    return;
  }
  const auto* bits = reinterpret_cast<const uint16_t*>(row);
  for (int64_t d = 0; d < n; ++d)
    out[d] = bf16ToFloat(bits[d]);
}

int64_t group(int64_t heads, int64_t operandHeads) {
  return operandHeads > 0 ? heads / operandHeads : 1;
}

int64_t queryOffsetOf(const AttentionArgs& a, int64_t b) {
  return a.queryStart ? a.queryStart[b] : a.queryOffset;
}

// Query i of head h, widened (and its rope part rotated) into q[qkDim].
void loadQuery(const AttentionArgs& a, int64_t b, int64_t h, int64_t i, float* q) {
  const int64_t ropeDim = a.qkDim - a.keyDim;
  const DType qType = a.qType.value_or(a.type), qRopeType = a.qRopeType.value_or(qType);
  const int64_t inQ = a.qRope.data ? a.keyDim : a.qkDim;
  loadRow(qType, bytesOf(a.q, qType, b, i, h), inQ, q);
  if (!a.qRope.data)
    return;
  const std::byte* ropeRow = bytesOf(a.qRope, qRopeType, b, i, h);
  alignas(64) std::byte rotated[kMaxDim * 4];
  if (a.qRopeRotation) {
    int64_t position = a.positions[b * a.positionBatchStride + i];
    if (qRopeType == DType::F32)
      detail::rotateRow(*a.qRopeRotation, position, reinterpret_cast<const float*>(ropeRow),
                        reinterpret_cast<float*>(rotated));
    else
      detail::rotateRow(*a.qRopeRotation, position, reinterpret_cast<const uint16_t*>(ropeRow),
                        reinterpret_cast<uint16_t*>(rotated));
    ropeRow = rotated;
  }
  loadRow(qRopeType, ropeRow, ropeDim, q + a.keyDim);
}

// Heads that read the same key, rope-key and value heads can share one pass over the cache.
int64_t sharedHeadGroup(const AttentionArgs& a) {
  return std::gcd(std::gcd(group(a.heads, a.kHeads), group(a.heads, a.kRopeHeads)),
                  group(a.heads, a.vHeads));
}

// How many heads one task attends together: as many as share their keys (up to
// kMaxHeadBlock), unless that leaves fewer tasks than threads.
int64_t headBlockOf(const AttentionArgs& a, int numThreads) {
  const int64_t shared = sharedHeadGroup(a), queries = a.batch * a.queryLen;
  for (int64_t block = std::min<int64_t>(detail::kMaxHeadBlock, shared); block > 1; --block)
    if (shared % block == 0 && queries * (a.heads / block) >= numThreads)
      return block;
  return 1;
}

// Per-thread scratch: the block's score rows, queries and fp32 accumulators.
struct BlockScratch {
  float* scores[detail::kMaxHeadBlock];
  float* q[detail::kMaxHeadBlock];
  float* acc[detail::kMaxHeadBlock];
};

size_t scoreRowFloats(int64_t keyLen) {
  return detail::ScratchCarver::alignUp(size_t(keyLen) * 4) / 4;
}

size_t slotFloats(int64_t keyLen) {
  return size_t(detail::kMaxHeadBlock) * (scoreRowFloats(keyLen) + 2 * size_t(kMaxDim));
}

BlockScratch carveSlot(float* slot, int64_t keyLen) {
  BlockScratch s;
  const size_t rowFloats = scoreRowFloats(keyLen);
  for (int h = 0; h < detail::kMaxHeadBlock; ++h) {
    s.scores[h] = slot + size_t(h) * rowFloats;
    s.q[h] = slot + size_t(detail::kMaxHeadBlock) * rowFloats + size_t(h) * kMaxDim;
    s.acc[h] = s.q[h] + size_t(detail::kMaxHeadBlock) * kMaxDim;
  }
  return s;
}

// Query i of heads [h0, h0 + count), which share their key, rope-key and value heads: every
// cached row is read once for all of them, and each head's arithmetic is the one-head order.
template <class T>
void attendHeads(const AttentionArgs& a, int64_t b, int64_t h0, int count, int64_t i,
                 BlockScratch& s) {
  using detail::roundTo;
  const int64_t ropeDim = a.qkDim - a.keyDim;
  for (int h = 0; h < count; ++h)
    loadQuery(a, b, h0 + h, i, s.q[h]);
  const float* qRope[detail::kMaxHeadBlock];
  for (int h = 0; h < count; ++h)
    qRope[h] = s.q[h] + a.keyDim;
  const int64_t kh = h0 / group(a.heads, a.kHeads), rh = h0 / group(a.heads, a.kRopeHeads);
  const int64_t vh = h0 / group(a.heads, a.vHeads);
  const int64_t queryAt = queryOffsetOf(a, b) + i;
  const int64_t causalEnd = a.causal ? std::min(a.keyLen, queryAt + 1) : a.keyLen;
  const uint8_t* valid = a.keyValid ? a.keyValid + b * a.keyValidBatchStride : nullptr;
  auto visible = [&](int64_t j) { return j < causalEnd && (!valid || valid[j]); };

  float max[detail::kMaxHeadBlock], dots[detail::kMaxHeadBlock], ropeDots[detail::kMaxHeadBlock];
  std::fill_n(max, count, -std::numeric_limits<float>::infinity());
  bool anyVisible = false;
  for (int64_t j = 0; j < causalEnd; ++j) {
    if (!visible(j))
      continue;
    detail::dotHeads(s.q, count, rowOf<T>(a.k, b, j, kh), a.keyDim, dots);
    if (ropeDim > 0)
      detail::dotHeads(qRope, count, rowOf<T>(a.kRope, b, j, rh), ropeDim, ropeDots);
    for (int h = 0; h < count; ++h) {
      float score = ropeDim > 0 ? dots[h] + ropeDots[h] : dots[h];
      score = roundTo<T>(roundTo<T>(score) * a.scale); // matmul output, then `* scaling`
      s.scores[h][j] = score;
      max[h] = std::max(max[h], score);
    }
    anyVisible = true;
  }

  for (int h = 0; h < count; ++h)
    std::fill_n(s.acc[h], a.vDim, 0.0f);
  float weights[detail::kMaxHeadBlock];
  if (!anyVisible) {
    // Every score is finfo.min: softmax is uniform over the whole row.
    std::fill_n(weights, count, roundTo<T>(1.0f / float(a.keyLen)));
    for (int64_t j = 0; j < a.keyLen; ++j)
      detail::axpyHeads(weights, count, rowOf<T>(a.v, b, j, vh), s.acc, a.vDim);
  } else {
    float inverse[detail::kMaxHeadBlock];
    for (int h = 0; h < count; ++h) {
      double sum = 0;
      for (int64_t j = 0; j < causalEnd; ++j) {
        if (!visible(j))
          continue;
        s.scores[h][j] = std::exp(s.scores[h][j] - max[h]);
        sum += s.scores[h][j];
      }
      inverse[h] = 1.0f / float(sum);
    }
    for (int64_t j = 0; j < causalEnd; ++j) {
      if (!visible(j))
        continue;
      for (int h = 0; h < count; ++h)
        weights[h] = roundTo<T>(s.scores[h][j] * inverse[h]);
      detail::axpyHeads(weights, count, rowOf<T>(a.v, b, j, vh), s.acc, a.vDim);
    }
  }
  const DType outType = a.outType.value_or(a.type);
  for (int h = 0; h < count; ++h) {
    std::byte* out = static_cast<std::byte*>(a.out) +
                     (b * a.outBatchStride + i * a.outTokenStride + (h0 + h) * a.outHeadStride) *
                         int64_t(dtypeSize(outType));
    if (outType == DType::F32) {
      std::memcpy(out, s.acc[h], size_t(a.vDim) * 4);
      continue;
    }
    auto* bits = reinterpret_cast<uint16_t*>(out);
    for (int64_t d = 0; d < a.vDim; ++d)
      bits[d] = floatToBf16(s.acc[h][d]);
  }
}

void check(const AttentionArgs& a) {
  auto fail = [](const std::string& message) { throw Error("attention: " + message); };
  if (a.batch < 0 || a.heads <= 0 || a.queryLen < 0 || a.keyLen <= 0)
    fail("batch, heads, queryLen and keyLen must be positive");
  if (a.qkDim <= 0 || a.qkDim > kMaxDim || a.vDim <= 0 || a.vDim > kMaxDim)
    fail("qkDim " + std::to_string(a.qkDim) + " and vDim " + std::to_string(a.vDim) +
         " must be in [1, " + std::to_string(kMaxDim) + "]");
  if (a.keyDim <= 0 || a.keyDim > a.qkDim || (a.keyDim < a.qkDim && !a.kRope.data))
    fail("keyDim " + std::to_string(a.keyDim) + " must cover qkDim " + std::to_string(a.qkDim) +
         " unless kRope holds the rest");
  for (int64_t b = 0; b < (a.queryStart ? a.batch : std::min<int64_t>(a.batch, 1)); ++b) {
    int64_t offset = queryOffsetOf(a, b);
    if (offset < 0 || offset + a.queryLen > a.keyLen)
      fail("queries [" + std::to_string(offset) + ", " + std::to_string(offset + a.queryLen) +
           ") of sequence " + std::to_string(b) + " lie outside the " + std::to_string(a.keyLen) +
           " cached keys");
  }
  for (int64_t operandHeads : {a.kHeads, a.kRopeHeads, a.vHeads})
    if (operandHeads < 0 || (operandHeads > 0 && a.heads % operandHeads != 0))
      fail("key/value head counts must divide the " + std::to_string(a.heads) + " query heads");
  if (a.qRopeRotation) {
    if (!a.qRope.data || !a.positions)
      fail("a query rotation needs qRope and positions");
    detail::checkRotation(*a.qRopeRotation, a.qRopeType.value_or(a.qType.value_or(a.type)),
                          "attention");
    if (a.qRopeRotation->dim != a.qkDim - a.keyDim)
      fail("the query rotation's dim must be the rope part qkDim - keyDim");
  }
  if (!a.q.data || !a.k.data || !a.v.data || !a.out)
    fail("q, k, v and out must not be null");
  for (std::optional<DType> type : {a.qType, a.qRopeType, a.outType})
    if (type && *type != DType::F32 && *type != DType::BF16)
      fail("query and output dtypes must be F32 or BF16");
}

} // namespace

size_t attentionScratchBytes(int64_t keyLen, const ThreadPool& pool) {
  return size_t(pool.numThreads()) * slotFloats(keyLen) * 4;
}

void attention(ThreadPool& pool, const AttentionArgs& a, Scratch scratch) {
  check(a);
  const int numThreads = pool.numThreads();
  const size_t perThread = slotFloats(a.keyLen);
  float* slots =
      detail::ScratchCarver(scratch, "attention").take<float>(perThread * size_t(numThreads));
  const int64_t block = headBlockOf(a, numThreads), headBlocks = a.heads / block;
  detail::withActivationType(a.type, "attention", "q", [&](auto tag) {
    using T = decltype(tag);
    const int64_t tasks = a.batch * headBlocks * a.queryLen;
    pool.parallelFor(0, tasks, 1, [&](int64_t first, int64_t last) {
      int thread = ThreadPool::currentThreadIndex();
      if (thread >= numThreads)
        throw Error("attention: called from inside another pool's parallel region");
      BlockScratch slot = carveSlot(slots + size_t(thread) * perThread, a.keyLen);
      for (int64_t task = first; task < last; ++task) {
        int64_t i = task % a.queryLen;
        int64_t hb = (task / a.queryLen) % headBlocks;
        int64_t b = task / (a.queryLen * headBlocks);
        attendHeads<T>(a, b, hb * block, int(block), i, slot);
      }
    });
  });
}

} // namespace fathom::cpu
