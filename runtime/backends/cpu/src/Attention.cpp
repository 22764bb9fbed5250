// Eager HF attention, one (batch, head, query) row at a time; rows are independent, so they are
// spread over the pool and each thread keeps its score row in its own scratch slot.
#include "fathom/cpu/Attention.h"
#include "Dot.h"
#include "Elements.h"
#include "RopeRow.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
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

template <class T>
void attendRow(const AttentionArgs& a, int64_t b, int64_t h, int64_t i, float* scores) {
  using detail::roundTo;
  float q[kMaxDim];
  const int64_t ropeDim = a.qkDim - a.keyDim;
  const DType qType = a.qType.value_or(a.type), qRopeType = a.qRopeType.value_or(qType);
  const int64_t inQ = a.qRope.data ? a.keyDim : a.qkDim;
  loadRow(qType, bytesOf(a.q, qType, b, i, h), inQ, q);
  if (a.qRope.data) {
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
  const int64_t kh = h / group(a.heads, a.kHeads), rh = h / group(a.heads, a.kRopeHeads);
  const int64_t vh = h / group(a.heads, a.vHeads);
  const int64_t queryAt = queryOffsetOf(a, b) + i;
  const int64_t causalEnd = a.causal ? std::min(a.keyLen, queryAt + 1) : a.keyLen;
  const uint8_t* valid = a.keyValid ? a.keyValid + b * a.keyValidBatchStride : nullptr;
  auto visible = [&](int64_t j) { return j < causalEnd && (!valid || valid[j]); };

  float max = -std::numeric_limits<float>::infinity();
  bool anyVisible = false;
  for (int64_t j = 0; j < causalEnd; ++j) {
    if (!visible(j))
      continue;
    float s = detail::dot(q, rowOf<T>(a.k, b, j, kh), a.keyDim);
    if (ropeDim > 0)
      s += detail::dot(q + a.keyDim, rowOf<T>(a.kRope, b, j, rh), ropeDim);
    s = roundTo<T>(roundTo<T>(s) * a.scale); // matmul output, then `* scaling`
    scores[j] = s;
    max = std::max(max, s);
    anyVisible = true;
  }

  float acc[kMaxDim] = {};
  if (!anyVisible) {
    // Every score is finfo.min: softmax is uniform over the whole row.
    float p = roundTo<T>(1.0f / float(a.keyLen));
    for (int64_t j = 0; j < a.keyLen; ++j)
      detail::axpy(p, rowOf<T>(a.v, b, j, vh), acc, a.vDim);
  } else {
    double sum = 0;
    for (int64_t j = 0; j < causalEnd; ++j) {
      if (!visible(j))
        continue;
      scores[j] = std::exp(scores[j] - max);
      sum += scores[j];
    }
    float inverse = 1.0f / float(sum);
    for (int64_t j = 0; j < causalEnd; ++j)
      if (visible(j))
        detail::axpy(roundTo<T>(scores[j] * inverse), rowOf<T>(a.v, b, j, vh), acc, a.vDim);
  }
  const DType outType = a.outType.value_or(a.type);
  std::byte* out = static_cast<std::byte*>(a.out) +
                   (b * a.outBatchStride + i * a.outTokenStride + h * a.outHeadStride) *
                       int64_t(dtypeSize(outType));
  if (outType == DType::F32) {
    std::memcpy(out, acc, size_t(a.vDim) * 4);
    return;
  }
  auto* bits = reinterpret_cast<uint16_t*>(out);
  for (int64_t d = 0; d < a.vDim; ++d)
    bits[d] = floatToBf16(acc[d]);
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
  return size_t(pool.numThreads()) * detail::ScratchCarver::alignUp(size_t(keyLen) * 4);
}

void attention(ThreadPool& pool, const AttentionArgs& a, Scratch scratch) {
  check(a);
  const int numThreads = pool.numThreads();
  const size_t slotFloats = detail::ScratchCarver::alignUp(size_t(a.keyLen) * 4) / 4;
  float* slots =
      detail::ScratchCarver(scratch, "attention").take<float>(slotFloats * size_t(numThreads));
  detail::withActivationType(a.type, "attention", "q", [&](auto tag) {
    using T = decltype(tag);
    const int64_t rows = a.batch * a.heads * a.queryLen;
    pool.parallelFor(0, rows, 1, [&](int64_t first, int64_t last) {
      int thread = ThreadPool::currentThreadIndex();
      if (thread >= numThreads)
        throw Error("attention: called from inside another pool's parallel region");
      float* scores = slots + size_t(thread) * slotFloats;
      for (int64_t row = first; row < last; ++row) {
        int64_t i = row % a.queryLen;
        int64_t h = (row / a.queryLen) % a.heads;
        int64_t b = row / (a.queryLen * a.heads);
        attendRow<T>(a, b, h, i, scores);
      }
    });
  });
}

} // namespace fathom::cpu
