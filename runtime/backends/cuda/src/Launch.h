#pragma once
// Host entry points of the device kernels (the .cu files): each checks nothing the table entry
// (src/*Kernels.cpp) has not already checked, enqueues on `stream` and returns the launch
// status. Activations are F32 or BF16; DeviceRows give every operand's addressing.
#include "DeviceRows.h"
#include "fathom/runtime/DType.h"

#include <cuda_runtime_api.h>

namespace fathom::cuda {

// out = a + b, one rounding to the type (the residual add).
cudaError_t launchAdd(DType type, const DeviceRows& a, const DeviceRows& b, const DeviceRows& out,
                      cudaStream_t stream);
// out = round(round(silu(gate)) * up) (HF's act_fn(gate) * up).
cudaError_t launchSiluMul(DType type, const DeviceRows& gate, const DeviceRows& up,
                          const DeviceRows& out, cudaStream_t stream);
// Copies elements of `elementBytes` from in's rows and heads to out's (same rows and width).
cudaError_t launchCopy(size_t elementBytes, const DeviceRows& in, const DeviceRows& out,
                       cudaStream_t stream);
// out[i] = in[rows[i]] (flat row indices); an index outside in's rows sets kRowOutOfRange and
// leaves that output row as it was.
cudaError_t launchSelectRows(size_t elementBytes, const DeviceRows& in, const int64_t* rows,
                             const DeviceRows& out, unsigned* error, cudaStream_t stream);
// out[b] = b * tokens + the last t whose id is not `pad` (0 when none).
cudaError_t launchLastTokenRows(const DeviceRows& ids, int64_t pad, int64_t* out,
                                cudaStream_t stream);
// out[i] = table[ids[i] - firstId] converted to outType; ids of another vocabulary shard give
// zeros; ids outside [0, vocabulary) set kIdOutOfRange and give zeros.
cudaError_t launchEmbedding(DType tableType, const void* table, int64_t tableRows, int64_t width,
                            const int64_t* ids, int64_t count, DType outType, void* out,
                            int64_t firstId, int64_t vocabulary, unsigned* error,
                            cudaStream_t stream);
// HF RMSNorm of x (or, with b, of sum = x + b, which is also stored): fp32 statistics,
// inverse = 1 / sqrt(mean(x^2) + eps); in bf16 the normalized row is rounded before the weight
// multiplies it.
cudaError_t launchAddRmsNorm(DType type, const DeviceRows& x, const DeviceRows* b,
                             const DeviceRows* sum, DType weightType, const void* weight, float eps,
                             const DeviceRows& out, cudaStream_t stream);

// y[rows, out] = x W^T (+ bias) with W FP8 E4M3 in blockRows x blockCols blocks of fp32
// scales, each weight dequantized to the activation type (round(code * scale)) before an fp32
// dot product; the output rounded once. x, y: F32 or BF16 rows.
struct DequantLinear {
  DType type = DType::BF16; // x and y
  const void* x = nullptr;
  int64_t ldx = 0;
  void* y = nullptr;
  int64_t ldy = 0;
  int64_t rows = 0, in = 0, out = 0;
  const uint8_t* weight = nullptr;
  const float* scales = nullptr;
  int64_t blockRows = 0, blockCols = 0;
  DType biasType = DType::F32;
  const void* bias = nullptr; // null: none
};
cudaError_t launchDequantLinear(const DequantLinear& args, cudaStream_t stream);

} // namespace fathom::cuda
