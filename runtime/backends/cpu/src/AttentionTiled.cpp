// Attention as HF's eager code writes it, matmul by matmul: per head, S = Q K^T through the
// GEMM (fp32 accumulation, rounded to the dtype as torch.matmul's output is), S * scale rounded
// again, the softmax of each row in fp32 rounded to the dtype, then P V through the GEMM,
// rounded once. The eager path makes the same roundings one query row at a time, which suits
// decode; here a block of rows meets each key row inside a GEMM tile, which is what a long
// prefill or a 576 x 576 SigLIP block needs. Only the summation order inside each dot product
// differs between the two (as between any two BLAS).
#include "AttentionTiled.h"
#include "AttentionSoftmax.h"
#include "Elements.h"
#include "LinearKernels.h"
#include "fathom/cpu/Linear.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace fathom::cpu::detail {
namespace {

// Query rows per block: its scores and probabilities take 2 x rows x keyLen elements.
constexpr int64_t kBlockRows = 128;
// Fewer queries go through the eager path (decode, short prompts).
constexpr int64_t kMinQueries = 32;
// Past this many keys the per-head copies and score blocks outgrow what a plan should reserve.
constexpr int64_t kMaxKeys = 16384;

int64_t headGroup(int64_t heads, int64_t operandHeads) {
  return operandHeads > 0 ? heads / operandHeads : 1;
}

struct Pieces {
  std::byte* keys;   // [keyLen, qkDim] of the key head
  std::byte* values; // [vDim, keyLen]: the value head transposed, a GEMM weight
  std::byte* scores; // [kBlockRows, keyLen]
  std::byte* probs;  // [kBlockRows, keyLen]
  float* rows;       // [threads, keyLen]: each thread's fp32 score row
  Scratch gemm;
};

size_t aligned(size_t bytes) {
  return ScratchCarver::alignUp(bytes);
}

size_t piecesBytes(const AttentionArgs& a, int threads) {
  const size_t size = dtypeSize(a.type), keys = size_t(a.keyLen);
  return aligned(keys * size_t(a.qkDim) * size) + aligned(size_t(a.vDim) * keys * size) +
         2 * aligned(size_t(kBlockRows) * keys * size) + aligned(size_t(threads) * keys * 4);
}

Pieces carve(const AttentionArgs& a, int threads, Scratch scratch) {
  ScratchCarver carver(scratch, "attention");
  const size_t size = dtypeSize(a.type), keys = size_t(a.keyLen);
  Pieces p;
  p.keys = carver.take<std::byte>(keys * size_t(a.qkDim) * size);
  p.values = carver.take<std::byte>(size_t(a.vDim) * keys * size);
  p.scores = carver.take<std::byte>(size_t(kBlockRows) * keys * size);
  p.probs = carver.take<std::byte>(size_t(kBlockRows) * keys * size);
  p.rows = carver.take<float>(size_t(threads) * keys);
  p.gemm = scratch.subspan(piecesBytes(a, threads));
  return p;
}

template <class T>
void gatherHead(ThreadPool& pool, const AttentionArgs& a, int64_t b, int64_t kh, int64_t vh,
                bool keys, bool values, const Pieces& p) {
  pool.parallelFor(0, a.keyLen, 256, [&](int64_t first, int64_t last) {
    T* k = reinterpret_cast<T*>(p.keys);
    T* vt = reinterpret_cast<T*>(p.values);
    for (int64_t j = first; j < last; ++j) {
      if (keys)
        std::memcpy(k + j * a.qkDim, static_cast<const T*>(a.k.data) + a.k.offset(b, j, kh),
                    size_t(a.qkDim) * sizeof(T));
      if (values) {
        const T* row = static_cast<const T*>(a.v.data) + a.v.offset(b, j, vh);
        for (int64_t d = 0; d < a.vDim; ++d)
          vt[d * a.keyLen + j] = row[d];
      }
    }
  });
}

// Rows [0, rows) of the block starting at query i0: probabilities over `width` keys from the
// scores over `scored` keys (width >= scored; keys past `scored` get 0). A row that sees no key
// at all gets HF's uniform row over every key (the caller then makes width keyLen).
template <class T>
void blockProbabilities(ThreadPool& pool, const AttentionArgs& a, int64_t b, int64_t i0,
                        int64_t rows, int64_t scored, int64_t width, const Pieces& p) {
  const uint8_t* valid = a.keyValid ? a.keyValid + b * a.keyValidBatchStride : nullptr;
  const int64_t offset = a.queryStart ? a.queryStart[b] : a.queryOffset;
  pool.parallelFor(0, rows, 8, [&](int64_t first, int64_t last) {
    float* row = p.rows + size_t(ThreadPool::currentThreadIndex()) * size_t(a.keyLen);
    for (int64_t r = first; r < last; ++r) {
      const T* s = reinterpret_cast<const T*>(p.scores) + r * scored;
      T* out = reinterpret_cast<T*>(p.probs) + r * width;
      const int64_t end = a.causal ? std::min(a.keyLen, offset + i0 + r + 1) : a.keyLen;
      float max = -std::numeric_limits<float>::infinity();
      bool any = false;
      for (int64_t j = 0; j < end; ++j) {
        if (valid && !valid[j])
          continue;
        row[j] = roundTo<T>(toFloat(s[j]) * a.scale); // matmul output, then `* scaling`
        max = std::max(max, row[j]);
        any = true;
      }
      if (!any) {
        // Every score is finfo.min: softmax is uniform over the whole row.
        std::fill_n(out, width, fromFloat<T>(1.0f / float(a.keyLen)));
        continue;
      }
      const float inverse = expScoresAndInverseSum(row, end, valid, max);
      for (int64_t j = 0; j < end; ++j)
        out[j] = fromFloat<T>((valid && !valid[j]) ? 0.0f : row[j] * inverse);
      std::fill(out + end, out + width, fromFloat<T>(0.0f));
    }
  });
}

template <class T> void attendTiled(ThreadPool& pool, const AttentionArgs& a, const Pieces& p) {
  const DType outType = a.outType.value_or(a.type);
  for (int64_t b = 0; b < a.batch; ++b) {
    const uint8_t* valid = a.keyValid ? a.keyValid + b * a.keyValidBatchStride : nullptr;
    const int64_t firstValid =
        valid ? std::find_if(valid, valid + a.keyLen, [](uint8_t v) { return v != 0; }) - valid : 0;
    const int64_t offset = a.queryStart ? a.queryStart[b] : a.queryOffset;
    int64_t heldK = -1, heldV = -1;
    for (int64_t h = 0; h < a.heads; ++h) {
      const int64_t kh = h / headGroup(a.heads, a.kHeads), vh = h / headGroup(a.heads, a.vHeads);
      if (kh != heldK || vh != heldV) {
        gatherHead<T>(pool, a, b, kh, vh, kh != heldK, vh != heldV, p);
        heldK = kh, heldV = vh;
      }
      for (int64_t i0 = 0; i0 < a.queryLen; i0 += kBlockRows) {
        const int64_t rows = std::min(kBlockRows, a.queryLen - i0);
        // A causal block sees keys [0, offset + i0 + rows). Rows whose window holds no valid
        // key (left padding; a sequence of padding only) take every key, so the block's
        // probabilities then span them all; the window only grows down the block.
        const int64_t scored = a.causal ? std::min(a.keyLen, offset + i0 + rows) : a.keyLen;
        const int64_t firstEnd = a.causal ? std::min(a.keyLen, offset + i0 + 1) : a.keyLen;
        const int64_t width = firstEnd <= firstValid ? a.keyLen : scored;
        LinearArgs scores;
        scores.rows = rows;
        scores.inFeatures = a.qkDim;
        scores.outFeatures = scored;
        scores.xType = scores.wType = scores.yType = a.type;
        scores.x = static_cast<const T*>(a.q.data) + a.q.offset(b, i0, h);
        scores.ldx = a.q.tokenStride;
        scores.w = p.keys;
        scores.y = p.scores;
        linear(scores, pool, p.gemm);
        blockProbabilities<T>(pool, a, b, i0, rows, scored, width, p);
        LinearArgs mix;
        mix.rows = rows;
        mix.inFeatures = width;
        mix.outFeatures = a.vDim;
        mix.xType = mix.wType = a.type;
        mix.x = p.probs;
        mix.w = p.values;
        mix.ldw = a.keyLen;
        mix.yType = outType;
        mix.y = static_cast<std::byte*>(a.out) +
                (b * a.outBatchStride + i0 * a.outTokenStride + h * a.outHeadStride) *
                    int64_t(dtypeSize(outType));
        mix.ldy = a.outTokenStride;
        linear(mix, pool, p.gemm);
      }
    }
  }
}

} // namespace

bool tiledAttentionApplies(const AttentionArgs& a) {
  return a.queryLen >= kMinQueries && a.keyLen <= kMaxKeys && a.keyDim == a.qkDim &&
         !a.qRope.data && !a.qRopeRotation && a.qType.value_or(a.type) == a.type && !a.q.blockTable;
}

size_t tiledAttentionScratchBytes(const AttentionArgs& a, const ThreadPool& pool) {
  if (!tiledAttentionApplies(a))
    return 0;
  return piecesBytes(a, pool.numThreads()) + linearTiledScratchBytes(pool.numThreads());
}

void attentionTiled(ThreadPool& pool, const AttentionArgs& a, Scratch scratch) {
  const Pieces pieces = carve(a, pool.numThreads(), scratch);
  withActivationType(a.type, "attention", "q",
                     [&](auto tag) { attendTiled<decltype(tag)>(pool, a, pieces); });
}

} // namespace fathom::cpu::detail
