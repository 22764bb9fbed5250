// fathom-gpu-kernels-bench: the CUDA backend's hot kernels timed alone on DeepSeek shapes
// (issue 13): MLA decode attention over the latent cache (576-wide keys, 512-wide values, one
// key head, 16 and 128 query heads) in GB/s of cache read, the FP8 block GEMM (linear_fp8) on
// DeepSeek-V3's projection shapes in TFLOPS (the reference kernel, and on Hopper cuBLASLt's
// block-scaled FP8 GEMM the backend uses there), and the W8A16 decode GEMV in GB/s of weights.
// Compare with fathom-gpu-bandwidth's read GB/s from the same run. `--json`: one line per result.
#include "CudaKernel.h"
#include "Launch.h"

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace fathom;
using namespace fathom::cuda;

bool json = false;

void require(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    std::fprintf(stderr, "fathom-gpu-kernels-bench: %s failed: %s (%s)\n", what,
                 cudaGetErrorName(status), cudaGetErrorString(status));
    std::exit(1);
  }
}

void* deviceBytes(size_t bytes) {
  void* p = nullptr;
  require(cudaMalloc(&p, bytes), "cudaMalloc");
  require(cudaMemset(p, 0, bytes), "cudaMemset"); // zeros: finite codes and values everywhere
  return p;
}

// Milliseconds per launch of `body`, the median-free mean of `reps` after one warm-up.
template <class Body> double timeMs(int reps, Body&& body) {
  cudaEvent_t start, stop;
  require(cudaEventCreate(&start), "event");
  require(cudaEventCreate(&stop), "event");
  body();
  require(cudaDeviceSynchronize(), "warm-up");
  require(cudaEventRecord(start), "event");
  for (int i = 0; i < reps; ++i)
    body();
  require(cudaEventRecord(stop), "event");
  require(cudaEventSynchronize(stop), "event");
  float ms = 0;
  require(cudaEventElapsedTime(&ms, start, stop), "elapsed");
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return double(ms) / reps;
}

void report(const std::string& name, const std::string& shape, double ms, const char* unit,
            double value) {
  if (json)
    std::printf("{\"bench\":\"%s\",\"shape\":\"%s\",\"ms\":%.4f,\"%s\":%.2f}\n", name.c_str(),
                shape.c_str(), ms, unit, value);
  else
    std::printf("%-22s %-34s %9.4f ms %10.2f %s\n", name.c_str(), shape.c_str(), ms, value, unit);
}

DeviceRows packedRows(void* data, int64_t batches, int64_t rows, int64_t heads, int64_t dim) {
  DeviceRows r;
  r.data = static_cast<std::byte*>(data);
  r.batches = batches;
  r.rowsPerBatch = rows;
  r.heads = heads;
  r.headDim = dim;
  r.headStride = dim;
  r.rowStride = heads * dim;
  r.batchStride = rows * heads * dim;
  return r;
}

// MLA's absorbed decode: one query per sequence, `heads` query heads over one latent key head;
// with `split` the backend's split-KV form where the rows are few, else one block per row.
void mlaDecode(int64_t batch, int64_t heads, int64_t keys, bool split, unsigned* error) {
  const int64_t latent = 512, rope = 64;
  void* q = deviceBytes(size_t(batch * heads * latent) * 2);
  void* qRope = deviceBytes(size_t(batch * heads * rope) * 2);
  void* cache = deviceBytes(size_t(batch * keys * (latent + rope)) * 2);
  void* mask = deviceBytes(size_t(batch * keys));
  require(cudaMemset(mask, 1, size_t(batch * keys)), "mask");
  void* out = deviceBytes(size_t(batch * heads * latent) * 2);
  Attention a;
  a.batch = batch;
  a.heads = heads;
  a.queryLen = 1;
  a.keyLen = keys;
  a.keyDim = latent;
  a.ropeDim = rope;
  a.valueDim = latent;
  a.q = packedRows(q, batch, 1, heads, latent);
  a.qRope = packedRows(qRope, batch, 1, heads, rope);
  // The cache row is [latent | rope]: keys and values read the latent, the rope key the rest.
  a.k = packedRows(cache, batch, keys, 1, latent);
  a.k.rowStride = latent + rope;
  a.k.batchStride = keys * (latent + rope);
  a.v = a.k;
  a.kRope = a.k;
  a.kRope.data = static_cast<std::byte*>(cache) + latent * 2;
  a.kRope.headDim = rope;
  a.out = packedRows(out, batch, 1, heads, latent);
  a.keyValid = static_cast<const uint8_t*>(mask);
  a.keyValidBatchStride = keys;
  a.causal = true;
  a.scale = 0.07f;
  int device = 0, multiprocessors = 1;
  require(cudaGetDevice(&device), "device");
  require(cudaDeviceGetAttribute(&multiprocessors, cudaDevAttrMultiProcessorCount, device), "sms");
  const int64_t target = 2 * int64_t(multiprocessors), runs = 2 * target;
  void* scratchMemory = deviceBytes(splitScratchBytes(runs));
  const SplitScratch scratch =
      split ? carveSplitScratch(scratchMemory, runs, target) : SplitScratch{};
  const double ms =
      timeMs(5, [&] { require(launchAttention(a, error, nullptr, scratch), "attention"); });
  const double bytes = double(batch * keys * (latent + rope)) * 2;
  cudaFree(scratchMemory);
  report(split ? "mla_decode_split_kv" : "mla_decode",
         "b" + std::to_string(batch) + " h" + std::to_string(heads) + " keys" +
             std::to_string(keys),
         ms, "GB/s", bytes / (ms * 1e6));
  for (void* p : {q, qRope, cache, mask, out})
    cudaFree(p);
}

// y[m, n] = x[m, k] W[n, k]^T in DeepSeek's W8A8 blocks.
void fp8Gemm(int64_t m, int64_t n, int64_t k, CudaResources* blas) {
  void* x = deviceBytes(size_t(m * k) * 2);
  void* y = deviceBytes(size_t(m * n) * 2);
  void* w = deviceBytes(size_t(n * k));
  void* wScales = deviceBytes(size_t(((n + 127) / 128) * (k / 128)) * 4);
  void* xCodes = deviceBytes(size_t(m * k));
  void* xScales = deviceBytes(size_t(m * (k / 128)) * 4);
  Fp8BlockLinear args;
  args.type = DType::BF16;
  args.x = x;
  args.ldx = k;
  args.y = y;
  args.ldy = n;
  args.rows = m;
  args.in = k;
  args.out = n;
  args.weight = static_cast<const uint8_t*>(w);
  args.scales = static_cast<const float*>(wScales);
  args.blockRows = args.blockCols = 128;
  args.xCodes = static_cast<uint8_t*>(xCodes);
  args.xScales = static_cast<float*>(xScales);
  const std::string shape =
      "m" + std::to_string(m) + " n" + std::to_string(n) + " k" + std::to_string(k);
  const double flops = 2.0 * double(m) * double(n) * double(k);
  const double ms = timeMs(2, [&] { require(launchFp8BlockLinear(args, nullptr), "fp8 gemm"); });
  report("fp8_block_gemm", shape, ms, "TFLOPS", flops / (ms * 1e9));
  if (blas && blockScaledBlasAvailable(*blas)) {
    Weight weight;
    weight.shape = {n, k};
    weight.scales = args.scales;
    const BlockScales scales(weight);
    bool ran = true;
    const double blasMs = timeMs(2, [&] {
      require(launchFp8Quantize(args, true, nullptr), "fp8 quantize");
      ran = ran && blasFp8BlockLinear(*blas, args, scales);
    });
    if (ran)
      report("fp8_block_gemm_cublaslt", shape, blasMs, "TFLOPS", flops / (blasMs * 1e9));
    else
      std::fprintf(stderr,
                   "fathom-gpu-kernels-bench: cuBLASLt has no block-scaled FP8 "
                   "algorithm for %s\n",
                   shape.c_str());
  }
  for (void* p : {x, y, w, wScales, xCodes, xScales})
    cudaFree(p);
}

// One decode row through an FP8 matrix dequantized to bf16 (the sm_80 path).
void w8a16Gemv(int64_t n, int64_t k) {
  void* x = deviceBytes(size_t(k) * 2);
  void* y = deviceBytes(size_t(n) * 2);
  void* w = deviceBytes(size_t(n * k));
  void* scales = deviceBytes(size_t(((n + 127) / 128) * ((k + 127) / 128)) * 4);
  DequantLinear args;
  args.type = DType::BF16;
  args.x = x;
  args.ldx = k;
  args.y = y;
  args.ldy = n;
  args.rows = 1;
  args.in = k;
  args.out = n;
  args.weight = static_cast<const uint8_t*>(w);
  args.scales = static_cast<const float*>(scales);
  args.blockRows = args.blockCols = 128;
  const double ms = timeMs(10, [&] { require(launchDequantLinear(args, nullptr), "w8a16"); });
  report("w8a16_gemv", "n" + std::to_string(n) + " k" + std::to_string(k), ms, "GB/s",
         double(n * k) / (ms * 1e6));
  for (void* p : {x, y, w, scales})
    cudaFree(p);
}

} // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) {
      json = true;
    } else {
      std::fprintf(stderr, "usage: fathom-gpu-kernels-bench [--json]\n");
      return 2;
    }
  }
  int devices = 0;
  require(cudaGetDeviceCount(&devices), "cudaGetDeviceCount");
  unsigned* error = static_cast<unsigned*>(deviceBytes(sizeof(unsigned)));
  for (bool split : {false, true}) {
    for (int64_t batch : {1, 8, 64})
      mlaDecode(batch, 16, 4096, split, error);
    mlaDecode(1, 128, 4096, split, error);
    mlaDecode(1, 16, 32768, split, error);
  }
  // DeepSeek-V3's projections (DeepGEMM's table) at 4096 tokens.
  const int64_t shapes[][2] = {
      {2112, 7168}, {24576, 1536}, {7168, 16384}, {4096, 7168}, {7168, 2048}};
  // cuBLASLt on the default stream, as the kernels above run.
  CudaResources blas;
  int device = 0, major = 0, minor = 0;
  require(cudaGetDevice(&device), "device");
  require(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device), "cc");
  require(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device), "cc");
  blas.computeCapability = major * 10 + minor;
  blas.workspaceBytes = size_t(32) << 20;
  blas.workspace = deviceBytes(blas.workspaceBytes);
  const bool haveBlas = cublasLtCreate(&blas.blas) == CUBLAS_STATUS_SUCCESS;
  for (const auto& shape : shapes)
    fp8Gemm(4096, shape[0], shape[1], haveBlas ? &blas : nullptr);
  if (haveBlas)
    cublasLtDestroy(blas.blas);
  cudaFree(blas.workspace);
  w8a16Gemv(7168, 2048);
  w8a16Gemv(2048, 7168);
  unsigned errors = 0;
  require(cudaMemcpy(&errors, error, sizeof errors, cudaMemcpyDeviceToHost), "error word");
  if (errors) {
    std::fprintf(stderr, "fathom-gpu-kernels-bench: kernels reported errors 0x%x\n", errors);
    return 1;
  }
  return 0;
}
