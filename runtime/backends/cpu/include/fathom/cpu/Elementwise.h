#pragma once
// Row-wise and element-wise kernels of the decoder, with HF's rounding points in bf16.
//
// Dtypes: activations are F32 or BF16 (bf16 as uint16_t bits). A parameter vector (norm
// weight, embedding table) may be BF16 while activations are F32 — it is widened exactly, as
// HF does when it loads a bf16 checkpoint in fp32 — but BF16 activations need BF16 parameters.
// Outputs may alias inputs of the same layout.
#include "fathom/cpu/ThreadPool.h"
#include "fathom/runtime/DType.h"

#include <cstdint>

namespace fathom::cpu {

// out[i, :] = table[ids[i], :]. An id outside the vocabulary throws a fathom::Error naming the
// position and the id, before anything is written. A BF16 table into F32 output widens; an F32
// table into BF16 output rounds.
// A vocabulary shard: the table holds ids [firstId, firstId + vocabSize) of a vocabulary of
// `vocabulary` ids (-1: the table is the whole vocabulary); the other ids give zero rows.
void embedding(ThreadPool& pool, DType tableType, const void* table, int64_t vocabSize,
               int64_t hidden, const int64_t* ids, int64_t count, DType outType, void* out,
               int64_t firstId = 0, int64_t vocabulary = -1);

// out[i, :] = x[rowIndex[i], :] for i < count (MoE dispatch). Same dtype in and out.
void gatherRows(ThreadPool& pool, DType type, const void* x, int64_t ldx, const int32_t* rowIndex,
                int64_t count, int64_t width, void* out, int64_t ldOut);

// HF RMSNorm over each row of [rows, dim]: s = mean(x_f32^2) in fp32,
// n = x_f32 * (1 / sqrt(s + eps)) in fp32; then
//   bf16: out = bf16(weight * bf16(n))      (two roundings, as HF)
//   fp32: out = weight * n
void rmsNorm(ThreadPool& pool, DType type, const void* x, int64_t ldx, DType weightType,
             const void* weight, float eps, int64_t rows, int64_t dim, void* out, int64_t ldOut);

// The residual add and the RMSNorm of its sum in one pass over the rows: sum = a + b (as add
// computes it), out = rmsNorm(sum) (as rmsNorm computes it from the rounded sum); the same
// bits as the two calls. With b null it is rmsNorm of a (sum unused).
void addRmsNorm(ThreadPool& pool, DType type, const void* a, int64_t lda, const void* b,
                int64_t ldb, DType weightType, const void* weight, float eps, int64_t rows,
                int64_t dim, void* sum, int64_t ldSum, void* out, int64_t ldOut);

// out = a + b over `count` contiguous elements (bf16: one rounding). The residual add.
void add(ThreadPool& pool, DType type, const void* a, const void* b, void* out, int64_t count);

// out[r, :] = act(gate[r, :]) * up[r, :] with act = silu:
//   bf16: out = bf16(bf16(silu(gate)) * up)   (HF rounds the activation, then the product)
//   fp32: out = silu(gate) * up
// silu(g) = g / (1 + exp(-g)) in fp32. gate and up may be the two halves of one fused
// gate_up row (pass ldGate = ldUp = 2 * width, up = gate + width).
void siluMul(ThreadPool& pool, DType type, const void* gate, int64_t ldGate, const void* up,
             int64_t ldUp, int64_t rows, int64_t width, void* out, int64_t ldOut);

// In-place fp32 softmax over each row of [rows, n], computed as torch's CPU kernel does:
// m = max, e = exp(x - m), out = e * (1 / sum(e)). A row of only -inf gives NaN, as in torch.
void softmaxRows(ThreadPool& pool, float* x, int64_t rows, int64_t n, int64_t ldx);

// One row of softmaxRows (for callers that are already inside a parallel loop).
void softmaxRow(float* x, int64_t n);

} // namespace fathom::cpu
