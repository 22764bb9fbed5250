// Eager HF attention, one query row at a time (decode, short prompts; AttentionTiled.cpp takes
// long ones). A task is a block of up to kMaxLanes (head, query) lanes of one sequence
// that read the same cached rows: heads that share a key head (multi-query attention: MLA's
// absorbed decode) and consecutive queries (prefill), so each row is read once per task rather
// than once per lane. Tasks are independent and spread over the pool; each thread keeps its
// lanes' score rows in its own scratch slot.
#include "fathom/cpu/Attention.h"
#include "AttentionSoftmax.h"
#include "AttentionTiled.h"
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
  return static_cast<const T*>(op.data) + op.offset(b, t, h);
}

// Byte address of row (b, t), head h of an operand of `type`.
const std::byte* bytesOf(const AttentionOperand& op, DType type, int64_t b, int64_t t, int64_t h) {
  return static_cast<const std::byte*>(op.data) + op.offset(b, t, h) * int64_t(dtypeSize(type));
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

// One task attends `heads` x `queries` lanes (at most kMaxLanes): heads that share their key
// heads, and consecutive queries of one sequence, so that every cached row a task reads serves
// all its lanes.
struct Tiling {
  int64_t heads = 1, queries = 1;
};

// The widest tiling that still gives every thread a task: heads first (decode has one query).
Tiling tilingOf(const AttentionArgs& a, int numThreads) {
  const int64_t shared = sharedHeadGroup(a);
  auto tasks = [&](int64_t heads, int64_t queries) {
    return a.batch * (a.heads / heads) * ((a.queryLen + queries - 1) / queries);
  };
  Tiling t;
  for (int64_t heads = std::min<int64_t>(detail::kMaxLanes, shared); heads > 1; --heads)
    if (shared % heads == 0 && tasks(heads, 1) >= numThreads) {
      t.heads = heads;
      break;
    }
  t.queries = std::max<int64_t>(1, std::min<int64_t>(detail::kMaxLanes / t.heads, a.queryLen));
  while (t.queries > 1 && tasks(t.heads, t.queries) < numThreads)
    --t.queries;
  return t;
}

// Per-thread scratch: each lane's score row, query and fp32 accumulator.
struct LaneScratch {
  float* scores[detail::kMaxLanes];
  float* q[detail::kMaxLanes];
  float* acc[detail::kMaxLanes];
};

size_t scoreRowFloats(int64_t keyLen) {
  return detail::ScratchCarver::alignUp(size_t(keyLen) * 4) / 4;
}

size_t slotFloats(int64_t keyLen) {
  return size_t(detail::kMaxLanes) * (scoreRowFloats(keyLen) + 2 * size_t(kMaxDim));
}

LaneScratch carveSlot(float* slot, int64_t keyLen) {
  LaneScratch s;
  const size_t rowFloats = scoreRowFloats(keyLen);
  for (int l = 0; l < detail::kMaxLanes; ++l) {
    s.scores[l] = slot + size_t(l) * rowFloats;
    s.q[l] = slot + size_t(detail::kMaxLanes) * rowFloats + size_t(l) * kMaxDim;
    s.acc[l] = s.q[l] + size_t(detail::kMaxLanes) * kMaxDim;
  }
  return s;
}

// Queries [i0, i0 + queries) of heads [h0, h0 + heads) of sequence b. Lanes are query-major
// (lane = q * heads + h), so with causal masking the lanes that see key j are a suffix
// [first, lanes) that only shrinks as j grows. Each lane's arithmetic is the one-lane order.
template <class T>
void attendLanes(const AttentionArgs& a, int64_t b, int64_t h0, int heads, int64_t i0, int queries,
                 LaneScratch& s) {
  using detail::roundTo;
  const int lanes = heads * queries;
  const int64_t ropeDim = a.qkDim - a.keyDim;
  int64_t end[detail::kMaxLanes]; // keys [0, end) are inside the lane's causal window
  const float* qRope[detail::kMaxLanes];
  for (int l = 0; l < lanes; ++l) {
    const int64_t i = i0 + l / heads;
    loadQuery(a, b, h0 + l % heads, i, s.q[l]);
    qRope[l] = s.q[l] + a.keyDim;
    end[l] = a.causal ? std::min(a.keyLen, queryOffsetOf(a, b) + i + 1) : a.keyLen;
  }
  const int64_t kh = h0 / group(a.heads, a.kHeads), rh = h0 / group(a.heads, a.kRopeHeads);
  const int64_t vh = h0 / group(a.heads, a.vHeads);
  const uint8_t* valid = a.keyValid ? a.keyValid + b * a.keyValidBatchStride : nullptr;
  const int64_t lastEnd = end[lanes - 1];

  float max[detail::kMaxLanes], dots[detail::kMaxLanes], ropeDots[detail::kMaxLanes];
  bool anyVisible[detail::kMaxLanes];
  std::fill_n(max, lanes, -std::numeric_limits<float>::infinity());
  std::fill_n(anyVisible, lanes, false);
  for (int64_t j = 0, first = 0; j < lastEnd; ++j) {
    while (end[first] <= j)
      ++first;
    if (valid && !valid[j])
      continue;
    const int active = lanes - int(first);
    detail::dotHeads(s.q + first, active, rowOf<T>(a.k, b, j, kh), a.keyDim, dots + first);
    if (ropeDim > 0)
      detail::dotHeads(qRope + first, active, rowOf<T>(a.kRope, b, j, rh), ropeDim,
                       ropeDots + first);
    for (int64_t l = first; l < lanes; ++l) {
      float score = ropeDim > 0 ? dots[l] + ropeDots[l] : dots[l];
      score = roundTo<T>(roundTo<T>(score) * a.scale); // matmul output, then `* scaling`
      s.scores[l][j] = score;
      max[l] = std::max(max[l], score);
      anyVisible[l] = true;
    }
  }

  float inverse[detail::kMaxLanes];
  for (int l = 0; l < lanes; ++l) {
    std::fill_n(s.acc[l], a.vDim, 0.0f);
    if (anyVisible[l])
      inverse[l] = detail::expScoresAndInverseSum(s.scores[l], end[l], valid, max[l]);
  }
  // Value rows in blocks of up to kRowBlock keys that one suffix of lanes sees: a block ends
  // where the first lane's window does. A lane that sees no key is never in the suffix of a
  // visible one (and has no inverse).
  const T* rows[detail::kRowBlock];
  float weights[detail::kMaxLanes][detail::kRowBlock];
  for (int64_t j = 0, first = 0; j < lastEnd;) {
    while (end[first] <= j)
      ++first;
    int count = 0;
    for (; j < end[first] && count < detail::kRowBlock; ++j) {
      if (valid && !valid[j])
        continue;
      rows[count] = rowOf<T>(a.v, b, j, vh);
      for (int64_t l = first; l < lanes; ++l)
        weights[l - first][count] = roundTo<T>(s.scores[l][j] * inverse[l]);
      ++count;
    }
    if (count > 0)
      detail::axpyHeadsOverRows(weights, lanes - int(first), rows, count, s.acc + first, a.vDim);
  }
  for (int l = 0; l < lanes; ++l) {
    if (anyVisible[l])
      continue;
    // Every score is finfo.min: softmax is uniform over the whole row.
    const float uniform = roundTo<T>(1.0f / float(a.keyLen));
    for (int64_t j = 0; j < a.keyLen; ++j)
      detail::axpyHeads(&uniform, 1, rowOf<T>(a.v, b, j, vh), s.acc + l, a.vDim);
  }

  const DType outType = a.outType.value_or(a.type);
  for (int l = 0; l < lanes; ++l) {
    const int64_t i = i0 + l / heads, h = h0 + l % heads;
    std::byte* out = static_cast<std::byte*>(a.out) +
                     (b * a.outBatchStride + i * a.outTokenStride + h * a.outHeadStride) *
                         int64_t(dtypeSize(outType));
    if (outType == DType::F32) {
      std::memcpy(out, s.acc[l], size_t(a.vDim) * 4);
      continue;
    }
    auto* bits = reinterpret_cast<uint16_t*>(out);
    for (int64_t d = 0; d < a.vDim; ++d)
      bits[d] = floatToBf16(s.acc[l][d]);
  }
}

} // namespace

void checkAttention(const AttentionArgs& a, bool withData) {
  auto fail = [](const std::string& message) { throw Error("attention: " + message); };
  if (a.batch < 0 || a.heads <= 0 || a.queryLen < 0 || a.keyLen <= 0)
    fail("batch, heads, queryLen and keyLen must be positive");
  if (a.qkDim <= 0 || a.qkDim > kMaxDim || a.vDim <= 0 || a.vDim > kMaxDim)
    fail("qkDim " + std::to_string(a.qkDim) + " and vDim " + std::to_string(a.vDim) +
         " must be in [1, " + std::to_string(kMaxDim) + "]");
  if (a.keyDim <= 0 || a.keyDim > a.qkDim || (a.keyDim < a.qkDim && !a.kRope.data))
    fail("keyDim " + std::to_string(a.keyDim) + " must cover qkDim " + std::to_string(a.qkDim) +
         " unless kRope holds the rest");
  const int64_t checkedStarts = !withData      ? 0
                                : a.queryStart ? a.batch
                                               : std::min<int64_t>(a.batch, 1);
  if (!a.queryStart && a.queryOffset < 0)
    fail("the " + std::to_string(a.queryLen) + " queries outnumber the " +
         std::to_string(a.keyLen) + " keys");
  for (int64_t b = 0; b < checkedStarts; ++b) {
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
    if (withData && (!a.qRope.data || !a.positions))
      fail("a query rotation needs qRope and positions");
    detail::checkRotation(*a.qRopeRotation, a.qRopeType.value_or(a.qType.value_or(a.type)),
                          "attention");
    if (a.qRopeRotation->dim != a.qkDim - a.keyDim)
      fail("the query rotation's dim must be the rope part qkDim - keyDim");
  }
  if (withData && (!a.q.data || !a.k.data || !a.v.data || !a.out))
    fail("q, k, v and out must not be null");
  for (std::optional<DType> type : {a.qType, a.qRopeType, a.outType})
    if (type && *type != DType::F32 && *type != DType::BF16)
      fail("query and output dtypes must be F32 or BF16");
  if (a.type != DType::F32 && a.type != DType::BF16)
    fail("key and value dtypes must be F32 or BF16");
}

size_t attentionScratchBytes(int64_t keyLen, const ThreadPool& pool) {
  return size_t(pool.numThreads()) * slotFloats(keyLen) * 4;
}

size_t attentionScratchBytes(const AttentionArgs& shape, const ThreadPool& pool) {
  return std::max(attentionScratchBytes(shape.keyLen, pool),
                  detail::tiledAttentionScratchBytes(shape, pool));
}

bool attentionIsTiled(const AttentionArgs& args) {
  return detail::tiledAttentionApplies(args);
}

void attention(ThreadPool& pool, const AttentionArgs& a, Scratch scratch) {
  checkAttention(a, /*withData=*/true);
  if (detail::tiledAttentionApplies(a) &&
      scratch.size() >= detail::tiledAttentionScratchBytes(a, pool)) {
    detail::attentionTiled(pool, a, scratch);
    return;
  }
  const int numThreads = pool.numThreads();
  const size_t perThread = slotFloats(a.keyLen);
  float* slots =
      detail::ScratchCarver(scratch, "attention").take<float>(perThread * size_t(numThreads));
  const Tiling tiling = tilingOf(a, numThreads);
  const int64_t headBlocks = a.heads / tiling.heads;
  const int64_t queryBlocks = (a.queryLen + tiling.queries - 1) / tiling.queries;
  detail::withActivationType(a.type, "attention", "q", [&](auto tag) {
    using T = decltype(tag);
    const int64_t tasks = a.batch * headBlocks * queryBlocks;
    pool.parallelFor(0, tasks, 1, [&](int64_t first, int64_t last) {
      int thread = ThreadPool::currentThreadIndex();
      if (thread >= numThreads)
        throw Error("attention: called from inside another pool's parallel region");
      LaneScratch slot = carveSlot(slots + size_t(thread) * perThread, a.keyLen);
      for (int64_t task = first; task < last; ++task) {
        const int64_t qb = task % queryBlocks, hb = (task / queryBlocks) % headBlocks;
        const int64_t b = task / (queryBlocks * headBlocks);
        const int64_t i0 = qb * tiling.queries;
        attendLanes<T>(a, b, hb * tiling.heads, int(tiling.heads), i0,
                       int(std::min(tiling.queries, a.queryLen - i0)), slot);
      }
    });
  });
}

} // namespace fathom::cpu
