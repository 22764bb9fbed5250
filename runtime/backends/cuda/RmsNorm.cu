#include "fathom/cuda/Kernels.h"

#include <cub/block/block_reduce.cuh>
#include <cuda_bf16.h>

namespace fathom::cuda {
namespace {

constexpr int kRmsNormThreads = 256;

// One block per row: fp32 sum of squares, then the two bf16 roundings HF applies.
__global__ void rmsNormBf16Kernel(const __nv_bfloat16* __restrict__ x,
                                  const __nv_bfloat16* __restrict__ weight,
                                  __nv_bfloat16* __restrict__ out, int64_t cols, float eps) {
  using BlockReduce = cub::BlockReduce<float, kRmsNormThreads>;
  __shared__ typename BlockReduce::TempStorage reduceStorage;
  __shared__ float inverseRms;

  const __nv_bfloat16* row = x + blockIdx.x * cols;
  __nv_bfloat16* outRow = out + blockIdx.x * cols;
  float sumOfSquares = 0.0f;
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) {
    float value = __bfloat162float(row[i]);
    sumOfSquares += value * value;
  }
  float total = BlockReduce(reduceStorage).Sum(sumOfSquares);
  if (threadIdx.x == 0)
    inverseRms = rsqrtf(total / float(cols) + eps);
  __syncthreads();
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) {
    __nv_bfloat16 normalized = __float2bfloat16_rn(__bfloat162float(row[i]) * inverseRms);
    outRow[i] = __float2bfloat16_rn(__bfloat162float(weight[i]) * __bfloat162float(normalized));
  }
}

} // namespace

cudaError_t rmsNormBf16(const uint16_t* x, const uint16_t* weight, uint16_t* out, int64_t rows,
                        int64_t cols, float eps, cudaStream_t stream) {
  if (rows == 0)
    return cudaSuccess;
  rmsNormBf16Kernel<<<dim3(unsigned(rows)), kRmsNormThreads, 0, stream>>>(
      reinterpret_cast<const __nv_bfloat16*>(x), reinterpret_cast<const __nv_bfloat16*>(weight),
      reinterpret_cast<__nv_bfloat16*>(out), cols, eps);
  return cudaGetLastError();
}

} // namespace fathom::cuda
