#pragma once
// Internal to the attention .cu files (Attention.cu: RoPE, the cache append, one block per query
// row; AttentionSplitKv.cu: decode over long contexts): loading and storing activations, the
// staged rotation, a query row staged (and rotated) in shared memory, and one key's score, with
// the CPU kernels' arithmetic (RopeRow.h, Attention.cpp): products kept unfused (__fmul_rn)
// where the CPU rounds each one.
#include "DeviceNumeric.cuh"
#include "Launch.h"

#include <cuda_bf16.h>

namespace fathom::cuda {
namespace attention {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;

__device__ inline int64_t bytesOf(DType type) {
  return type == DType::F32 ? 4 : 2;
}

__device__ inline float load(DType type, const std::byte* base, int64_t element) {
  return type == DType::F32
             ? reinterpret_cast<const float*>(base)[element]
             : __bfloat162float(reinterpret_cast<const __nv_bfloat16*>(base)[element]);
}
__device__ inline void store(DType type, std::byte* base, int64_t element, float value) {
  if (type == DType::F32)
    reinterpret_cast<float*>(base)[element] = value;
  else
    reinterpret_cast<__nv_bfloat16*>(base)[element] = __float2bfloat16_rn(value);
}

// rotated[0, dim) = rope(staged) at `position`, each value rounded to T; the block's threads
// share the pairs.
template <class T>
__device__ void rotateStaged(const DeviceRope& r, int64_t position, const float* staged,
                             float* rotated) {
  const int64_t half = r.dim / 2;
  const bool complex = r.layout == RopeLayout::Complex || r.layout == RopeLayout::ComplexHalves;
  for (int64_t j = threadIdx.x; j < half; j += blockDim.x) {
    if (complex) {
      const bool halves = r.layout == RopeLayout::ComplexHalves;
      const float c = static_cast<const float*>(r.cos)[position * half + j];
      const float s = static_cast<const float*>(r.sin)[position * half + j];
      const float re = halves ? staged[j] : staged[2 * j];
      const float im = halves ? staged[half + j] : staged[2 * j + 1];
      rotated[halves ? j : 2 * j] = roundTo<T>(__fsub_rn(__fmul_rn(re, c), __fmul_rn(im, s)));
      rotated[halves ? half + j : 2 * j + 1] =
          roundTo<T>(__fadd_rn(__fmul_rn(re, s), __fmul_rn(im, c)));
    } else {
      const bool interleaved = r.layout == RopeLayout::Interleaved;
      const float c = toFloat(static_cast<const T*>(r.cos)[position * half + j]);
      const float s = toFloat(static_cast<const T*>(r.sin)[position * half + j]);
      const float a = interleaved ? staged[2 * j] : staged[j];
      const float b = interleaved ? staged[2 * j + 1] : staged[half + j];
      rotated[j] = roundTo<T>(__fsub_rn(roundTo<T>(__fmul_rn(a, c)), roundTo<T>(__fmul_rn(b, s))));
      rotated[half + j] =
          roundTo<T>(__fadd_rn(roundTo<T>(__fmul_rn(b, c)), roundTo<T>(__fmul_rn(a, s))));
    }
  }
}

// The score of key j for the staged query (every lane of the warp gets it).
template <class T>
__device__ float scoreOf(const Attention& a, const float* q, int64_t b, int64_t j, int64_t kh,
                         int64_t rh) {
  const int lane = threadIdx.x % 32;
  const T* key = a.k.head<T>(b, j, kh);
  float dot = 0.0f;
  for (int64_t d = lane; d < a.keyDim; d += 32)
    dot += q[d] * toFloat(key[d]);
  dot = warpSum(dot);
  if (a.ropeDim > 0) {
    const T* ropeKey = a.kRope.head<T>(b, j, rh);
    float ropeDot = 0.0f;
    for (int64_t d = lane; d < a.ropeDim; d += 32)
      ropeDot += q[a.keyDim + d] * toFloat(ropeKey[d]);
    dot += warpSum(ropeDot);
  }
  return roundTo<T>(roundTo<T>(dot) * a.scale); // the matmul's output, then `* scaling`
}

// Query row (b, i), head h, staged into q as fp32 by the block's threads, its rope part rotated
// when the call fuses the rotation. False (the error word set) when the position is out of the
// tables. The block must synchronize before reading q.
__device__ inline bool stageQueryRow(const Attention& a, int64_t b, int64_t i, int64_t h, float* q,
                                     float* rotated, unsigned* error) {
  const std::byte* qRow =
      reinterpret_cast<const std::byte*>(a.q.data) + a.q.rowOffset(b, i) * bytesOf(a.qType);
  for (int64_t d = threadIdx.x; d < a.keyDim; d += blockDim.x)
    q[d] = load(a.qType, qRow, h * a.q.headStride + d);
  if (a.ropeDim > 0) {
    const std::byte* ropeRow = reinterpret_cast<const std::byte*>(a.qRope.data) +
                               a.qRope.rowOffset(b, i) * bytesOf(a.qRopeType);
    for (int64_t d = threadIdx.x; d < a.ropeDim; d += blockDim.x)
      q[a.keyDim + d] = load(a.qRopeType, ropeRow, h * a.qRope.headStride + d);
    if (a.rotateQuery) {
      const int64_t position = a.rope.positions[b * a.rope.positionBatchStride + i];
      if (position < 0 || position >= a.rope.tableRows) {
        if (threadIdx.x == 0)
          atomicOr(error, unsigned(kPositionOutOfRange));
        return false;
      }
      __syncthreads();
      if (a.qRopeType == DType::F32)
        rotateStaged<float>(a.rope, position, q + a.keyDim, rotated);
      else
        rotateStaged<__nv_bfloat16>(a.rope, position, q + a.keyDim, rotated);
      __syncthreads();
      for (int64_t d = threadIdx.x; d < a.ropeDim; d += blockDim.x)
        q[a.keyDim + d] = rotated[d];
    }
  }
  return true;
}

// The block's query row staged (stageQueryRow) after checking where the queries sit in the keys
// (queryOffset); false, the error word set, when either is out of range.
__device__ inline bool stageQuery(const Attention& a, int64_t b, int64_t i, int64_t h, float* q,
                                  float* rotated, int64_t& queryOffset, unsigned* error) {
  queryOffset = a.queryStart ? a.queryStart[b] : a.keyLen - a.queryLen;
  if (queryOffset < 0 || queryOffset + a.queryLen > a.keyLen) {
    if (threadIdx.x == 0)
      atomicOr(error, unsigned(kQueriesOutsideKeys));
    return false;
  }
  if (!stageQueryRow(a, b, i, h, q, rotated, error))
    return false;
  __syncthreads();
  return true;
}

} // namespace attention

// The tiled form for prefill (AttentionTiled.cu): whether a call takes it, and its launch.
bool tiledAttentionFits(const Attention& args);
cudaError_t launchTiledAttention(const Attention& args, unsigned* error, cudaStream_t stream);

// The split-KV form of launchAttention (AttentionSplitKv.cu), `scratch.splits` runs per row.
cudaError_t launchSplitKvAttention(const Attention& args, const SplitScratch& scratch,
                                   unsigned* error, cudaStream_t stream);

} // namespace fathom::cuda
