// Tiled attention for prefill: one block per (sequence, head, tile of kTileQueries query rows),
// one warp per query. The keys and values are walked in chunks staged in shared memory once for
// the tile, so each is read from memory once per tile rather than once per query. The three
// passes of Attention.cu (max; the double sum of exp(score - max); probabilities rounded as HF
// rounds them, times values) keep HF's rounding points; the query lives in its warp's registers,
// each lane holding the dims it would hold in Attention.cu's score loop.
#include "AttentionDevice.cuh"

namespace fathom::cuda {
namespace {

using namespace attention;

constexpr int kTileQueries = 8;
constexpr int kTileThreads = kTileQueries * 32;
constexpr int kPerLane = int(kMaxAttentionDim / 32);

// Keys per staged chunk: the key and value chunks of kMaxAttentionDim-wide rows fit in 48 KB.
template <class T> constexpr int chunkKeys() {
  return sizeof(T) == 4 ? 4 : 8;
}

template <class T> __global__ void tiledAttentionKernel(Attention a, unsigned* error) {
  constexpr int kChunk = chunkKeys<T>();
  __shared__ T keys[kChunk][kMaxAttentionDim];
  __shared__ T values[kChunk][kMaxAttentionDim];
  __shared__ float staged[kMaxAttentionDim];
  __shared__ float rotated[kMaxRopeDim];
  __shared__ int anyUniform;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t tiles = (a.queryLen + kTileQueries - 1) / kTileQueries;
  const int64_t tile = blockIdx.x % tiles, h = (blockIdx.x / tiles) % a.heads;
  const int64_t b = blockIdx.x / (tiles * a.heads);
  const int64_t queryOffset = a.queryStart ? a.queryStart[b] : a.keyLen - a.queryLen;
  if (queryOffset < 0 || queryOffset + a.queryLen > a.keyLen) {
    if (threadIdx.x == 0)
      atomicOr(error, unsigned(kQueriesOutsideKeys));
    return;
  }
  const int64_t first = tile * kTileQueries, i = first + warp;
  const bool active = i < a.queryLen;
  const int64_t width = a.keyDim + a.ropeDim;

  // Each query row staged (and rotated) in turn, then kept in its warp's registers.
  float q[kPerLane];
#pragma unroll
  for (int k = 0; k < kPerLane; ++k)
    q[k] = 0.0f;
  for (int w = 0; w < kTileQueries && first + w < a.queryLen; ++w) {
    if (!stageQueryRow(a, b, first + w, h, staged, rotated, error))
      return;
    __syncthreads();
    if (warp == w) {
#pragma unroll
      for (int k = 0; k < kPerLane; ++k)
        if (lane + 32 * k < width)
          q[k] = staged[lane + 32 * k];
    }
    __syncthreads();
  }

  const int64_t kh = h / (a.heads / a.kHeads), rh = h / (a.heads / a.kRopeHeads);
  const int64_t vh = h / (a.heads / a.vHeads);
  const uint8_t* valid = a.keyValid ? a.keyValid + b * a.keyValidBatchStride : nullptr;
  const int64_t last = min(first + kTileQueries, a.queryLen) - 1;
  const int64_t myEnd = !active ? 0 : a.causal ? min(a.keyLen, queryOffset + i + 1) : a.keyLen;
  const int64_t tileEnd = a.causal ? min(a.keyLen, queryOffset + last + 1) : a.keyLen;

  auto stageKeys = [&](int64_t j0) {
    for (int64_t e = threadIdx.x; e < kChunk * width; e += blockDim.x) {
      const int64_t c = e / width, d = e % width, j = j0 + c;
      if (j < tileEnd)
        keys[c][d] =
            d < a.keyDim ? a.k.head<T>(b, j, kh)[d] : a.kRope.head<T>(b, j, rh)[d - a.keyDim];
    }
  };
  auto scoreAt = [&](int c) {
    float dot = 0.0f;
#pragma unroll
    for (int k = 0; k < kPerLane; ++k)
      if (lane + 32 * k < a.keyDim)
        dot += q[k] * toFloat(keys[c][lane + 32 * k]);
    dot = warpSum(dot);
    if (a.ropeDim > 0) {
      float ropeDot = 0.0f;
#pragma unroll
      for (int k = 0; k < kPerLane; ++k) {
        const int64_t d = lane + 32 * k;
        if (d >= a.keyDim && d < width)
          ropeDot += q[k] * toFloat(keys[c][d]);
      }
      dot += warpSum(ropeDot);
    }
    return roundTo<T>(roundTo<T>(dot) * a.scale); // the matmul's output, then `* scaling`
  };
  auto seen = [&](int64_t j) { return j < myEnd && (!valid || valid[j]); };

  float max = -__int_as_float(0x7f800000);
  bool visible = false;
  for (int64_t j0 = 0; j0 < tileEnd; j0 += kChunk) {
    stageKeys(j0);
    __syncthreads();
    for (int c = 0; c < kChunk; ++c)
      if (seen(j0 + c)) {
        max = fmaxf(max, scoreAt(c));
        visible = true;
      }
    __syncthreads();
  }
  double total = 0;
  if (threadIdx.x == 0)
    anyUniform = 0;
  __syncthreads();
  if (active && !visible && lane == 0)
    anyUniform = 1;
  for (int64_t j0 = 0; j0 < tileEnd; j0 += kChunk) {
    stageKeys(j0);
    __syncthreads();
    for (int c = 0; c < kChunk; ++c)
      if (seen(j0 + c))
        total += double(expf(scoreAt(c) - max));
    __syncthreads();
  }
  const float inverse = visible ? 1.0f / float(total) : 0.0f;
  // Every score is finfo.min: softmax is uniform over the whole row, padding included.
  const float uniform = roundTo<T>(1.0f / float(a.keyLen));
  float acc[kPerLane];
#pragma unroll
  for (int k = 0; k < kPerLane; ++k)
    acc[k] = 0.0f;
  const int64_t valuesEnd = anyUniform ? a.keyLen : tileEnd;
  for (int64_t j0 = 0; j0 < valuesEnd; j0 += kChunk) {
    stageKeys(j0);
    for (int64_t e = threadIdx.x; e < kChunk * a.valueDim; e += blockDim.x) {
      const int64_t c = e / a.valueDim, d = e % a.valueDim, j = j0 + c;
      if (j < valuesEnd)
        values[c][d] = a.v.head<T>(b, j, vh)[d];
    }
    __syncthreads();
    for (int c = 0; c < kChunk && active; ++c) {
      const int64_t j = j0 + c;
      float p;
      if (visible) {
        if (!seen(j))
          continue;
        p = roundTo<T>(expf(scoreAt(c) - max) * inverse);
      } else {
        if (j >= a.keyLen)
          continue;
        p = uniform;
      }
#pragma unroll
      for (int k = 0; k < kPerLane; ++k)
        if (lane + 32 * k < a.valueDim)
          acc[k] += p * toFloat(values[c][lane + 32 * k]);
    }
    __syncthreads();
  }
  if (!active)
    return;
  std::byte* outRow =
      reinterpret_cast<std::byte*>(a.out.data) + a.out.rowOffset(b, i) * bytesOf(a.outType);
#pragma unroll
  for (int k = 0; k < kPerLane; ++k)
    if (lane + 32 * k < a.valueDim)
      store(a.outType, outRow, h * a.out.headStride + lane + 32 * k, acc[k]);
}

} // namespace

bool tiledAttentionFits(const Attention& args) {
  return args.queryLen >= kTileQueries;
}

cudaError_t launchTiledAttention(const Attention& args, unsigned* error, cudaStream_t stream) {
  const int64_t tiles = (args.queryLen + kTileQueries - 1) / kTileQueries;
  const unsigned blocks = unsigned(args.batch * args.heads * tiles);
  if (args.kvType == DType::BF16)
    tiledAttentionKernel<__nv_bfloat16><<<blocks, kTileThreads, 0, stream>>>(args, error);
  else if (args.kvType == DType::F32)
    tiledAttentionKernel<float><<<blocks, kTileThreads, 0, stream>>>(args, error);
  else
    return cudaErrorInvalidValue;
  return cudaGetLastError();
}

} // namespace fathom::cuda
