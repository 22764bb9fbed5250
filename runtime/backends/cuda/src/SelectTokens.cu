// Next-token choice on the device with the host sampler's arithmetic (runtime/backends/cpu/src/
// Sampling.cpp): argmax (first maximum); or logits / temperature in fp32, top-k's k-th largest
// found by a radix select over the row, top-p over the survivors sorted ascending (softmax
// with a double sum in that order, running sums in double compared as fp32), and the draw:
// softmax in index order, the first token whose running probability passes u * total. exp is
// computed in double and rounded to fp32, which is glibc expf's result. The survivors are few
// (k plus ties), so one thread walks them in order, as the host does.
#include "DeviceNumeric.cuh"
#include "Launch.h"

#include <cstdint>
#include <math_constants.h>

namespace fathom::cuda {
namespace {

constexpr int kThreads = 1024;
constexpr int kCandidates = int(kMaxDeviceCandidates);
static_assert((kCandidates & (kCandidates - 1)) == 0, "bitonic sort needs a power of two");

struct Candidate {
  float value;
  int32_t index;
};

template <class T> struct Row {
  const T* data;
  float temperature;
  __device__ float operator[](int64_t i) const {
    const float v = toFloat(data[i]);
    return temperature != 1.0f ? v / temperature : v;
  }
};

// An order-preserving unsigned key of a float that is not NaN.
__device__ inline unsigned orderedKey(float f) {
  const unsigned u = __float_as_uint(f);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
__device__ inline float fromOrderedKey(unsigned key) {
  return __uint_as_float((key & 0x80000000u) ? (key & 0x7fffffffu) : ~key);
}

__device__ inline float expLikeHost(float x) {
  return float(exp(double(x)));
}

__device__ inline bool byValue(const Candidate& a, const Candidate& b) {
  return a.value < b.value || (a.value == b.value && a.index < b.index);
}
__device__ inline bool byIndex(const Candidate& a, const Candidate& b) {
  return a.index < b.index;
}

template <bool (*Less)(const Candidate&, const Candidate&)>
__device__ void bitonicSort(Candidate* c) {
  for (int k = 2; k <= kCandidates; k <<= 1)
    for (int j = k >> 1; j > 0; j >>= 1) {
      for (int i = threadIdx.x; i < kCandidates; i += blockDim.x) {
        const int partner = i ^ j;
        if (partner <= i)
          continue;
        const bool ascending = (i & k) == 0;
        if (ascending ? Less(c[partner], c[i]) : Less(c[i], c[partner])) {
          const Candidate t = c[i];
          c[i] = c[partner];
          c[partner] = t;
        }
      }
      __syncthreads();
    }
}

template <class T> __global__ void selectTokensKernel(SelectTokens a) {
  __shared__ Candidate candidates[kCandidates];
  __shared__ unsigned histogram[256];
  __shared__ unsigned long long firstNonFinite;
  __shared__ float bestValue[kThreads / 32];
  __shared__ int64_t bestIndex[kThreads / 32];
  __shared__ unsigned prefix, survivors;
  __shared__ int64_t remaining;

  const int64_t r = blockIdx.x, n = a.n;
  const T* data = static_cast<const T*>(a.logits) + r * a.rowStride;
  DeviceChoice* out = a.out + r;
  const int tid = threadIdx.x;
  if (tid == 0)
    firstNonFinite = ~0ull;
  __syncthreads();

  // NaN or +inf anywhere (the first one), and the first maximum.
  float best = -CUDART_INF_F;
  int64_t bestAt = -1;
  for (int64_t i = tid; i < n; i += blockDim.x) {
    const float v = toFloat(data[i]);
    if (isnan(v) || v == CUDART_INF_F) {
      atomicMin(&firstNonFinite, (unsigned long long)i);
      break; // later entries of this thread are past it
    }
    if (bestAt < 0 || v > best)
      best = v, bestAt = i;
  }
  for (int offset = 16; offset > 0; offset /= 2) {
    const float otherValue = __shfl_down_sync(0xffffffffu, best, offset);
    const int64_t otherAt = __shfl_down_sync(0xffffffffu, bestAt, offset);
    if (otherAt >= 0 &&
        (bestAt < 0 || otherValue > best || (otherValue == best && otherAt < bestAt)))
      best = otherValue, bestAt = otherAt;
  }
  if (tid % 32 == 0)
    bestValue[tid / 32] = best, bestIndex[tid / 32] = bestAt;
  __syncthreads();
  if (firstNonFinite != ~0ull) {
    if (tid == 0) {
      const int64_t at = int64_t(firstNonFinite);
      out->token = -1;
      out->nonFinite = at;
      out->nan = isnan(toFloat(data[at])) ? 1 : 0;
    }
    return;
  }
  if (!a.sample) {
    if (tid == 0) {
      for (int w = 1; w < int(blockDim.x / 32); ++w)
        if (bestIndex[w] >= 0 && (bestIndex[0] < 0 || bestValue[w] > bestValue[0] ||
                                  (bestValue[w] == bestValue[0] && bestIndex[w] < bestIndex[0])))
          bestValue[0] = bestValue[w], bestIndex[0] = bestIndex[w];
      out->token = bestIndex[0] < 0 ? 0 : bestIndex[0];
      out->nonFinite = -1;
      out->nan = 0;
    }
    return;
  }

  // Top-k: the k-th largest tempered value, eight bits of its key at a time.
  const Row<T> row{data, a.temperature};
  if (tid == 0)
    prefix = 0, remaining = a.k;
  unsigned mask = 0;
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (int i = tid; i < 256; i += blockDim.x)
      histogram[i] = 0;
    __syncthreads();
    const unsigned wanted = prefix;
    for (int64_t i = tid; i < n; i += blockDim.x) {
      const unsigned key = orderedKey(row[i]);
      if ((key & mask) == wanted)
        atomicAdd(&histogram[(key >> shift) & 255u], 1u);
    }
    __syncthreads();
    if (tid == 0) {
      int64_t above = 0;
      for (int digit = 255; digit >= 0; --digit) {
        if (above + histogram[digit] >= remaining) {
          remaining -= above;
          prefix |= unsigned(digit) << shift;
          break;
        }
        above += histogram[digit];
      }
    }
    mask |= 255u << shift;
    __syncthreads();
  }
  const float kth = fromOrderedKey(prefix);

  // The survivors, then top-p over them in ascending order.
  if (tid == 0)
    survivors = 0;
  for (int i = tid; i < kCandidates; i += blockDim.x)
    candidates[i] = {CUDART_INF_F, INT32_MAX};
  __syncthreads();
  for (int64_t i = tid; i < n; i += blockDim.x) {
    const float v = row[i];
    if (!(v < kth)) {
      const unsigned slot = atomicAdd(&survivors, 1u);
      if (slot < unsigned(kCandidates))
        candidates[slot] = {v, int32_t(i)};
    }
  }
  __syncthreads();
  const int count = int(survivors);
  if (count > kCandidates) {
    if (tid == 0)
      out->token = kChoiceOnHost, out->nonFinite = -1, out->nan = 0;
    return;
  }
  if (a.topP < 1.0) {
    bitonicSort<byValue>(candidates);
    if (tid == 0) {
      const float max = candidates[count - 1].value;
      double sum = 0;
      for (int j = 0; j < count; ++j)
        sum += double(expLikeHost(candidates[j].value - max));
      const float inverse = 1.0f / float(sum);
      const float threshold = float(1.0 - a.topP);
      // Survivor j sits at n - count + j of the host's sorted row; the last minKeep stay.
      const int64_t keepFrom = n - a.minKeep > 0 ? n - a.minKeep : 0;
      double running = 0;
      for (int j = 0; j < count && n - count + j < keepFrom; ++j) {
        running += double(expLikeHost(candidates[j].value - max) * inverse);
        if (float(running) <= threshold)
          candidates[j].value = -CUDART_INF_F;
      }
    }
    __syncthreads();
  }
  bitonicSort<byIndex>(candidates);

  // The draw, in index order.
  if (tid == 0) {
    float max = -CUDART_INF_F;
    for (int j = 0; j < count; ++j)
      max = fmaxf(max, candidates[j].value);
    double sum = 0;
    for (int j = 0; j < count; ++j)
      sum += double(expLikeHost(candidates[j].value - max));
    const float inverse = 1.0f / float(sum);
    double total = 0;
    for (int j = 0; j < count; ++j)
      total += double(expLikeHost(candidates[j].value - max) * inverse);
    const double target = a.uniforms[r] * total;
    double running = 0;
    int64_t token = kChoiceOnHost, lastPositive = kChoiceOnHost;
    for (int j = 0; j < count; ++j) {
      const float p = expLikeHost(candidates[j].value - max) * inverse;
      if (!(p > 0.0f))
        continue;
      lastPositive = candidates[j].index;
      running += double(p);
      if (running > target) {
        token = candidates[j].index;
        break;
      }
    }
    out->token = token != kChoiceOnHost ? token : lastPositive;
    out->nonFinite = -1;
    out->nan = 0;
  }
}

} // namespace

cudaError_t launchSelectTokens(const SelectTokens& a, cudaStream_t stream) {
  if (a.rows == 0)
    return cudaSuccess;
  if (a.type == DType::BF16)
    selectTokensKernel<__nv_bfloat16><<<unsigned(a.rows), kThreads, 0, stream>>>(a);
  else
    selectTokensKernel<float><<<unsigned(a.rows), kThreads, 0, stream>>>(a);
  return cudaGetLastError();
}

} // namespace fathom::cuda
