// RoPE, the cache append and eager attention. Correctness first: attention is one block per
// (sequence, head, query) making three passes over the visible keys (max, sum, weighted values;
// the scores are recomputed rather than stored), so no scratch grows with the context; decode
// over long contexts takes the split-KV form (AttentionSplitKv.cu), prefill the tiled one
// (AttentionTiled.cu). The arithmetic is the CPU kernels' (AttentionDevice.cuh).
#include "AttentionDevice.cuh"

namespace fathom::cuda {
namespace {

using namespace attention;

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

cudaError_t launchAttention(const Attention& args, unsigned* error, cudaStream_t stream,
                            const SplitScratch& scratch) {
  const int64_t blocks = args.batch * args.heads * args.queryLen;
  if (blocks == 0)
    return cudaSuccess;
  const int64_t splits = attentionSplits(args, scratch);
  if (splits > 1) {
    SplitScratch runs = scratch;
    runs.splits = splits;
    return launchSplitKvAttention(args, runs, error, stream);
  }
  if (tiledAttentionFits(args))
    return launchTiledAttention(args, error, stream);
  if (args.kvType == DType::BF16)
    attentionKernel<__nv_bfloat16><<<unsigned(blocks), kThreads, 0, stream>>>(args, error);
  else if (args.kvType == DType::F32)
    attentionKernel<float><<<unsigned(blocks), kThreads, 0, stream>>>(args, error);
  else
    return cudaErrorInvalidValue;
  return cudaGetLastError();
}

} // namespace fathom::cuda
