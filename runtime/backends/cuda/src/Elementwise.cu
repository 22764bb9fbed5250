// The elementwise and row-moving kernels: add, silu_mul, copy, select_rows, last_token_rows,
// embedding. One thread per element (or per row), over DeviceRows addressing.
#include "DeviceNumeric.cuh"
#include "Launch.h"

#include <cuda_bf16.h>

namespace fathom::cuda {
namespace {

constexpr int kThreads = 256;

unsigned blocksFor(int64_t count) {
  const int64_t blocks = (count + kThreads - 1) / kThreads;
  return unsigned(blocks < 65535 * 32 ? blocks : 65535 * 32);
}

template <class T>
__global__ void addKernel(DeviceRows a, DeviceRows b, DeviceRows out, int64_t width) {
  const int64_t count = a.rows() * width;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t row = i / width, col = i % width;
    *out.at<T>(row, col) = fromFloat<T>(toFloat(*a.at<T>(row, col)) + toFloat(*b.at<T>(row, col)));
  }
}

template <class T>
__global__ void siluMulKernel(DeviceRows gate, DeviceRows up, DeviceRows out, int64_t width) {
  const int64_t count = gate.rows() * width;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t row = i / width, col = i % width;
    const float g = toFloat(*gate.at<T>(row, col));
    // torch's silu, x / (1 + exp(-x)) in fp32, rounded to T before the product.
    const float activated = toFloat(fromFloat<T>(g / (1.0f + expf(-g))));
    *out.at<T>(row, col) = fromFloat<T>(activated * toFloat(*up.at<T>(row, col)));
  }
}

template <class E> __global__ void copyKernel(DeviceRows in, DeviceRows out, int64_t width) {
  const int64_t count = in.rows() * width;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count;
       i += int64_t(gridDim.x) * blockDim.x)
    *out.at<E>(i / width, i % width) = *in.at<E>(i / width, i % width);
}

template <class E>
__global__ void selectRowsKernel(DeviceRows in, const int64_t* rows, DeviceRows out, int64_t width,
                                 unsigned* error) {
  const int64_t count = out.rows() * width;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / width, col = i % width;
    const int64_t source = rows[r];
    if (source < 0 || source >= in.rows()) {
      if (col == 0)
        atomicOr(error, unsigned(kRowOutOfRange));
      continue;
    }
    *out.at<E>(r, col) = *in.at<E>(source, col);
  }
}

__global__ void lastTokenRowsKernel(DeviceRows ids, int64_t pad, int64_t* out) {
  const int64_t b = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (b >= ids.batches)
    return;
  int64_t last = 0;
  for (int64_t t = 0; t < ids.rowsPerBatch; ++t)
    if (*ids.at<int64_t>(b * ids.rowsPerBatch + t, 0) != pad)
      last = t;
  out[b] = b * ids.rowsPerBatch + last;
}

template <class In, class Out>
__global__ void embeddingKernel(const In* table, int64_t tableRows, int64_t width,
                                const int64_t* ids, int64_t count, Out* out, int64_t firstId,
                                int64_t vocabulary, unsigned* error) {
  const int64_t total = count * width;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t row = i / width, col = i % width;
    const int64_t id = ids[row];
    const int64_t local = id - firstId;
    if (id < 0 || id >= vocabulary) {
      if (col == 0)
        atomicOr(error, unsigned(kIdOutOfRange));
      out[i] = fromFloat<Out>(0.0f);
    } else if (local < 0 || local >= tableRows) {
      out[i] = fromFloat<Out>(0.0f); // another shard's id
    } else {
      out[i] = fromFloat<Out>(toFloat(table[local * width + col]));
    }
  }
}

// Runs body(T{}) for F32 (float) or BF16 (__nv_bfloat16).
template <class Body> cudaError_t withType(DType type, Body&& body) {
  if (type == DType::F32)
    return body(float{});
  if (type == DType::BF16)
    return body(__nv_bfloat16{});
  return cudaErrorInvalidValue;
}

template <class Body> cudaError_t withElementBytes(size_t bytes, Body&& body) {
  switch (bytes) {
  case 1:
    return body(uint8_t{});
  case 2:
    return body(uint16_t{});
  case 4:
    return body(uint32_t{});
  case 8:
    return body(uint64_t{});
  default:
    return cudaErrorInvalidValue;
  }
}

template <class From, class To>
__global__ void convertKernel(const From* in, To* out, int64_t count) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count;
       i += int64_t(gridDim.x) * blockDim.x)
    out[i] = fromFloat<To>(toFloat(in[i]));
}

} // namespace

cudaError_t launchAdd(DType type, const DeviceRows& a, const DeviceRows& b, const DeviceRows& out,
                      cudaStream_t stream) {
  const int64_t width = a.width();
  if (a.rows() * width == 0)
    return cudaSuccess;
  return withType(type, [&](auto tag) {
    addKernel<decltype(tag)>
        <<<blocksFor(a.rows() * width), kThreads, 0, stream>>>(a, b, out, width);
    return cudaGetLastError();
  });
}

cudaError_t launchSiluMul(DType type, const DeviceRows& gate, const DeviceRows& up,
                          const DeviceRows& out, cudaStream_t stream) {
  const int64_t width = gate.width();
  if (gate.rows() * width == 0)
    return cudaSuccess;
  return withType(type, [&](auto tag) {
    siluMulKernel<decltype(tag)>
        <<<blocksFor(gate.rows() * width), kThreads, 0, stream>>>(gate, up, out, width);
    return cudaGetLastError();
  });
}

cudaError_t launchCopy(size_t elementBytes, const DeviceRows& in, const DeviceRows& out,
                       cudaStream_t stream) {
  const int64_t width = in.width();
  if (in.rows() * width == 0)
    return cudaSuccess;
  return withElementBytes(elementBytes, [&](auto tag) {
    copyKernel<decltype(tag)>
        <<<blocksFor(in.rows() * width), kThreads, 0, stream>>>(in, out, width);
    return cudaGetLastError();
  });
}

cudaError_t launchSelectRows(size_t elementBytes, const DeviceRows& in, const int64_t* rows,
                             const DeviceRows& out, unsigned* error, cudaStream_t stream) {
  const int64_t width = out.width();
  if (out.rows() * width == 0)
    return cudaSuccess;
  return withElementBytes(elementBytes, [&](auto tag) {
    selectRowsKernel<decltype(tag)>
        <<<blocksFor(out.rows() * width), kThreads, 0, stream>>>(in, rows, out, width, error);
    return cudaGetLastError();
  });
}

cudaError_t launchLastTokenRows(const DeviceRows& ids, int64_t pad, int64_t* out,
                                cudaStream_t stream) {
  if (ids.batches == 0)
    return cudaSuccess;
  lastTokenRowsKernel<<<blocksFor(ids.batches), kThreads, 0, stream>>>(ids, pad, out);
  return cudaGetLastError();
}

cudaError_t launchEmbedding(DType tableType, const void* table, int64_t tableRows, int64_t width,
                            const int64_t* ids, int64_t count, DType outType, void* out,
                            int64_t firstId, int64_t vocabulary, unsigned* error,
                            cudaStream_t stream) {
  if (count * width == 0)
    return cudaSuccess;
  return withType(tableType, [&](auto tableTag) {
    using In = decltype(tableTag);
    return withType(outType, [&](auto outTag) {
      using Out = decltype(outTag);
      embeddingKernel<In, Out><<<blocksFor(count * width), kThreads, 0, stream>>>(
          static_cast<const In*>(table), tableRows, width, ids, count, static_cast<Out*>(out),
          firstId, vocabulary, error);
      return cudaGetLastError();
    });
  });
}

cudaError_t launchConvert(DType from, const void* in, DType to, void* out, int64_t count,
                          cudaStream_t stream) {
  if (count == 0)
    return cudaSuccess;
  using Bf16 = __nv_bfloat16;
  if (from == DType::BF16 && to == DType::F32)
    convertKernel<<<blocksFor(count), kThreads, 0, stream>>>(static_cast<const Bf16*>(in),
                                                             static_cast<float*>(out), count);
  else if (from == DType::F32 && to == DType::BF16)
    convertKernel<<<blocksFor(count), kThreads, 0, stream>>>(static_cast<const float*>(in),
                                                             static_cast<Bf16*>(out), count);
  else
    return cudaErrorInvalidValue;
  return cudaGetLastError();
}

} // namespace fathom::cuda
