#pragma once
// Multi-head attention with HF's eager arithmetic (eager_attention_forward), over
// strided Q/K/V so the executor can point it at projection outputs and a KV cache directly.
//
// Per (batch b, head h, query i), with the query at cache index queryOffset + i:
//   s_j = dot(q, k_j) rounded to the dtype, then s_j * float(scale) rounded again  (bf16: two
//         roundings, as matmul then `* scaling`; fp32: plain);
//   key j is visible iff j <= queryOffset + i and keyValid[b][j] (the padding mask);
//   p = softmax over visible keys in fp32 (torch's order), rounded to the dtype;
//   out = sum_j p_j v_j accumulated in fp32, rounded once.
// Masked keys get exactly zero weight, as HF's finfo.min mask does. A query that sees no key
// at all (a left-padding position) gets HF's result for an all-min row: uniform weights over
// all keyLen keys.
//
// Keys may come in two pieces, [k (keyDim) | kRope (qkDim - keyDim)], so MLA's per-head k_nope
// and its single shared rope key (head stride 0) need no concatenated copy; the dot product
// spans both in fp32 before its one rounding, as HF's matmul over the concatenation does.
// Queries likewise: q holds the first keyDim elements and qRope, when given, the rest (else q
// holds all qkDim). qRopeRotation rotates qRope on load, exactly as applyRope would have.
//
// Key and value heads serve groups of query heads: query head h reads key head
// h / (heads / kHeads) (likewise kRopeHeads, vHeads), so one shared head is multi-query attention.
#include "fathom/cpu/Rope.h"
#include "fathom/cpu/Scratch.h"
#include "fathom/cpu/ThreadPool.h"
#include "fathom/runtime/DType.h"

#include <cstdint>
#include <optional>

namespace fathom::cpu {

// A [batch, tokens, heads, dim] view with element strides (dim is contiguous). A paged operand
// (a KV cache) finds token t of sequence b in block blockTable[b * blocksPerBatch + t /
// blockRows], blocks blockRows tokens apart from data; batchStride is then unused.
struct AttentionOperand {
  const void* data = nullptr;
  int64_t batchStride = 0, tokenStride = 0, headStride = 0;
  const int64_t* blockTable = nullptr;
  int64_t blockRows = 0, blocksPerBatch = 0;

  int64_t offset(int64_t b, int64_t t, int64_t h) const {
    const int64_t row =
        blockTable ? blockTable[b * blocksPerBatch + t / blockRows] * blockRows + t % blockRows : t;
    return (blockTable ? 0 : b * batchStride) + row * tokenStride + h * headStride;
  }
};

struct AttentionArgs {
  DType type = DType::BF16; // of k, kRope and v: scores and probabilities round to it, as HF's
  // Of q, qRope and out when they differ from `type`: MLA's absorbed decode keeps the latent
  // query and output in fp32 so that its only roundings are HF's.
  std::optional<DType> qType, qRopeType, outType;
  int64_t batch = 1, heads = 1;
  int64_t queryLen = 0;    // queries per sequence in this call
  int64_t keyLen = 0;      // keys in the cache, this call's included
  int64_t queryOffset = 0; // cache index of query 0 (keyLen - queryLen for the usual append)
  // Per sequence cache index of query 0 ([batch]); overrides queryOffset when set.
  const int64_t* queryStart = nullptr;
  bool causal = true; // else every valid key is visible
  int64_t qkDim = 0;  // query and key length
  int64_t keyDim = 0; // leading part of the key read from k; the rest from kRope
  int64_t vDim = 0;
  AttentionOperand q, qRope, k, kRope, v;
  // Heads of k, kRope and v (0: one per query head).
  int64_t kHeads = 0, kRopeHeads = 0, vHeads = 0;
  // Rotates qRope: positions[b * positionBatchStride + i] is query i's table row.
  const RopeRotation* qRopeRotation = nullptr;
  const int64_t* positions = nullptr;
  int64_t positionBatchStride = 0;
  void* out = nullptr;
  int64_t outBatchStride = 0, outTokenStride = 0, outHeadStride = 0;
  // [batch, keyLen] nonzero = real token; null = every key is real.
  const uint8_t* keyValid = nullptr;
  int64_t keyValidBatchStride = 0;
  float scale = 1.0f;
};

// Scratch for the one-row-at-a-time (eager) path up to keyLen keys.
size_t attentionScratchBytes(int64_t keyLen, const ThreadPool& pool);
// Scratch for calls up to `shape` (its keyLen and queryLen the largest): also room for the tiled
// path, which a call with many queries and whole keys (no rope split or rotation) takes when the
// scratch it is given holds it. Both paths round where HF does; only their sums' order differs.
size_t attentionScratchBytes(const AttentionArgs& shape, const ThreadPool& pool);

// Whether attention() takes the tiled path for these arguments (when its scratch has the room).
bool attentionIsTiled(const AttentionArgs& args);

void attention(ThreadPool& pool, const AttentionArgs& args, Scratch scratch);
// The checks attention() makes; `withData` false skips those that read query_start or need
// the operands' memory (a program checked at load, before any data exists).
void checkAttention(const AttentionArgs& args, bool withData);

} // namespace fathom::cpu
