// fathom-gpu-bandwidth: the device memory bandwidth the CUDA benchmarks compare against (issue 13:
// "measure the device's bandwidth with your own copy kernel in the same run"). Two kernels over a
// buffer far larger than L2: a copy (read + write, what a device-to-device copy moves) and a read
// that sums (what a decode step does with its weights). Prints GB/s of each, `--json` one line.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    std::fprintf(stderr, "fathom-gpu-bandwidth: %s failed: %s (%s)\n", what,
                 cudaGetErrorName(status), cudaGetErrorString(status));
    std::exit(1);
  }
}

__global__ void copyKernel(const int4* __restrict__ in, int4* __restrict__ out, size_t count) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < count;
       i += size_t(gridDim.x) * blockDim.x)
    out[i] = in[i];
}

// Each thread folds its int4s with xor; one write per block keeps the loads from being elided.
__global__ void readKernel(const int4* __restrict__ in, size_t count, int* __restrict__ sink) {
  int folded = 0;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < count;
       i += size_t(gridDim.x) * blockDim.x) {
    const int4 v = __ldcs(in + i);
    folded ^= v.x ^ v.y ^ v.z ^ v.w;
  }
  __shared__ int blockFold;
  if (threadIdx.x == 0)
    blockFold = 0;
  __syncthreads();
  atomicXor(&blockFold, folded);
  __syncthreads();
  if (threadIdx.x == 0)
    sink[blockIdx.x] = blockFold;
}

// The best of `repeats` timed launches after one warm-up, in seconds.
template <class Launch> double bestSeconds(Launch launch, int repeats) {
  cudaEvent_t start, stop;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  launch();
  check(cudaDeviceSynchronize(), "warm-up");
  float best = 1e30f;
  for (int r = 0; r < repeats; ++r) {
    check(cudaEventRecord(start), "cudaEventRecord");
    launch();
    check(cudaEventRecord(stop), "cudaEventRecord");
    check(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    best = std::min(best, ms);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return best / 1e3;
}

} // namespace

int main(int argc, char** argv) {
  size_t megabytes = 2048;
  int repeats = 10;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json")
      json = true;
    else if (arg == "--mb" && i + 1 < argc)
      megabytes = std::strtoull(argv[++i], nullptr, 10);
    else if (arg == "--repeat" && i + 1 < argc)
      repeats = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: fathom-gpu-bandwidth [--mb N (2048)] [--repeat N (10)] "
                           "[--json]\n");
      return 2;
    }
  }
  if (megabytes < 64 || megabytes > (1u << 20) || repeats < 1) {
    std::fprintf(stderr, "fathom-gpu-bandwidth: --mb must be 64..1048576 and --repeat >= 1\n");
    return 2;
  }
  int device = 0;
  cudaDeviceProp prop{};
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");

  const size_t bytes = megabytes << 20, count = bytes / sizeof(int4);
  int4 *in = nullptr, *out = nullptr;
  int* sink = nullptr;
  check(cudaMalloc(&in, bytes), "cudaMalloc");
  check(cudaMalloc(&out, bytes), "cudaMalloc");
  check(cudaMemset(in, 1, bytes), "cudaMemset");
  const int threads = 512, blocks = prop.multiProcessorCount * 8;
  check(cudaMalloc(&sink, sizeof(int) * blocks), "cudaMalloc");

  const double copySeconds =
      bestSeconds([&] { copyKernel<<<blocks, threads>>>(in, out, count); }, repeats);
  const double readSeconds =
      bestSeconds([&] { readKernel<<<blocks, threads>>>(in, count, sink); }, repeats);
  check(cudaGetLastError(), "kernel launch");
  const double copyGBs = 2.0 * bytes / copySeconds / 1e9, readGBs = bytes / readSeconds / 1e9;
  // The theoretical peak: DDR moves two transfers per memory clock (kHz) over the bus width.
  int clockKHz = 0, busBits = 0;
  cudaDeviceGetAttribute(&clockKHz, cudaDevAttrMemoryClockRate, device);
  cudaDeviceGetAttribute(&busBits, cudaDevAttrGlobalMemoryBusWidth, device);
  const double peakGBs = 2.0 * clockKHz * 1e3 * (busBits / 8) / 1e9;

  if (json)
    std::printf("{\"device\": \"%s\", \"buffer_mb\": %zu, \"copy_gb_s\": %.1f, \"read_gb_s\": "
                "%.1f, \"peak_gb_s\": %.1f}\n",
                prop.name, megabytes, copyGBs, readGBs, peakGBs);
  else
    std::printf("%s: copy %.1f GB/s (read + write), read %.1f GB/s, spec peak %.1f GB/s "
                "(%zu MB buffer, best of %d)\n",
                prop.name, copyGBs, readGBs, peakGBs, megabytes, repeats);
  cudaFree(in);
  cudaFree(out);
  cudaFree(sink);
  return 0;
}
