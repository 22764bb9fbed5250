#pragma once
// Device code's conversions between fp32 and the activation types (F32, BF16), FP8 E4M3
// decoding and the warp sum, shared by the kernels' .cu files.
#include <cuda_bf16.h>
#include <cuda_fp8.h>

#include <cstdint>

namespace fathom::cuda {

__device__ inline float toFloat(float v) {
  return v;
}
__device__ inline float toFloat(__nv_bfloat16 v) {
  return __bfloat162float(v);
}
template <class T> __device__ inline T fromFloat(float v);
template <> __device__ inline float fromFloat<float>(float v) {
  return v;
}
template <> __device__ inline __nv_bfloat16 fromFloat<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}
// v rounded to T (nearest even) and widened again: a rounding point of HF's arithmetic.
template <class T> __device__ inline float roundTo(float v) {
  return toFloat(fromFloat<T>(v));
}
template <class T> __device__ inline void store(T* to, float v) {
  *to = fromFloat<T>(v);
}

__device__ inline float decodeE4m3(uint8_t code) {
  __nv_fp8_e4m3 value;
  value.__x = code;
  return float(value);
}

// The sum over the warp's lanes, in every lane.
__device__ inline float warpSum(float value) {
  for (int offset = 16; offset > 0; offset /= 2)
    value += __shfl_xor_sync(0xffffffffu, value, offset);
  return value;
}

} // namespace fathom::cuda
