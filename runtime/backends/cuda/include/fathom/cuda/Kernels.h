#pragma once
// Host entry points of the CUDA backend. Plain C++ header: callers need no nvcc.
#include <cstdint>
#include <string>

#include <cuda_runtime_api.h>

namespace fathom::cuda {

// True when a usable CUDA device is present. Otherwise `reason` says why (no driver, no device,
// ...). Any cudaGetDeviceCount error means "no device": without a driver it returns
// cudaErrorInsufficientDriver, not cudaErrorNoDevice.
bool deviceAvailable(std::string& reason);

// RMSNorm over the last dimension with HF's bf16 rounding points:
// y = bf16(x_f32 * rsqrt(mean(x_f32^2) + eps)); out = bf16(weight * y).
// x, out: [rows, cols] bf16 (raw bits); weight: [cols] bf16.
cudaError_t rmsNormBf16(const uint16_t* x, const uint16_t* weight, uint16_t* out, int64_t rows,
                        int64_t cols, float eps, cudaStream_t stream);

} // namespace fathom::cuda
