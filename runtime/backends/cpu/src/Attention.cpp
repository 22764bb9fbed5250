// Eager HF attention, one (batch, head, query) row at a time; rows are independent, so they are
// spread over the pool and each thread keeps its score row in its own scratch slot.
#include "fathom/cpu/Attention.h"
#include "Dot.h"
#include "Elements.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace fathom::cpu {
namespace {

constexpr int64_t kMaxDim = 1024; // q/k and v lengths held on the stack

template <class T> const T* rowOf(const AttentionOperand& op, int64_t b, int64_t t, int64_t h) {
  return static_cast<const T*>(op.data) + b * op.batchStride + t * op.tokenStride +
         h * op.headStride;
}

template <class T>
void attendRow(const AttentionArgs& a, int64_t b, int64_t h, int64_t i, float* scores) {
  using detail::roundTo;
  float q[kMaxDim];
  const T* qRow = rowOf<T>(a.q, b, i, h);
  for (int64_t d = 0; d < a.qkDim; ++d)
    q[d] = detail::toFloat(qRow[d]);
  const int64_t ropeDim = a.qkDim - a.keyDim;
  const int64_t causalEnd = std::min(a.keyLen, a.queryOffset + i + 1);
  const uint8_t* valid = a.keyValid ? a.keyValid + b * a.keyValidBatchStride : nullptr;
  auto visible = [&](int64_t j) { return j < causalEnd && (!valid || valid[j]); };

  float max = -std::numeric_limits<float>::infinity();
  bool anyVisible = false;
  for (int64_t j = 0; j < causalEnd; ++j) {
    if (!visible(j))
      continue;
    float s = detail::dot(q, rowOf<T>(a.k, b, j, h), a.keyDim);
    if (ropeDim > 0)
      s += detail::dot(q + a.keyDim, rowOf<T>(a.kRope, b, j, h), ropeDim);
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
      detail::axpy(p, rowOf<T>(a.v, b, j, h), acc, a.vDim);
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
        detail::axpy(roundTo<T>(scores[j] * inverse), rowOf<T>(a.v, b, j, h), acc, a.vDim);
  }
  T* out =
      static_cast<T*>(a.out) + b * a.outBatchStride + i * a.outTokenStride + h * a.outHeadStride;
  for (int64_t d = 0; d < a.vDim; ++d)
    out[d] = detail::fromFloat<T>(acc[d]);
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
  if (a.queryOffset < 0 || a.queryOffset + a.queryLen > a.keyLen)
    fail("queries [" + std::to_string(a.queryOffset) + ", " +
         std::to_string(a.queryOffset + a.queryLen) + ") lie outside the " +
         std::to_string(a.keyLen) + " cached keys");
  if (!a.q.data || !a.k.data || !a.v.data || !a.out)
    fail("q, k, v and out must not be null");
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
