// linear_fp8 (sm_90a artifacts): DeepSeek's W8A8 block recipe. Each row of x is quantized per
// 128 columns to E4M3 (scale = amax / 448, 1 where amax is 0; q = x / scale, nearest even,
// saturating), then y[r, o] = sum over 128-wide k blocks of (q_x . q_w) * s_x[r, kb] *
// s_w[o / 128, kb], rounded once to y's type. Decoded to fp32 products here, the reference
// form; on Hopper the backend hands the same sum to cuBLASLt's block-scaled FP8 GEMM
// (LinearFp8Blas.cpp), which takes the activation scales block-major.
#include "DeviceNumeric.cuh"
#include "Launch.h"

#include <cuda_bf16.h>
#include <cuda_fp8.h>

namespace fathom::cuda {
namespace {

constexpr int kBlock = 128;
constexpr int kWarpsPerBlock = 8;
constexpr int kRowsPerWarp = 8;

// One block of 128 threads per (row, k block): grid (rows, in / 128). The scales row-major
// [rows, in / 128], or block-major [in / 128, rows] (cuBLASLt's VEC128 layout).
template <class T> __global__ void quantizeKernel(Fp8BlockLinear a, bool scalesByBlock) {
  __shared__ float warpMax[kBlock / 32];
  const int64_t r = blockIdx.x, kb = blockIdx.y, k = kb * kBlock + threadIdx.x;
  const float x = toFloat(static_cast<const T*>(a.x)[r * a.ldx + k]);
  float amax = fabsf(x);
  for (int offset = 16; offset > 0; offset /= 2)
    amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, offset));
  if (threadIdx.x % 32 == 0)
    warpMax[threadIdx.x / 32] = amax;
  __syncthreads();
  amax = fmaxf(fmaxf(warpMax[0], warpMax[1]), fmaxf(warpMax[2], warpMax[3]));
  const float scale = amax > 0.0f ? amax / 448.0f : 1.0f;
  a.xCodes[r * a.in + k] = __nv_fp8_e4m3(x / scale).__x;
  if (threadIdx.x == 0)
    a.xScales[scalesByBlock ? kb * a.rows + r : r * (a.in / kBlock) + kb] = scale;
}

template <class T> __global__ void blockGemmKernel(Fp8BlockLinear a) {
  const int lane = threadIdx.x % 32;
  const int64_t o = int64_t(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  if (o >= a.out)
    return;
  const int64_t blocks = a.in / kBlock;
  const uint8_t* w = a.weight + o * a.in;
  const float* wScales = a.scales + (o / kBlock) * blocks;
  const float bias = !a.bias ? 0.0f
                             : (a.biasType == DType::BF16
                                    ? __bfloat162float(static_cast<const __nv_bfloat16*>(a.bias)[o])
                                    : static_cast<const float*>(a.bias)[o]);
  const int64_t first = int64_t(blockIdx.y) * kRowsPerWarp;
  for (int64_t r = first; r < min(a.rows, first + kRowsPerWarp); ++r) {
    const uint8_t* x = a.xCodes + r * a.in;
    float acc = 0.0f;
    for (int64_t kb = 0; kb < blocks; ++kb) {
      float partial = 0.0f;
      for (int64_t k = kb * kBlock + lane; k < (kb + 1) * kBlock; k += 32)
        partial += decodeE4m3(x[k]) * decodeE4m3(w[k]);
      partial = warpSum(partial);
      acc += partial * a.xScales[r * blocks + kb] * wScales[kb];
    }
    if (lane == 0)
      store(static_cast<T*>(a.y) + r * a.ldy + o, acc + bias);
  }
}

template <class T>
cudaError_t launchQuantize(const Fp8BlockLinear& a, bool scalesByBlock, cudaStream_t stream) {
  quantizeKernel<T>
      <<<dim3(unsigned(a.rows), unsigned(a.in / kBlock)), kBlock, 0, stream>>>(a, scalesByBlock);
  return cudaGetLastError();
}

template <class T> cudaError_t launchTyped(const Fp8BlockLinear& a, cudaStream_t stream) {
  if (cudaError_t status = launchQuantize<T>(a, false, stream); status != cudaSuccess)
    return status;
  const dim3 grid(unsigned((a.out + kWarpsPerBlock - 1) / kWarpsPerBlock),
                  unsigned((a.rows + kRowsPerWarp - 1) / kRowsPerWarp));
  blockGemmKernel<T><<<grid, kWarpsPerBlock * 32, 0, stream>>>(a);
  return cudaGetLastError();
}

} // namespace

cudaError_t launchFp8Quantize(const Fp8BlockLinear& args, bool scalesByBlock, cudaStream_t stream) {
  if (args.rows == 0)
    return cudaSuccess;
  if (args.in % kBlock != 0)
    return cudaErrorInvalidValue;
  if (args.type == DType::BF16)
    return launchQuantize<__nv_bfloat16>(args, scalesByBlock, stream);
  if (args.type == DType::F32)
    return launchQuantize<float>(args, scalesByBlock, stream);
  return cudaErrorInvalidValue;
}

cudaError_t launchFp8BlockLinear(const Fp8BlockLinear& args, cudaStream_t stream) {
  if (args.rows == 0 || args.out == 0)
    return cudaSuccess;
  if (args.in % kBlock != 0 || args.blockRows != kBlock || args.blockCols != kBlock)
    return cudaErrorInvalidValue;
  if (args.type == DType::BF16)
    return launchTyped<__nv_bfloat16>(args, stream);
  if (args.type == DType::F32)
    return launchTyped<float>(args, stream);
  return cudaErrorInvalidValue;
}

} // namespace fathom::cuda
