// RoPE, the cache append and eager attention. Correctness first: attention is one block per
// (sequence, head, query) making three passes over the visible keys (max, sum, weighted values;
// the scores are recomputed rather than stored), so no scratch grows with the context. The
// arithmetic is the CPU kernels' (RopeRow.h, Attention.cpp), products kept unfused (__fmul_rn)
// where the CPU rounds each one.
#include "DeviceNumeric.cuh"
#include "Launch.h"

#include <cuda_bf16.h>

namespace fathom::cuda {
namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;

__device__ int64_t bytesOf(DType type) {
  return type == DType::F32 ? 4 : 2;
}

__device__ float load(DType type, const std::byte* base, int64_t element) {
  return type == DType::F32
             ? reinterpret_cast<const float*>(base)[element]
             : __bfloat162float(reinterpret_cast<const __nv_bfloat16*>(base)[element]);
}
__device__ void store(DType type, std::byte* base, int64_t element, float value) {
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

// One block per (row, head): the row staged first, since out may be x.
template <class T>
__global__ void ropeKernel(DeviceRows x, DeviceRows out, DeviceRope rope, unsigned* error) {
  __shared__ float staged[kMaxRopeDim], rotated[kMaxRopeDim];
  const int64_t row = blockIdx.x / x.heads, h = blockIdx.x % x.heads;
  const int64_t b = row / x.rowsPerBatch, t = row % x.rowsPerBatch;
  const int64_t position = rope.positions[b * rope.positionBatchStride + t];
  if (position < 0 || position >= rope.tableRows) {
    if (threadIdx.x == 0)
      atomicOr(error, unsigned(kPositionOutOfRange));
    return;
  }
  const T* source = x.head<T>(b, t, h);
  for (int64_t d = threadIdx.x; d < rope.dim; d += blockDim.x)
    staged[d] = toFloat(source[d]);
  __syncthreads();
  rotateStaged<T>(rope, position, staged, rotated);
  __syncthreads();
  T* target = out.head<T>(b, t, h);
  for (int64_t d = threadIdx.x; d < rope.dim; d += blockDim.x)
    target[d] = fromFloat<T>(rotated[d]);
}

// One block per new row (sequence b, token t).
template <class T> __global__ void cacheAppendKernel(CacheAppend a, unsigned* error) {
  __shared__ float staged[kMaxRopeDim], rotated[kMaxRopeDim];
  const int64_t tokens = a.piece[0].rowsPerBatch;
  const int64_t b = blockIdx.x / tokens, t = blockIdx.x % tokens;
  const int64_t start = a.starts[b];
  if (start < 0 || start + tokens > a.capacity) {
    if (threadIdx.x == 0)
      atomicOr(error, unsigned(kCacheFull));
    return;
  }
  T* target = a.cache.head<T>(b, start + t, 0);
  for (int p = 0; p < a.pieces; ++p) {
    const DeviceRows& piece = a.piece[p];
    const int64_t width = piece.width();
    if (p == a.ropePiece) {
      const int64_t position = a.rope.positions[b * a.rope.positionBatchStride + t];
      if (position < 0 || position >= a.rope.tableRows) {
        if (threadIdx.x == 0)
          atomicOr(error, unsigned(kPositionOutOfRange));
        return;
      }
      for (int64_t d = threadIdx.x; d < width; d += blockDim.x)
        staged[d] = toFloat(*piece.at<T>(b * tokens + t, d));
      __syncthreads();
      rotateStaged<T>(a.rope, position, staged, rotated);
      __syncthreads();
      for (int64_t d = threadIdx.x; d < width; d += blockDim.x)
        target[d] = fromFloat<T>(rotated[d]);
    } else {
      for (int64_t d = threadIdx.x; d < width; d += blockDim.x)
        target[d] = *piece.at<T>(b * tokens + t, d);
    }
    target += width;
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

// The block's query row (b, i, head h) staged into q as fp32, its rope part rotated when the
// call fuses the rotation; the row's offset into the keys in queryOffset. False (the error word
// set) when the placement or position is out of range.
__device__ bool stageQuery(const Attention& a, int64_t b, int64_t i, int64_t h, float* q,
                           float* rotated, int64_t& queryOffset, unsigned* error) {
  queryOffset = a.queryStart ? a.queryStart[b] : a.keyLen - a.queryLen;
  if (queryOffset < 0 || queryOffset + a.queryLen > a.keyLen) {
    if (threadIdx.x == 0)
      atomicOr(error, unsigned(kQueriesOutsideKeys));
    return false;
  }
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
  __syncthreads();
  return true;
}

template <class T> __global__ void attentionKernel(Attention a, unsigned* error) {
  __shared__ float q[kMaxAttentionDim];
  __shared__ float rotated[kMaxRopeDim];
  __shared__ float acc[kWarps][kMaxAttentionDim];
  __shared__ float warpMax[kWarps];
  __shared__ double warpTotal[kWarps];
  __shared__ int warpVisible[kWarps];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t i = blockIdx.x % a.queryLen, h = (blockIdx.x / a.queryLen) % a.heads;
  const int64_t b = blockIdx.x / (a.queryLen * a.heads);
  int64_t queryOffset = 0;
  if (!stageQuery(a, b, i, h, q, rotated, queryOffset, error))
    return;
  for (int64_t d = lane; d < a.valueDim; d += 32)
    acc[warp][d] = 0.0f;
  __syncthreads();

  const int64_t end = a.causal ? min(a.keyLen, queryOffset + i + 1) : a.keyLen;
  const int64_t kh = h / (a.heads / a.kHeads), rh = h / (a.heads / a.kRopeHeads);
  const int64_t vh = h / (a.heads / a.vHeads);
  const uint8_t* valid = a.keyValid ? a.keyValid + b * a.keyValidBatchStride : nullptr;

  float localMax = -__int_as_float(0x7f800000);
  int visible = 0;
  for (int64_t j = warp; j < end; j += kWarps) {
    if (valid && !valid[j])
      continue;
    localMax = fmaxf(localMax, scoreOf<T>(a, q, b, j, kh, rh));
    visible = 1;
  }
  if (lane == 0) {
    warpMax[warp] = localMax;
    warpVisible[warp] = visible;
  }
  __syncthreads();
  float max = warpMax[0];
  bool anyVisible = false;
  for (int w = 0; w < kWarps; ++w) {
    max = fmaxf(max, warpMax[w]);
    anyVisible = anyVisible || warpVisible[w];
  }

  if (anyVisible) {
    double total = 0;
    for (int64_t j = warp; j < end; j += kWarps)
      if (!valid || valid[j])
        total += double(expf(scoreOf<T>(a, q, b, j, kh, rh) - max));
    if (lane == 0)
      warpTotal[warp] = total;
    __syncthreads();
    double sum = 0;
    for (int w = 0; w < kWarps; ++w)
      sum += warpTotal[w];
    const float inverse = 1.0f / float(sum);
    for (int64_t j = warp; j < end; j += kWarps) {
      if (valid && !valid[j])
        continue;
      const float p = roundTo<T>(expf(scoreOf<T>(a, q, b, j, kh, rh) - max) * inverse);
      const T* value = a.v.head<T>(b, j, vh);
      for (int64_t d = lane; d < a.valueDim; d += 32)
        acc[warp][d] += p * toFloat(value[d]);
    }
  } else {
    // Every score is finfo.min: softmax is uniform over the whole row, padding included.
    const float uniform = roundTo<T>(1.0f / float(a.keyLen));
    for (int64_t j = warp; j < a.keyLen; j += kWarps) {
      const T* value = a.v.head<T>(b, j, vh);
      for (int64_t d = lane; d < a.valueDim; d += 32)
        acc[warp][d] += uniform * toFloat(value[d]);
    }
  }
  __syncthreads();
  std::byte* outRow =
      reinterpret_cast<std::byte*>(a.out.data) + a.out.rowOffset(b, i) * bytesOf(a.outType);
  for (int64_t d = threadIdx.x; d < a.valueDim; d += blockDim.x) {
    float sum = 0.0f;
    for (int w = 0; w < kWarps; ++w)
      sum += acc[w][d];
    store(a.outType, outRow, h * a.out.headStride + d, sum);
  }
}

// Split-KV attention for calls of few query rows over long contexts (decode), where one block
// per row would leave most of the GPU idle and walk thousands of keys alone: each row's keys are
// cut into `splits` runs, one block each, in four kernels that keep the arithmetic above (the
// scores recomputed per pass, the global max and the double sum before any probability is
// rounded): the runs' maxima; each run's sum of exp(score - max) with the global max; each
// run's probabilities (rounded as HF rounds them) times its values, with the global sum; and the
// runs' partial outputs added in run order. Only the order of the fp32 and double sums differs.
struct SplitRun {
  int64_t row, split; // row = (b * heads + h) * queryLen + i; the block's run of it
  int64_t begin, end; // the run's keys
  int64_t visibleEnd; // keys the row sees at all (the causal limit)
};

__device__ SplitRun splitRun(const Attention& a, const SplitScratch& s, int64_t queryOffset) {
  SplitRun r;
  r.row = blockIdx.x / s.splits;
  r.split = blockIdx.x % s.splits;
  const int64_t i = r.row % a.queryLen;
  r.visibleEnd = a.causal ? min(a.keyLen, queryOffset + i + 1) : a.keyLen;
  const int64_t chunk = (a.keyLen + s.splits - 1) / s.splits;
  r.begin = r.split * chunk;
  r.end = min(r.begin + chunk, a.keyLen);
  return r;
}

__device__ int64_t rowOfBlock(const Attention& a, const SplitScratch& s, int64_t& b, int64_t& i,
                              int64_t& h) {
  const int64_t row = blockIdx.x / s.splits;
  i = row % a.queryLen;
  h = (row / a.queryLen) % a.heads;
  b = row / (a.queryLen * a.heads);
  return row;
}

template <class T> __global__ void splitMaxKernel(Attention a, SplitScratch s, unsigned* error) {
  __shared__ float q[kMaxAttentionDim];
  __shared__ float rotated[kMaxRopeDim];
  __shared__ float warpMax[kWarps];
  __shared__ int warpVisible[kWarps];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  int64_t b, i, h, queryOffset = 0;
  rowOfBlock(a, s, b, i, h);
  if (!stageQuery(a, b, i, h, q, rotated, queryOffset, error))
    return;
  const SplitRun r = splitRun(a, s, queryOffset);
  const int64_t kh = h / (a.heads / a.kHeads), rh = h / (a.heads / a.kRopeHeads);
  const uint8_t* valid = a.keyValid ? a.keyValid + b * a.keyValidBatchStride : nullptr;
  float localMax = -__int_as_float(0x7f800000);
  int visible = 0;
  for (int64_t j = r.begin + warp; j < min(r.end, r.visibleEnd); j += kWarps) {
    if (valid && !valid[j])
      continue;
    localMax = fmaxf(localMax, scoreOf<T>(a, q, b, j, kh, rh));
    visible = 1;
  }
  if (lane == 0) {
    warpMax[warp] = localMax;
    warpVisible[warp] = visible;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    float max = warpMax[0];
    int any = 0;
    for (int w = 0; w < kWarps; ++w) {
      max = fmaxf(max, warpMax[w]);
      any = any || warpVisible[w];
    }
    s.maxima[r.row * s.splits + r.split] = max;
    s.visible[r.row * s.splits + r.split] = any;
  }
}

// The row's global max and whether it sees any key, from the runs' (every thread).
__device__ bool rowMax(const SplitScratch& s, int64_t row, float& max) {
  max = -__int_as_float(0x7f800000);
  bool any = false;
  for (int64_t k = 0; k < s.splits; ++k) {
    max = fmaxf(max, s.maxima[row * s.splits + k]);
    any = any || s.visible[row * s.splits + k];
  }
  return any;
}

template <class T> __global__ void splitTotalKernel(Attention a, SplitScratch s, unsigned* error) {
  __shared__ float q[kMaxAttentionDim];
  __shared__ float rotated[kMaxRopeDim];
  __shared__ double warpTotal[kWarps];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  int64_t b, i, h, queryOffset = 0;
  const int64_t row = rowOfBlock(a, s, b, i, h);
  float max;
  if (!rowMax(s, row, max))
    return; // no visible key: the uniform branch needs no sum
  if (!stageQuery(a, b, i, h, q, rotated, queryOffset, error))
    return;
  const SplitRun r = splitRun(a, s, queryOffset);
  const int64_t kh = h / (a.heads / a.kHeads), rh = h / (a.heads / a.kRopeHeads);
  const uint8_t* valid = a.keyValid ? a.keyValid + b * a.keyValidBatchStride : nullptr;
  double total = 0;
  for (int64_t j = r.begin + warp; j < min(r.end, r.visibleEnd); j += kWarps)
    if (!valid || valid[j])
      total += double(expf(scoreOf<T>(a, q, b, j, kh, rh) - max));
  if (lane == 0)
    warpTotal[warp] = total;
  __syncthreads();
  if (threadIdx.x == 0) {
    double sum = 0;
    for (int w = 0; w < kWarps; ++w)
      sum += warpTotal[w];
    s.totals[row * s.splits + r.split] = sum;
  }
}

template <class T> __global__ void splitValuesKernel(Attention a, SplitScratch s, unsigned* error) {
  __shared__ float q[kMaxAttentionDim];
  __shared__ float rotated[kMaxRopeDim];
  __shared__ float acc[kWarps][kMaxAttentionDim];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  int64_t b, i, h, queryOffset = 0;
  const int64_t row = rowOfBlock(a, s, b, i, h);
  if (!stageQuery(a, b, i, h, q, rotated, queryOffset, error))
    return;
  const SplitRun r = splitRun(a, s, queryOffset);
  for (int64_t d = lane; d < a.valueDim; d += 32)
    acc[warp][d] = 0.0f;
  __syncthreads();
  const int64_t kh = h / (a.heads / a.kHeads), rh = h / (a.heads / a.kRopeHeads);
  const int64_t vh = h / (a.heads / a.vHeads);
  const uint8_t* valid = a.keyValid ? a.keyValid + b * a.keyValidBatchStride : nullptr;
  float max;
  if (rowMax(s, row, max)) {
    double sum = 0;
    for (int64_t k = 0; k < s.splits; ++k)
      sum += s.totals[row * s.splits + k];
    const float inverse = 1.0f / float(sum);
    for (int64_t j = r.begin + warp; j < min(r.end, r.visibleEnd); j += kWarps) {
      if (valid && !valid[j])
        continue;
      const float p = roundTo<T>(expf(scoreOf<T>(a, q, b, j, kh, rh) - max) * inverse);
      const T* value = a.v.head<T>(b, j, vh);
      for (int64_t d = lane; d < a.valueDim; d += 32)
        acc[warp][d] += p * toFloat(value[d]);
    }
  } else {
    // Every score is finfo.min: softmax is uniform over the whole row, padding included.
    const float uniform = roundTo<T>(1.0f / float(a.keyLen));
    for (int64_t j = r.begin + warp; j < r.end; j += kWarps) {
      const T* value = a.v.head<T>(b, j, vh);
      for (int64_t d = lane; d < a.valueDim; d += 32)
        acc[warp][d] += uniform * toFloat(value[d]);
    }
  }
  __syncthreads();
  float* partial = s.partials + (row * s.splits + r.split) * a.valueDim;
  for (int64_t d = threadIdx.x; d < a.valueDim; d += blockDim.x) {
    float sum = 0.0f;
    for (int w = 0; w < kWarps; ++w)
      sum += acc[w][d];
    partial[d] = sum;
  }
}

// One block per row: the runs' partial outputs added in run order, then stored.
__global__ void splitCombineKernel(Attention a, SplitScratch s) {
  const int64_t row = blockIdx.x;
  const int64_t i = row % a.queryLen, h = (row / a.queryLen) % a.heads;
  const int64_t b = row / (a.queryLen * a.heads);
  const int64_t queryOffset = a.queryStart ? a.queryStart[b] : a.keyLen - a.queryLen;
  if (queryOffset < 0 || queryOffset + a.queryLen > a.keyLen)
    return; // reported by the kernels before
  std::byte* outRow =
      reinterpret_cast<std::byte*>(a.out.data) + a.out.rowOffset(b, i) * bytesOf(a.outType);
  for (int64_t d = threadIdx.x; d < a.valueDim; d += blockDim.x) {
    float sum = 0.0f;
    for (int64_t k = 0; k < s.splits; ++k)
      sum += s.partials[(row * s.splits + k) * a.valueDim + d];
    store(a.outType, outRow, h * a.out.headStride + d, sum);
  }
}

template <class T>
cudaError_t launchSplitAttention(const Attention& a, const SplitScratch& s, unsigned* error,
                                 cudaStream_t stream) {
  const int64_t rows = a.batch * a.heads * a.queryLen;
  const unsigned blocks = unsigned(rows * s.splits);
  splitMaxKernel<T><<<blocks, kThreads, 0, stream>>>(a, s, error);
  splitTotalKernel<T><<<blocks, kThreads, 0, stream>>>(a, s, error);
  splitValuesKernel<T><<<blocks, kThreads, 0, stream>>>(a, s, error);
  splitCombineKernel<<<unsigned(rows), kThreads, 0, stream>>>(a, s);
  return cudaGetLastError();
}

} // namespace

cudaError_t launchRope(DType type, const DeviceRows& x, const DeviceRows& out,
                       const DeviceRope& rope, unsigned* error, cudaStream_t stream) {
  const int64_t blocks = x.rows() * x.heads;
  if (blocks == 0)
    return cudaSuccess;
  if (type == DType::BF16)
    ropeKernel<__nv_bfloat16><<<unsigned(blocks), kThreads, 0, stream>>>(x, out, rope, error);
  else if (type == DType::F32)
    ropeKernel<float><<<unsigned(blocks), kThreads, 0, stream>>>(x, out, rope, error);
  else
    return cudaErrorInvalidValue;
  return cudaGetLastError();
}

cudaError_t launchCacheAppend(const CacheAppend& args, unsigned* error, cudaStream_t stream) {
  const int64_t blocks = args.pieces > 0 ? args.piece[0].rows() : 0;
  if (blocks == 0)
    return cudaSuccess;
  if (args.type == DType::BF16)
    cacheAppendKernel<__nv_bfloat16><<<unsigned(blocks), kThreads, 0, stream>>>(args, error);
  else if (args.type == DType::F32)
    cacheAppendKernel<float><<<unsigned(blocks), kThreads, 0, stream>>>(args, error);
  else
    return cudaErrorInvalidValue;
  return cudaGetLastError();
}

size_t splitScratchBytes(int64_t runs) {
  return size_t(runs) *
         (sizeof(double) + size_t(kMaxAttentionDim) * sizeof(float) + sizeof(float) + sizeof(int));
}

SplitScratch carveSplitScratch(void* memory, int64_t runs, int64_t targetBlocks) {
  auto* base = static_cast<std::byte*>(memory); // doubles first: every array stays aligned
  SplitScratch s;
  s.totals = reinterpret_cast<double*>(base);
  base += size_t(runs) * sizeof(double);
  s.partials = reinterpret_cast<float*>(base);
  base += size_t(runs * kMaxAttentionDim) * sizeof(float);
  s.maxima = reinterpret_cast<float*>(base);
  base += size_t(runs) * sizeof(float);
  s.visible = reinterpret_cast<int*>(base);
  s.capacityRuns = runs;
  s.targetBlocks = targetBlocks;
  return s;
}

int64_t attentionSplits(const Attention& args, const SplitScratch& scratch) {
  const int64_t rows = args.batch * args.heads * args.queryLen;
  if (!scratch.maxima || rows == 0 || rows >= scratch.targetBlocks || args.keyLen < kMinSplitKeys)
    return 1;
  const int64_t byBlocks = (scratch.targetBlocks + rows - 1) / rows;
  const int64_t byKeys = args.keyLen / (kMinSplitKeys / 2);
  int64_t splits = byBlocks < byKeys ? byBlocks : byKeys;
  splits = splits < kMaxSplits ? splits : kMaxSplits;
  return rows * splits <= scratch.capacityRuns ? splits : 1;
}

cudaError_t launchAttention(const Attention& args, unsigned* error, cudaStream_t stream,
                            const SplitScratch& scratch) {
  const int64_t blocks = args.batch * args.heads * args.queryLen;
  if (blocks == 0)
    return cudaSuccess;
  const int64_t splits = attentionSplits(args, scratch);
  if (splits > 1) {
    SplitScratch runs = scratch;
    runs.splits = splits;
    if (args.kvType == DType::BF16)
      return launchSplitAttention<__nv_bfloat16>(args, runs, error, stream);
    if (args.kvType == DType::F32)
      return launchSplitAttention<float>(args, runs, error, stream);
    return cudaErrorInvalidValue;
  }
  if (args.kvType == DType::BF16)
    attentionKernel<__nv_bfloat16><<<unsigned(blocks), kThreads, 0, stream>>>(args, error);
  else if (args.kvType == DType::F32)
    attentionKernel<float><<<unsigned(blocks), kThreads, 0, stream>>>(args, error);
  else
    return cudaErrorInvalidValue;
  return cudaGetLastError();
}

} // namespace fathom::cuda
