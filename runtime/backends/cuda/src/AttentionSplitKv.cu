// Split-KV attention for calls of few query rows over long contexts (decode), where one block
// per row would leave most of the GPU idle and walk thousands of keys alone: each row's keys are
// cut into `splits` runs, one block each, in four kernels that keep Attention.cu's arithmetic
// (the scores recomputed per pass, the global max and the double sum known before any
// probability is rounded): the runs' maxima; each run's sum of exp(score - max) with the global
// max; each run's probabilities (rounded as HF rounds them) times its values, with the global
// sum; and the runs' partial outputs added in run order. Only the order of the fp32 and double
// sums differs. launchAttention (Attention.cu) picks it.
#include "AttentionDevice.cuh"

namespace fathom::cuda {
namespace {

using namespace attention;

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
cudaError_t launchSplitRuns(const Attention& a, const SplitScratch& s, unsigned* error,
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

cudaError_t launchSplitKvAttention(const Attention& args, const SplitScratch& scratch,
                                   unsigned* error, cudaStream_t stream) {
  if (args.kvType == DType::BF16)
    return launchSplitRuns<__nv_bfloat16>(args, scratch, error, stream);
  if (args.kvType == DType::F32)
    return launchSplitRuns<float>(args, scratch, error, stream);
  return cudaErrorInvalidValue;
}

} // namespace fathom::cuda
