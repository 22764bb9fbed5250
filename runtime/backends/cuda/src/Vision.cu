// The SigLIP vision tower's kernels (layer_norm, gelu, patchify) and masked_scatter, which puts
// the image embeddings at the prompts' image tokens. Each follows runtime/backends/cpu/src/
// Vision.cpp's arithmetic with every product and sum rounded on its own (__fmul_rn,
// __fadd_rn: nvcc would otherwise fuse them into FMAs the CPU, built with -ffp-contract=off,
// does not have).
#include "DeviceNumeric.cuh"
#include "Launch.h"

namespace fathom::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kScanThreads = 1024;

unsigned blocksFor(int64_t count) {
  const int64_t blocks = (count + kThreads - 1) / kThreads;
  return unsigned(blocks < 65535 * 32 ? blocks : 65535 * 32);
}

// The sum over the block (kThreads threads), in every thread.
__device__ float blockSum(float value) {
  __shared__ float partial[kThreads / 32];
  __shared__ float total;
  value = warpSum(value);
  if (threadIdx.x % 32 == 0)
    partial[threadIdx.x / 32] = value;
  __syncthreads();
  if (threadIdx.x == 0) {
    float sum = 0.0f;
    for (int w = 0; w < kThreads / 32; ++w)
      sum = __fadd_rn(sum, partial[w]);
    total = sum;
  }
  __syncthreads();
  const float result = total;
  __syncthreads(); // partial and total are reused by the next call
  return result;
}

template <class T, class W>
__global__ void layerNormKernel(DeviceRows x, const W* weight, const W* bias, float eps,
                                DeviceRows out) {
  const int64_t r = blockIdx.x, dim = x.width();
  float sum = 0.0f;
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x)
    sum = __fadd_rn(sum, toFloat(*x.at<T>(r, i)));
  const float mean = __fdiv_rn(blockSum(sum), float(dim));
  float squares = 0.0f;
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) {
    const float d = __fsub_rn(toFloat(*x.at<T>(r, i)), mean);
    squares = __fadd_rn(squares, __fmul_rn(d, d));
  }
  const float variance = __fdiv_rn(blockSum(squares), float(dim));
  const float inverse = __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(variance, eps)));
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) {
    const float centered = __fsub_rn(toFloat(*x.at<T>(r, i)), mean);
    *out.at<T>(r, i) = fromFloat<T>(
        __fadd_rn(__fmul_rn(__fmul_rn(centered, inverse), toFloat(weight[i])), toFloat(bias[i])));
  }
}

__device__ inline float geluErf(float v) {
  constexpr float kSqrtHalf = float(0.70710678118654752440);
  return __fmul_rn(__fmul_rn(v, 0.5f), __fadd_rn(1.0f, erff(__fmul_rn(v, kSqrtHalf))));
}

__device__ inline float geluTanh(float v) {
  constexpr float kBeta = float(0.79788456080286535588); // sqrt(2 / pi)
  constexpr float kKappa = 0.044715f;
  const float cube = __fmul_rn(__fmul_rn(v, v), v);
  const float inner = __fmul_rn(kBeta, __fadd_rn(v, __fmul_rn(kKappa, cube)));
  return __fmul_rn(__fmul_rn(0.5f, v), __fadd_rn(1.0f, tanhf(inner)));
}

template <class T> __device__ inline T geluTanhUnfused(T value) {
  const float x = toFloat(value);
  const float cube = roundTo<T>(__fmul_rn(roundTo<T>(__fmul_rn(x, x)), x));
  const float inner = roundTo<T>(__fmul_rn(
      roundTo<T>(__fadd_rn(x, roundTo<T>(__fmul_rn(cube, 0.044715f)))), float(0.7978845608028654)));
  return fromFloat<T>(__fmul_rn(roundTo<T>(__fmul_rn(0.5f, x)),
                                roundTo<T>(__fadd_rn(1.0f, roundTo<T>(tanhf(inner))))));
}

template <class T> __global__ void geluKernel(const T* x, T* out, int64_t count, GeluForm form) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count;
       i += int64_t(gridDim.x) * blockDim.x) {
    switch (form) {
    case GeluForm::Erf:
      out[i] = fromFloat<T>(geluErf(toFloat(x[i])));
      break;
    case GeluForm::Tanh:
      out[i] = fromFloat<T>(geluTanh(toFloat(x[i])));
      break;
    case GeluForm::TanhUnfused:
      out[i] = geluTanhUnfused(x[i]);
      break;
    }
  }
}

template <class T>
__global__ void patchifyKernel(const float* images, int64_t n, int64_t channels, int64_t height,
                               int64_t width, int64_t patch, T* out) {
  const int64_t across = width / patch, patches = across * (height / patch);
  const int64_t values = channels * patch * patch, count = n * patches * values;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < count;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t row = e / values, v = e % values;
    const int64_t c = v / (patch * patch), y = (v / patch) % patch, column = v % patch;
    const int64_t image = row / patches, top = (row % patches) / across * patch,
                  left = (row % patches) % across * patch;
    out[e] =
        fromFloat<T>(images[((image * channels + c) * height + top + y) * width + left + column]);
  }
}

// One block: each thread counts the image tokens of its run of rows, thread 0 turns the counts
// into each run's first source row, and the threads number their runs' image tokens.
__global__ void numberImageTokensKernel(DeviceRows ids, int64_t tokenId, int64_t sourceRows,
                                        int64_t* slots, unsigned* error) {
  __shared__ int64_t firstSlot[kScanThreads];
  __shared__ bool mismatch;
  const int64_t rows = ids.rows(), run = (rows + kScanThreads - 1) / kScanThreads;
  const int64_t begin = threadIdx.x * run, end = begin + run < rows ? begin + run : rows;
  int64_t count = 0;
  for (int64_t r = begin; r < end; ++r)
    count += *ids.at<int64_t>(r, 0) == tokenId;
  firstSlot[threadIdx.x] = count;
  __syncthreads();
  if (threadIdx.x == 0) {
    int64_t total = 0;
    for (int t = 0; t < kScanThreads; ++t) {
      const int64_t here = firstSlot[t];
      firstSlot[t] = total;
      total += here;
    }
    mismatch = sourceRows > 0 && total != sourceRows;
    if (mismatch)
      atomicOr(error, unsigned(kImageRowsMismatch));
  }
  __syncthreads();
  int64_t next = firstSlot[threadIdx.x];
  for (int64_t r = begin; r < end; ++r)
    slots[r] = sourceRows > 0 && !mismatch && *ids.at<int64_t>(r, 0) == tokenId ? next++ : -1;
}

template <class T> __global__ void scatterRowsKernel(MaskedScatter a) {
  const int64_t width = a.x.width(), count = a.x.rows() * width;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / width, column = i % width, slot = a.slots[r];
    *a.out.at<T>(r, column) =
        slot >= 0 ? fromFloat<T>(a.source[slot * a.sourceStride + column]) : *a.x.at<T>(r, column);
  }
}

} // namespace

cudaError_t launchLayerNorm(DType type, const DeviceRows& x, DType weightType, const void* weight,
                            const void* bias, float eps, const DeviceRows& out,
                            cudaStream_t stream) {
  if (x.rows() == 0)
    return cudaSuccess;
  const unsigned blocks = unsigned(x.rows());
  if (type == DType::BF16)
    layerNormKernel<__nv_bfloat16, __nv_bfloat16>
        <<<blocks, kThreads, 0, stream>>>(x, static_cast<const __nv_bfloat16*>(weight),
                                          static_cast<const __nv_bfloat16*>(bias), eps, out);
  else if (weightType == DType::BF16)
    layerNormKernel<float, __nv_bfloat16>
        <<<blocks, kThreads, 0, stream>>>(x, static_cast<const __nv_bfloat16*>(weight),
                                          static_cast<const __nv_bfloat16*>(bias), eps, out);
  else
    layerNormKernel<float, float><<<blocks, kThreads, 0, stream>>>(
        x, static_cast<const float*>(weight), static_cast<const float*>(bias), eps, out);
  return cudaGetLastError();
}

cudaError_t launchGelu(DType type, const void* x, void* out, int64_t count, GeluForm form,
                       cudaStream_t stream) {
  if (count == 0)
    return cudaSuccess;
  if (type == DType::BF16)
    geluKernel<<<blocksFor(count), kThreads, 0, stream>>>(
        static_cast<const __nv_bfloat16*>(x), static_cast<__nv_bfloat16*>(out), count, form);
  else
    geluKernel<<<blocksFor(count), kThreads, 0, stream>>>(static_cast<const float*>(x),
                                                          static_cast<float*>(out), count, form);
  return cudaGetLastError();
}

cudaError_t launchPatchify(const float* images, int64_t n, int64_t channels, int64_t height,
                           int64_t width, int64_t patch, DType outType, void* out,
                           cudaStream_t stream) {
  const int64_t count = n * channels * height * width;
  if (count == 0)
    return cudaSuccess;
  if (outType == DType::BF16)
    patchifyKernel<<<blocksFor(count), kThreads, 0, stream>>>(
        images, n, channels, height, width, patch, static_cast<__nv_bfloat16*>(out));
  else
    patchifyKernel<<<blocksFor(count), kThreads, 0, stream>>>(images, n, channels, height, width,
                                                              patch, static_cast<float*>(out));
  return cudaGetLastError();
}

cudaError_t launchMaskedScatter(const MaskedScatter& a, unsigned* error, cudaStream_t stream) {
  const int64_t count = a.x.rows() * a.x.width();
  if (a.x.rows() == 0)
    return cudaSuccess;
  numberImageTokensKernel<<<1, kScanThreads, 0, stream>>>(a.ids, a.tokenId, a.sourceRows, a.slots,
                                                          error);
  if (a.type == DType::BF16)
    scatterRowsKernel<__nv_bfloat16><<<blocksFor(count), kThreads, 0, stream>>>(a);
  else
    scatterRowsKernel<float><<<blocksFor(count), kThreads, 0, stream>>>(a);
  return cudaGetLastError();
}

} // namespace fathom::cuda
