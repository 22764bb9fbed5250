// RMSNorm, alone or fused with the residual add before it: one block per row.
#include "DeviceNumeric.cuh"
#include "Launch.h"
#include "fathom/cuda/Kernels.h"

#include <cub/block/block_reduce.cuh>
#include <cuda_bf16.h>

namespace fathom::cuda {
namespace {

constexpr int kRmsNormThreads = 256;

// The row's sum of squares in fp32, then HF's roundings: normalized = x * inverse, in bf16
// rounded before the weight multiplies it, the product rounded once.
template <class T, class W, bool kAdd>
__global__ void addRmsNormKernel(DeviceRows x, DeviceRows b, DeviceRows sum, const W* weight,
                                 float eps, DeviceRows out) {
  using BlockReduce = cub::BlockReduce<float, kRmsNormThreads>;
  __shared__ typename BlockReduce::TempStorage reduceStorage;
  __shared__ float inverseRms;
  const int64_t row = blockIdx.x, width = x.width();
  float sumOfSquares = 0.0f;
  for (int64_t i = threadIdx.x; i < width; i += blockDim.x) {
    float value = toFloat(*x.at<T>(row, i));
    if constexpr (kAdd) {
      value = roundTo<T>(value + toFloat(*b.at<T>(row, i)));
      store(sum.at<T>(row, i), value);
    }
    sumOfSquares += value * value;
  }
  const float total = BlockReduce(reduceStorage).Sum(sumOfSquares);
  if (threadIdx.x == 0)
    inverseRms = 1.0f / sqrtf(total / float(width) + eps);
  __syncthreads();
  for (int64_t i = threadIdx.x; i < width; i += blockDim.x) {
    // With the add, each thread reads back the sums it wrote itself.
    const float value = toFloat(kAdd ? *sum.at<T>(row, i) : *x.at<T>(row, i));
    const float normalized = roundTo<T>(value * inverseRms);
    store(out.at<T>(row, i), toFloat(weight[i]) * normalized);
  }
}

template <class T, class W>
cudaError_t launchTyped(const DeviceRows& x, const DeviceRows* b, const DeviceRows* sum,
                        const void* weight, float eps, const DeviceRows& out, cudaStream_t stream) {
  const dim3 grid(unsigned(x.rows()));
  const W* w = static_cast<const W*>(weight);
  if (b)
    addRmsNormKernel<T, W, true><<<grid, kRmsNormThreads, 0, stream>>>(x, *b, *sum, w, eps, out);
  else
    addRmsNormKernel<T, W, false><<<grid, kRmsNormThreads, 0, stream>>>(x, x, x, w, eps, out);
  return cudaGetLastError();
}

} // namespace

cudaError_t launchAddRmsNorm(DType type, const DeviceRows& x, const DeviceRows* b,
                             const DeviceRows* sum, DType weightType, const void* weight, float eps,
                             const DeviceRows& out, cudaStream_t stream) {
  if (x.rows() == 0)
    return cudaSuccess;
  if ((b == nullptr) != (sum == nullptr))
    return cudaErrorInvalidValue;
  if (type == DType::BF16 && weightType == DType::BF16)
    return launchTyped<__nv_bfloat16, __nv_bfloat16>(x, b, sum, weight, eps, out, stream);
  if (type == DType::F32 && weightType == DType::F32)
    return launchTyped<float, float>(x, b, sum, weight, eps, out, stream);
  if (type == DType::F32 && weightType == DType::BF16)
    return launchTyped<float, __nv_bfloat16>(x, b, sum, weight, eps, out, stream);
  return cudaErrorInvalidValue;
}

cudaError_t rmsNormBf16(const uint16_t* x, const uint16_t* weight, uint16_t* out, int64_t rows,
                        int64_t cols, float eps, cudaStream_t stream) {
  auto packed = [&](const void* data) {
    DeviceRows r;
    r.data = static_cast<std::byte*>(const_cast<void*>(data));
    r.rowsPerBatch = rows;
    r.rowStride = cols;
    r.batchStride = rows * cols;
    r.headDim = cols;
    return r;
  };
  return launchAddRmsNorm(DType::BF16, packed(x), nullptr, nullptr, DType::BF16, weight, eps,
                          packed(out), stream);
}

} // namespace fathom::cuda
