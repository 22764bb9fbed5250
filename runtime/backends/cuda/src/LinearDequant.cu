// The W8A16 linear (FP8 weights on devices without FP8 math, and FP8 shapes the block GEMM does
// not take): each weight dequantized to the activation type, fp32 dot products, one rounding.
// One warp per output feature and group of rows; the weight row is read once per group.
#include "DeviceNumeric.cuh"
#include "Launch.h"

#include <cuda_bf16.h>
#include <cuda_fp8.h>

namespace fathom::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;
constexpr int kRowsPerWarp = 8;

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
    const float weight = roundTo<T>(decodeE4m3(w[k]) * scaleRow[k / a.blockCols]);
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
    const float sum = warpSum(acc[r]);
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
