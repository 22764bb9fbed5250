// The mixture-of-experts kernels: routing, dispatch (a stable counting sort by expert), row
// gather, the grouped expert GEMM (gated with SiLU*mul fused) and the weighted combine, with
// the CPU kernels' arithmetic (MoeRouter.cpp, MoeCombine.cpp, GroupedLinear.cpp).
#include "DeviceNumeric.cuh"
#include "Launch.h"

#include <cuda_bf16.h>
#include <cuda_fp8.h>

namespace fathom::cuda {
namespace {

// torch's order for top-k: NaN first, then larger; ties to the lower index.
__device__ bool ranksAbove(float a, int64_t ia, float b, int64_t ib) {
  const bool an = isnan(a), bn = isnan(b);
  if (an != bn)
    return an;
  if (a != b && !an)
    return a > b;
  return ia < ib;
}

// The k best of x[0, n) into chosen[0, k), best first; `taken` is scratch of n flags.
__device__ void topK(const float* x, int64_t n, int64_t k, bool* taken, int64_t* chosen) {
  for (int64_t i = 0; i < n; ++i)
    taken[i] = false;
  for (int64_t s = 0; s < k; ++s) {
    int64_t best = -1;
    for (int64_t i = 0; i < n; ++i)
      if (!taken[i] && (best < 0 || ranksAbove(x[i], i, x[best], best)))
        best = i;
    taken[best] = true;
    chosen[s] = best;
  }
}

// Keeps the experts of the topkGroup best groups (by groupScores).
__device__ void keepBestGroups(const MoeRoute& r, const float* groupScores, bool* taken,
                               bool* kept) {
  int64_t best[kMaxRoutedExperts];
  topK(groupScores, r.groups, r.topkGroup, taken, best);
  const int64_t size = r.experts / r.groups;
  for (int64_t e = 0; e < r.experts; ++e)
    kept[e] = false;
  for (int64_t g = 0; g < r.topkGroup; ++g)
    for (int64_t e = best[g] * size; e < (best[g] + 1) * size; ++e)
      kept[e] = true;
}

__global__ void moeRouteKernel(MoeRoute r) {
  const int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (t >= r.tokens)
    return;
  float scores[kMaxRoutedExperts], choice[kMaxRoutedExperts], groupScores[kMaxRoutedExperts];
  bool taken[kMaxRoutedExperts], kept[kMaxRoutedExperts];
  int64_t chosen[kMaxRoutedExperts];
  float weights[kMaxRoutedExperts];
  const float* logits = r.logits + t * r.experts;
  const int64_t groupSize = r.experts / (r.groups > 0 ? r.groups : 1);
  if (r.method == RouterMethod::SigmoidGroupTop2) {
    for (int64_t e = 0; e < r.experts; ++e) {
      scores[e] = 1.0f / (1.0f + expf(-logits[e]));
      choice[e] = scores[e] + r.bias[e];
    }
    for (int64_t g = 0; g < r.groups; ++g) {
      int64_t top2[2];
      topK(choice + g * groupSize, groupSize, 2, taken, top2);
      groupScores[g] = choice[g * groupSize + top2[0]] + choice[g * groupSize + top2[1]];
    }
    keepBestGroups(r, groupScores, taken, kept);
    for (int64_t e = 0; e < r.experts; ++e)
      choice[e] = kept[e] ? choice[e] : -__int_as_float(0x7f800000);
    topK(choice, r.experts, r.topK, taken, chosen);
    for (int64_t k = 0; k < r.topK; ++k)
      weights[k] = scores[chosen[k]]; // the unbiased score
  } else {
    float max = -__int_as_float(0x7f800000);
    bool sawNan = false;
    for (int64_t e = 0; e < r.experts; ++e) {
      sawNan |= isnan(logits[e]);
      max = logits[e] > max ? logits[e] : max;
    }
    if (sawNan)
      max = __int_as_float(0x7fc00000);
    double sum = 0;
    for (int64_t e = 0; e < r.experts; ++e) {
      scores[e] = expf(logits[e] - max);
      sum += scores[e];
    }
    const float inverse = 1.0f / float(sum);
    for (int64_t e = 0; e < r.experts; ++e)
      scores[e] *= inverse;
    if (r.method == RouterMethod::SoftmaxGroupMax) {
      for (int64_t g = 0; g < r.groups; ++g) {
        const float* group = scores + g * groupSize;
        float best = group[0];
        for (int64_t i = 1; i < groupSize; ++i)
          best = (isnan(group[i]) || group[i] > best) ? group[i] : best;
        groupScores[g] = best;
      }
      keepBestGroups(r, groupScores, taken, kept);
      for (int64_t e = 0; e < r.experts; ++e)
        scores[e] = kept[e] ? scores[e] : 0.0f;
    }
    topK(scores, r.experts, r.topK, taken, chosen);
    for (int64_t k = 0; k < r.topK; ++k)
      weights[k] = scores[chosen[k]];
  }
  if (r.normTopkProb) {
    float denominator = 0.0f;
    for (int64_t k = 0; k < r.topK; ++k)
      denominator += weights[k];
    denominator += 1e-20f;
    for (int64_t k = 0; k < r.topK; ++k)
      weights[k] /= denominator;
  }
  for (int64_t k = 0; k < r.topK; ++k) {
    r.indices[t * r.topK + k] = int32_t(chosen[k]);
    r.weights[t * r.topK + k] = weights[k] * r.scaling;
  }
}

constexpr int kDispatchThreads = 256;
constexpr int64_t kMaxDispatchExperts = 4096;

// One block: counts by atomics, then thread 0 places the pairs in order (stable, as the CPU's
// counting sort).
__global__ void moeDispatchKernel(MoeDispatch d, unsigned* error) {
  __shared__ int32_t next[kMaxDispatchExperts + 1];
  for (int64_t e = threadIdx.x; e <= d.experts; e += blockDim.x)
    next[e] = 0;
  __syncthreads();
  for (int64_t i = threadIdx.x; i < d.pairs; i += blockDim.x) {
    const int64_t id = d.indices[i];
    if (id < 0 || id >= d.totalExperts)
      atomicOr(error, unsigned(kExpertOutOfRange));
    const int64_t e = id - d.firstExpert;
    if (e >= 0 && e < d.experts)
      atomicAdd(&next[e + 1], 1);
  }
  __syncthreads();
  if (threadIdx.x != 0)
    return;
  for (int64_t e = 0; e < d.experts; ++e)
    next[e + 1] += next[e];
  for (int64_t e = 0; e <= d.experts; ++e)
    d.offsets[e] = next[e];
  for (int64_t i = 0; i < d.pairs; ++i) {
    const int64_t e = int64_t(d.indices[i]) - d.firstExpert;
    if (e < 0 || e >= d.experts) {
      d.slotRow[i] = -1;
      continue;
    }
    const int32_t row = next[e]++;
    d.rowToken[row] = int32_t(i / d.topK);
    d.slotRow[i] = row;
  }
  for (int64_t row = next[d.experts]; row < d.pairs; ++row)
    d.rowToken[row] = 0;
}

template <class E>
__global__ void gatherRowsKernel(const std::byte* x, int64_t ldx, int64_t xRows,
                                 const int32_t* rows, int64_t count, int64_t width, std::byte* out,
                                 int64_t ldOut, unsigned* error) {
  const int64_t total = count * width;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / width, c = i % width;
    const int64_t source = rows[r];
    if (source < 0 || source >= xRows) {
      if (c == 0)
        atomicOr(error, unsigned(kRowOutOfRange));
      continue;
    }
    reinterpret_cast<E*>(out)[r * ldOut + c] = reinterpret_cast<const E*>(x)[source * ldx + c];
  }
}

constexpr int kWarpsPerBlock = 8;
constexpr int kRowsPerWarp = 8;

// Weight element k of row `row` of matrix m, dequantized to the activation type T.
template <class T, class W>
__device__ float weightAt(const GroupedLinear& g, int64_t m, int64_t row, int64_t k) {
  const int64_t element = (m * g.out + row) * g.in + k;
  if constexpr (sizeof(W) == 1) {
    const float code = decodeE4m3(static_cast<const uint8_t*>(g.weight)[element]);
    const int64_t gridRows = (g.out + g.blockRows - 1) / g.blockRows;
    const int64_t gridCols = (g.in + g.blockCols - 1) / g.blockCols;
    const float scale = g.scales[(m * gridRows + row / g.blockRows) * gridCols + k / g.blockCols];
    return roundTo<T>(code * scale);
  } else {
    return toFloat(static_cast<const W*>(g.weight)[element]);
  }
}

__device__ float silu(float g) {
  return g / (1.0f + expf(-g));
}

// One warp per output feature and group of rows; each row finds its expert in the offsets.
template <class T, class W> __global__ void groupedLinearKernel(GroupedLinear g, unsigned* error) {
  const int lane = threadIdx.x % 32;
  const int64_t o = int64_t(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  if (blockIdx.x == 0 && blockIdx.y == 0 && threadIdx.x == 0) {
    bool ascending = g.offsets[0] == 0 && g.offsets[g.experts] <= g.rows;
    for (int64_t e = 0; ascending && e < g.experts; ++e)
      ascending = g.offsets[e] <= g.offsets[e + 1];
    if (!ascending)
      atomicOr(error, unsigned(kBadExpertRanges));
  }
  if (o >= g.out)
    return;
  const int64_t used = min(int64_t(g.offsets[g.experts]), g.rows);
  for (int64_t r = int64_t(blockIdx.y) * kRowsPerWarp;
       r < min(used, int64_t(blockIdx.y + 1) * kRowsPerWarp); ++r) {
    int64_t low = 0, high = g.experts - 1; // the expert whose range holds row r
    while (low < high) {
      const int64_t mid = (low + high + 1) / 2;
      if (g.offsets[mid] <= r)
        low = mid;
      else
        high = mid - 1;
    }
    const T* x = static_cast<const T*>(g.x) + r * g.ldx;
    const int64_t m = low * (g.gated ? 2 : 1);
    float gate = 0.0f, up = 0.0f;
    for (int64_t k = lane; k < g.in; k += 32) {
      const float value = toFloat(x[k]);
      gate += value * weightAt<T, W>(g, m, o, k);
      if (g.gated)
        up += value * weightAt<T, W>(g, m + 1, o, k);
    }
    gate = warpSum(gate);
    up = warpSum(up);
    if (lane != 0)
      continue;
    T* y = static_cast<T*>(g.y) + r * g.ldy + o;
    if (!g.gated) {
      *y = fromFloat<T>(gate);
    } else {
      const float activated = roundTo<T>(silu(roundTo<T>(gate)));
      *y = fromFloat<T>(activated * roundTo<T>(up));
    }
  }
}

// One block per token, threads over the hidden columns.
template <class T> __global__ void moeCombineKernel(MoeCombine c, unsigned* error) {
  __shared__ int64_t order[kMaxCombineTopK];
  const int64_t t = blockIdx.x;
  if (threadIdx.x == 0) {
    for (int64_t k = 0; k < c.topK; ++k)
      order[k] = k;
    if (c.eagerOrder) // by expert id, as the eager loop visits experts
      for (int64_t a = 1; a < c.topK; ++a)
        for (int64_t b = a;
             b > 0 && c.indices[t * c.topK + order[b]] < c.indices[t * c.topK + order[b - 1]];
             --b) {
          const int64_t swap = order[b];
          order[b] = order[b - 1];
          order[b - 1] = swap;
        }
    for (int64_t k = 0; k < c.topK; ++k) {
      const int32_t row = c.slotRow[t * c.topK + k];
      if (row < -1 || row >= c.expertRows)
        atomicOr(error, unsigned(kRowOutOfRange));
    }
  }
  __syncthreads();
  for (int64_t col = threadIdx.x; col < c.hidden; col += blockDim.x) {
    float acc = 0.0f;
    for (int64_t s = 0; s < c.topK; ++s) {
      const int64_t slot = t * c.topK + order[s];
      const int32_t row = c.slotRow[slot];
      if (row < 0 || row >= c.expertRows) // another rank's experts (or reported above)
        continue;
      const float y = toFloat(static_cast<const T*>(c.expertOut)[row * c.ldExpertOut + col]);
      const float weight = c.weights[slot];
      if (c.eagerOrder && sizeof(T) == 2)
        acc = roundTo<T>(acc + roundTo<T>(y * weight));
      else
        acc += y * weight;
    }
    static_cast<T*>(c.out)[t * c.ldOut + col] = fromFloat<T>(acc);
  }
}

} // namespace

cudaError_t launchMoeRoute(const MoeRoute& args, cudaStream_t stream) {
  if (args.tokens == 0)
    return cudaSuccess;
  if (args.experts > kMaxRoutedExperts || args.topK > args.experts)
    return cudaErrorInvalidValue;
  constexpr int threads = 64;
  moeRouteKernel<<<unsigned((args.tokens + threads - 1) / threads), threads, 0, stream>>>(args);
  return cudaGetLastError();
}

cudaError_t launchMoeDispatch(const MoeDispatch& args, unsigned* error, cudaStream_t stream) {
  if (args.experts > kMaxDispatchExperts)
    return cudaErrorInvalidValue;
  moeDispatchKernel<<<1, kDispatchThreads, 0, stream>>>(args, error);
  return cudaGetLastError();
}

cudaError_t launchGatherRows(size_t elementBytes, const std::byte* x, int64_t ldx, int64_t xRows,
                             const int32_t* rows, int64_t count, int64_t width, std::byte* out,
                             int64_t ldOut, unsigned* error, cudaStream_t stream) {
  const int64_t total = count * width;
  if (total == 0)
    return cudaSuccess;
  const int64_t wanted = (total + 255) / 256;
  const unsigned blocks = unsigned(wanted < 65535 * 32 ? wanted : 65535 * 32);
  if (elementBytes == 4)
    gatherRowsKernel<float>
        <<<blocks, 256, 0, stream>>>(x, ldx, xRows, rows, count, width, out, ldOut, error);
  else if (elementBytes == 2)
    gatherRowsKernel<uint16_t>
        <<<blocks, 256, 0, stream>>>(x, ldx, xRows, rows, count, width, out, ldOut, error);
  else
    return cudaErrorInvalidValue;
  return cudaGetLastError();
}

cudaError_t launchGroupedLinear(const GroupedLinear& args, unsigned* error, cudaStream_t stream) {
  if (args.rows == 0 || args.out == 0)
    return cudaSuccess;
  const dim3 grid(unsigned((args.out + kWarpsPerBlock - 1) / kWarpsPerBlock),
                  unsigned((args.rows + kRowsPerWarp - 1) / kRowsPerWarp));
  const unsigned threads = kWarpsPerBlock * 32;
  using Bf16 = __nv_bfloat16;
  if (args.type == DType::BF16 && args.weightType == DType::BF16)
    groupedLinearKernel<Bf16, Bf16><<<grid, threads, 0, stream>>>(args, error);
  else if (args.type == DType::BF16 && args.weightType == DType::F8E4M3)
    groupedLinearKernel<Bf16, uint8_t><<<grid, threads, 0, stream>>>(args, error);
  else if (args.type == DType::F32 && args.weightType == DType::F32)
    groupedLinearKernel<float, float><<<grid, threads, 0, stream>>>(args, error);
  else if (args.type == DType::F32 && args.weightType == DType::F8E4M3)
    groupedLinearKernel<float, uint8_t><<<grid, threads, 0, stream>>>(args, error);
  else
    return cudaErrorInvalidValue;
  return cudaGetLastError();
}

cudaError_t launchMoeCombine(const MoeCombine& args, unsigned* error, cudaStream_t stream) {
  if (args.tokens == 0)
    return cudaSuccess;
  if (args.topK < 1 || args.topK > kMaxCombineTopK)
    return cudaErrorInvalidValue;
  if (args.type == DType::BF16)
    moeCombineKernel<__nv_bfloat16><<<unsigned(args.tokens), 256, 0, stream>>>(args, error);
  else if (args.type == DType::F32)
    moeCombineKernel<float><<<unsigned(args.tokens), 256, 0, stream>>>(args, error);
  else
    return cudaErrorInvalidValue;
  return cudaGetLastError();
}

} // namespace fathom::cuda
