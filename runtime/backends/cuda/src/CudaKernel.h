#pragma once
// Internal: what the CUDA kernel table's entries share. Each entry binds one KernelCall to a
// Kernel that checks its operands on the host and enqueues device kernels on the backend's
// stream (src/Launch.h); nothing synchronizes inside a step.
#include "DeviceRows.h"
#include "Launch.h"
#include "fathom/backend/Backend.h"
#include "fathom/backend/FunctionKernel.h"
#include "fathom/comm/Nccl.h"
#include "fathom/runtime/Error.h"

#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <functional>
#include <memory>
#include <string>

namespace fathom::cuda {

namespace fb = artifact::fb;
using backend::CallContext;
using backend::PlanLimits;
using backend::Tensor;
using backend::Weight;

// Throws fathom::Error naming the kernel and CUDA's error unless `status` is cudaSuccess.
void check(cudaError_t status, const char* what);
[[noreturn]] void shapeError(const char* kernel, const std::string& what);

// Device memory a prepared kernel owns (freed with it): scratch sized for the planned rows.
struct OwnedDeviceMemory {
  void* data = nullptr;
  OwnedDeviceMemory(size_t bytes, const char* what) {
    check(cudaMalloc(&data, bytes > 256 ? bytes : 256), what);
  }
  ~OwnedDeviceMemory() { cudaFree(data); }
  OwnedDeviceMemory(const OwnedDeviceMemory&) = delete;
  OwnedDeviceMemory& operator=(const OwnedDeviceMemory&) = delete;
};

struct CudaResources {
  cudaStream_t stream = nullptr;
  cublasLtHandle_t blas = nullptr;
  void* workspace = nullptr; // cuBLASLt's
  size_t workspaceBytes = 0;
  unsigned* errorWord = nullptr; // device; DeviceError bits
  int computeCapability = 0;     // major * 10 + minor
  int multiprocessors = 0;
  // Split-KV attention's scratch (AttentionKernels.cpp), made at the first attention call and
  // shared by all: they run one after another on the stream.
  std::shared_ptr<OwnedDeviceMemory> splitMemory;
  SplitScratch split;
  // The ranks of a sharded artifact (BackendOptions::communicator), and the same as a device
  // communicator (NCCL) when it is one: the only kind CUDA collectives run over.
  comm::Communicator* communicator = nullptr;
  comm::DeviceCommunicator* deviceCommunicator = nullptr;
};

using backend::makeHostSyncingKernel;
using backend::makeKernel;

using KernelFactory = std::unique_ptr<backend::Kernel> (*)(CudaResources&, const fb::KernelCall&,
                                                           const std::vector<Weight>&,
                                                           const PlanLimits&);

// Entries by group (DenseKernels.cpp, LinearKernels.cpp, AttentionKernels.cpp, MoeKernels.cpp,
// VisionKernels.cpp, CollectiveKernels.cpp).
void addDenseKernels(KernelFactory* table);
void addLinearKernels(KernelFactory* table);
void addAttentionKernels(KernelFactory* table);
void addMoeKernels(KernelFactory* table);
void addVisionKernels(KernelFactory* table);
void addCollectiveKernels(KernelFactory* table);

const fb::View& required(const fb::View* view, const char* kernel, const char* field);
const Weight& weightAt(const std::vector<Weight>& weights, int32_t index, const char* kernel);
const Weight* optionalWeightAt(const std::vector<Weight>& weights, int32_t index,
                               const char* kernel);

inline DeviceRows deviceRows(const Tensor& t) {
  DeviceRows r;
  r.data = t.data;
  r.batches = t.batches;
  r.rowsPerBatch = t.rowsPerBatch;
  r.rowStride = t.rowStride;
  r.batchStride = t.batchStride;
  r.heads = t.heads;
  r.headDim = t.headDim;
  r.headStride = t.headStride;
  r.blockTable = t.blockTable;
  r.blockRows = t.blockRows;
  r.blocksPerBatch = t.blocksPerBatch;
  return r;
}

// y[rows, out] = x W^T (+ bias) over one run of rows (checked by the caller): cuBLASLt for f32
// and bf16 weights, the dequantizing kernel for FP8 ones.
void linearRows(CudaResources& gpu, const Weight& weight, const Weight* bias, DType type,
                const std::byte* x, int64_t ldx, std::byte* y, int64_t ldy, int64_t rows);

// Throws fathom::Error naming the cuBLASLt call unless `status` is success (LinearKernels.cpp).
void checkBlas(cublasStatus_t status, const char* what);
// Searches cuBLASLt's first algorithm for `op` over layouts a, b and c (c also the output)
// within the workspace: the search's status, and `found` whether it found one
// (LinearKernels.cpp).
cublasStatus_t findBlasAlgorithm(CudaResources& gpu, cublasLtMatmulDesc_t op,
                                 cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
                                 cublasLtMatrixLayout_t c,
                                 cublasLtMatmulHeuristicResult_t& heuristic, bool& found);

// linear_fp8 through cuBLASLt's block-scaled FP8 GEMM (LinearFp8Blas.cpp): available on compute
// capability 9.0 with cuBLASLt 12.9 on; the weight's scales in its layout ([out / 128] rows of
// in / 128 scales padded to a multiple of 4: DeepSeek's own where in / 128 is one); false when
// cuBLASLt has no algorithm for the call (the reference kernel runs then). args.xScales must
// be block-major (launchFp8Quantize's scalesByBlock).
bool blockScaledBlasAvailable(const CudaResources& gpu);
struct BlockScales {
  explicit BlockScales(const Weight& weight);
  const float* data = nullptr;
  int64_t stride = 0;
  std::unique_ptr<OwnedDeviceMemory> padded;
};
bool blasFp8BlockLinear(CudaResources& gpu, const Fp8BlockLinear& args, const BlockScales& scales);

// The launches `launches` makes on `stream`, captured into an instantiated CUDA graph (null when
// the capture or instantiation failed; an exception from `launches` ends the capture and
// propagates).
std::unique_ptr<backend::Recording> recordGraph(cudaStream_t stream,
                                                const std::function<void()>& launches);

// Device memory token selection reuses from step to step.
struct SelectionScratch {
  void* data = nullptr;
  size_t bytes = 0;
  SelectionScratch() = default;
  SelectionScratch(const SelectionScratch&) = delete;
  SelectionScratch& operator=(const SelectionScratch&) = delete;
  ~SelectionScratch();
};
// Backend::selectTokens (TokenSelection.cpp).
bool selectTokensOnDevice(CudaResources& gpu, SelectionScratch& scratch, const Tensor& logits,
                          const backend::TokenChoice& choice, const double* uniforms,
                          backend::SelectedToken* selected);

// F32 or BF16, else an error naming the kernel and the operand.
void requireActivation(const char* kernel, const char* operand, DType type);
// Same rows, width and element type.
void requireSameRows(const char* kernel, const Tensor& a, const Tensor& b);

} // namespace fathom::cuda
