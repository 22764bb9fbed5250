// The W8A16 linear (FP8 weights on devices without FP8 math, and FP8 shapes the block GEMM does
// not take): each weight dequantized to the activation type, fp32 dot products, one rounding.
// One warp per output feature and group of rows; the weight row is read once per group.
#include "Launch.h"

#include <cuda_bf16.h>
#include <cuda_fp8.h>

namespace fathom::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;
constexpr int kRowsPerWarp = 8;

__device__ float toFloat(float v) {
  return v;
}
__device__ float toFloat(__nv_bfloat16 v) {
  return __bfloat162float(v);
}
__device__ void store(float* to, float v) {
  *to = v;
}
__device__ void store(__nv_bfloat16* to, float v) {
  *to = __float2bfloat16_rn(v);
}
__device__ float roundTo(float, float v) {
  return v;
}
__device__ float roundTo(__nv_bfloat16, float v) {
  return __bfloat162float(__float2bfloat16_rn(v));
}

__device__ float fp8ToFloat(uint8_t code) {
  __nv_fp8_e4m3 value;
  value.__x = code;
  return float(value);
}

template <class T> __global__ void dequantLinearKernel(DequantLinear a) {
  const int lane = threadIdx.x % 32;
  const int64_t o = int64_t(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  const int64_t firstRow = int64_t(blockIdx.y) * kRowsPerWarp;
  if (o >= a.out)
    return;
  const int64_t rows = a.rows - firstRow < kRowsPerWarp ? a.rows - firstRow : kRowsPerWarp;
  const int64_t blocksPerRow = (a.in + a.blockCols - 1) / a.blockCols;
  const float* scaleRow = a.scales + (o / a.blockRows) * blocksPerRow;
  const uint8_t* w = a.weight + o * a.in;
  const T* x = static_cast<const T*>(a.x) + firstRow * a.ldx;
  float acc[kRowsPerWarp] = {};
  for (int64_t k = lane; k < a.in; k += 32) {
    const float weight = roundTo(T{}, fp8ToFloat(w[k]) * scaleRow[k / a.blockCols]);
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r)
      if (r < rows)
        acc[r] += weight * toFloat(x[r * a.ldx + k]);
  }
  const float bias = !a.bias ? 0.0f
                             : (a.biasType == DType::BF16
                                    ? __bfloat162float(static_cast<const __nv_bfloat16*>(a.bias)[o])
                                    : static_cast<const float*>(a.bias)[o]);
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    float sum = acc[r];
    for (int offset = 16; offset > 0; offset /= 2)
      sum += __shfl_xor_sync(0xffffffffu, sum, offset);
    if (lane == 0 && r < rows)
      store(static_cast<T*>(a.y) + (firstRow + r) * a.ldy + o, sum + bias);
  }
}

} // namespace

cudaError_t launchDequantLinear(const DequantLinear& args, cudaStream_t stream) {
  if (args.rows == 0 || args.out == 0)
    return cudaSuccess;
  const dim3 grid(unsigned((args.out + kWarpsPerBlock - 1) / kWarpsPerBlock),
                  unsigned((args.rows + kRowsPerWarp - 1) / kRowsPerWarp));
  if (args.type == DType::BF16)
    dequantLinearKernel<__nv_bfloat16><<<grid, kWarpsPerBlock * 32, 0, stream>>>(args);
  else if (args.type == DType::F32)
    dequantLinearKernel<float><<<grid, kWarpsPerBlock * 32, 0, stream>>>(args);
  else
    return cudaErrorInvalidValue;
  return cudaGetLastError();
}

} // namespace fathom::cuda
