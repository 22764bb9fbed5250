// The CUDA kernel table's linear entry: bf16 and f32 weights through cuBLASLt (fp32 compute,
// no TF32: the fp32 path keeps HF's 1e-4), FP8 weights through the dequantizing kernel (W8A16).
// y = x W^T in row-major terms is, column-major, Y^T [out x rows] = op_T(W) [out x in] X^T.
#include "CudaKernel.h"
#include "Launch.h"

#include <algorithm>
#include <memory>

namespace fathom::cuda {

void checkBlas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw Error(std::string("cuda linear: ") + what + " failed: " + cublasLtGetStatusName(status) +
                " (" + cublasLtGetStatusString(status) + ")");
}

cublasStatus_t findBlasAlgorithm(CudaResources& gpu, cublasLtMatmulDesc_t op,
                                 cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
                                 cublasLtMatrixLayout_t c,
                                 cublasLtMatmulHeuristicResult_t& heuristic, bool& found) {
  cublasLtMatmulPreference_t preference = nullptr;
  checkBlas(cublasLtMatmulPreferenceCreate(&preference), "preference");
  int count = 0;
  cublasStatus_t status =
      cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                           &gpu.workspaceBytes, sizeof gpu.workspaceBytes);
  if (status == CUBLAS_STATUS_SUCCESS)
    status =
        cublasLtMatmulAlgoGetHeuristic(gpu.blas, op, a, b, c, c, preference, 1, &heuristic, &count);
  cublasLtMatmulPreferenceDestroy(preference);
  found = status == CUBLAS_STATUS_SUCCESS && count > 0;
  return status;
}

namespace {

cudaDataType_t blasType(DType type) {
  return type == DType::BF16 ? CUDA_R_16BF : CUDA_R_32F;
}

// Several matmuls of one shape, `stride` elements apart in each operand (head_matmul's heads).
struct Batched {
  int count = 1;
  int64_t weightStride = 0, xStride = 0, yStride = 0;
};

void setBatch(cublasLtMatrixLayout_t layout, const Batched& batched, int64_t stride) {
  checkBlas(cublasLtMatrixLayoutSetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT,
                                             &batched.count, sizeof batched.count),
            "batch count");
  checkBlas(cublasLtMatrixLayoutSetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                             &stride, sizeof stride),
            "batch stride");
}

// One cuBLASLt matmul of `rows` rows of `in` -> `out` (per batch entry): descriptors are made
// per call (host work only).
void blasLinear(CudaResources& gpu, const Weight& weight, const Weight* bias, DType type,
                const void* x, int64_t ldx, void* y, int64_t ldy, int64_t rows, uint64_t out,
                uint64_t in, const Batched& batched = {}) {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  struct Cleanup {
    cublasLtMatmulDesc_t& op;
    cublasLtMatrixLayout_t &a, &b, &c;
    ~Cleanup() {
      if (op)
        cublasLtMatmulDescDestroy(op);
      for (cublasLtMatrixLayout_t layout : {a, b, c})
        if (layout)
          cublasLtMatrixLayoutDestroy(layout);
    }
  } cleanup{op, a, b, c};
  checkBlas(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "descriptor");
  const cublasOperation_t transpose = CUBLAS_OP_T, none = CUBLAS_OP_N;
  checkBlas(
      cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &transpose, sizeof transpose),
      "transpose A");
  checkBlas(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &none, sizeof none),
            "transpose B");
  if (bias) {
    const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
    const cudaDataType_t biasType = blasType(bias->type);
    checkBlas(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue,
                                             sizeof epilogue),
              "bias epilogue");
    checkBlas(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias->data,
                                             sizeof bias->data),
              "bias pointer");
    checkBlas(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &biasType,
                                             sizeof biasType),
              "bias type");
  }
  const cudaDataType_t t = blasType(type);
  checkBlas(cublasLtMatrixLayoutCreate(&a, t, in, out, int64_t(in)), "weight layout");
  checkBlas(cublasLtMatrixLayoutCreate(&b, t, in, uint64_t(rows), ldx), "input layout");
  checkBlas(cublasLtMatrixLayoutCreate(&c, t, out, uint64_t(rows), ldy), "output layout");
  if (batched.count > 1) {
    setBatch(a, batched, batched.weightStride);
    setBatch(b, batched, batched.xStride);
    setBatch(c, batched, batched.yStride);
  }

  cublasLtMatmulHeuristicResult_t heuristic{};
  bool found = false;
  checkBlas(findBlasAlgorithm(gpu, op, a, b, c, heuristic, found), "algorithm search");
  if (!found)
    throw Error("cuda linear: cuBLASLt has no algorithm for weight " + weight.name + " [" +
                std::to_string(out) + " x " + std::to_string(in) + "] over " +
                std::to_string(rows) + " rows");
  const float one = 1.0f, zero = 0.0f;
  checkBlas(cublasLtMatmul(gpu.blas, op, &one, weight.data, a, x, b, &zero, y, c, y, c,
                           &heuristic.algo, gpu.workspace, gpu.workspaceBytes, gpu.stream),
            "matmul");
}

} // namespace

void linearRows(CudaResources& gpu, const Weight& weight, const Weight* bias, DType type,
                const std::byte* x, int64_t ldx, std::byte* y, int64_t ldy, int64_t rows) {
  if (weight.type != DType::F8E4M3) {
    blasLinear(gpu, weight, bias, type, x, ldx, y, ldy, rows, uint64_t(weight.shape[0]),
               uint64_t(weight.shape[1]));
    return;
  }
  DequantLinear args;
  args.type = type;
  args.x = x;
  args.ldx = ldx;
  args.y = y;
  args.ldy = ldy;
  args.rows = rows;
  args.in = weight.shape[1];
  args.out = weight.shape[0];
  args.weight = static_cast<const uint8_t*>(weight.data);
  args.scales = weight.scales;
  args.blockRows = weight.blockRows;
  args.blockCols = weight.blockCols;
  if (bias) {
    args.bias = bias->data;
    args.biasType = bias->type;
  }
  check(launchDequantLinear(args, gpu.stream), "linear");
}

namespace {

// linear_fp8: the activations' codes and scales live in scratch sized for the planned rows.
std::unique_ptr<backend::Kernel> linearFp8(CudaResources& gpu, const Weight& weight,
                                           const Weight* bias, const fb::View& x,
                                           const fb::View& out, const PlanLimits& limits) {
  if (weight.type != DType::F8E4M3 || weight.shape.size() != 2 || weight.blockRows != 128 ||
      weight.blockCols != 128 || weight.shape[1] % 128 != 0 || !weight.scales)
    shapeError("linear", "linear_fp8 needs an FP8 weight in 128x128 blocks with a multiple of "
                         "128 inputs; " +
                             weight.name + " is not one");
  if (bias && (bias->shape != std::vector<int64_t>{weight.shape[0]} ||
               (bias->type != DType::F32 && bias->type != DType::BF16)))
    shapeError("linear", "the bias of " + weight.name + " must be one f32 or bf16 per output");
  const int64_t maxRows = std::max<int64_t>(1, limits.maxBatch * limits.maxTokens);
  const int64_t in = weight.shape[1];
  auto codes = std::make_shared<OwnedDeviceMemory>(size_t(maxRows * in), "linear_fp8 scratch");
  auto scales = std::make_shared<OwnedDeviceMemory>(size_t(maxRows * (in / 128)) * sizeof(float),
                                                    "linear_fp8 scratch");
  // Hopper: cuBLASLt's block-scaled GEMM, tried at the first run (outside any CUDA graph
  // capture: a bucket's first step runs eagerly); the reference kernel where it declines, and
  // for a bias, which the block-scaled modes do not fuse.
  std::shared_ptr<BlockScales> blockScales;
  if (!bias && blockScaledBlasAvailable(gpu))
    blockScales = std::make_shared<BlockScales>(weight);
  auto useBlas = std::make_shared<bool>(blockScales != nullptr);
  return makeKernel([&gpu, &weight, bias, &x, &out, maxRows, codes, scales, blockScales,
                     useBlas](const CallContext& c) {
    const Tensor input = c.tensor(x), result = c.tensor(out);
    if (input.width() != weight.shape[1] || result.width() != weight.shape[0] ||
        input.rows() != result.rows() || !input.packed() || !result.packed() ||
        !input.contiguousRows() || !result.contiguousRows() || input.type != result.type)
      shapeError("linear",
                 "linear_fp8 operands must be packed rows that fit weight " + weight.name);
    requireActivation("linear", "x", input.type);
    if (input.rows() > maxRows)
      shapeError("linear", "linear_fp8 got " + std::to_string(input.rows()) +
                               " rows, more than the " + std::to_string(maxRows) + " planned");
    if (c.planning())
      return;
    Fp8BlockLinear args;
    args.type = input.type;
    args.x = input.data;
    args.ldx = input.rowStride;
    args.y = result.data;
    args.ldy = result.rowStride;
    args.rows = input.rows();
    args.in = weight.shape[1];
    args.out = weight.shape[0];
    args.weight = static_cast<const uint8_t*>(weight.data);
    args.scales = weight.scales;
    args.blockRows = weight.blockRows;
    args.blockCols = weight.blockCols;
    if (bias) {
      args.bias = bias->data;
      args.biasType = bias->type;
    }
    args.xCodes = static_cast<uint8_t*>(codes->data);
    args.xScales = static_cast<float*>(scales->data);
    if (*useBlas) {
      check(launchFp8Quantize(args, /*scalesByBlock=*/true, gpu.stream), "linear_fp8");
      if (blasFp8BlockLinear(gpu, args, *blockScales))
        return;
      *useBlas = false;
    }
    check(launchFp8BlockLinear(args, gpu.stream), "linear_fp8");
  });
}

std::unique_ptr<backend::Kernel> linear(CudaResources& gpu, const fb::KernelCall& call,
                                        const std::vector<Weight>& weights,
                                        const PlanLimits& limits) {
  const auto* p = call.params_as_LinearCall();
  const Weight& weight = weightAt(weights, p->weight(), "linear");
  const Weight* bias = optionalWeightAt(weights, p->bias(), "linear");
  const fb::View& x = required(p->x(), "linear", "x");
  const fb::View& out = required(p->out(), "linear", "out");
  if (p->fp8_activations())
    return linearFp8(gpu, weight, bias, x, out, limits);
  const bool fp8 = weight.type == DType::F8E4M3;
  if (weight.shape.size() != 2 ||
      (bias && (bias->shape != std::vector<int64_t>{weight.shape[0]} ||
                (bias->type != DType::F32 && bias->type != DType::BF16))))
    shapeError("linear", "weight " + weight.name +
                             " must be a matrix and its bias one f32 or bf16 value per output");
  if (!fp8 && weight.type != DType::F32 && weight.type != DType::BF16)
    shapeError("linear", "weight " + weight.name + " is " + std::string(dtypeName(weight.type)) +
                             "; the CUDA linear takes f32, bf16 or block-quantized FP8");
  if (fp8 && (!weight.scales || weight.blockRows < 1 || weight.blockCols < 1))
    shapeError("linear", "FP8 weight " + weight.name + " has no block scales");
  return makeKernel([&gpu, &weight, bias, &x, &out, fp8](const CallContext& c) {
    const Tensor in = c.tensor(x), result = c.tensor(out);
    if (in.width() != weight.shape[1] || result.width() != weight.shape[0] ||
        in.rows() != result.rows() || !in.contiguousRows() || !result.contiguousRows() ||
        in.paged() || result.paged())
      shapeError("linear",
                 "operands [" + std::to_string(in.rows()) + ", " + std::to_string(in.width()) +
                     "] -> [" + std::to_string(result.rows()) + ", " +
                     std::to_string(result.width()) + "] do not fit weight " + weight.name);
    requireActivation("linear", "x", in.type);
    if (in.type != result.type || (!fp8 && weight.type != in.type))
      shapeError("linear",
                 "x, weight " + weight.name + " and out must share one type (f32 or bf16) on CUDA");
    if (c.planning())
      return;
    const size_t element = dtypeSize(in.type);
    // One GEMM when the rows of every sequence are one run, else one per sequence.
    const bool packed = in.packed() && result.packed();
    for (int64_t g = 0; g < (packed ? 1 : in.batches); ++g) {
      const int64_t rows = packed ? in.rows() : in.rowsPerBatch;
      const std::byte* xRows = in.data + size_t(g * in.batchStride) * element;
      std::byte* yRows = result.data + size_t(g * result.batchStride) * element;
      if (rows == 0)
        continue;
      linearRows(gpu, weight, bias, in.type, xRows, in.rowStride, yRows, result.rowStride, rows);
    }
  });
}

// Per head h: out[.., h, :] = x[.., h, :] @ weight[h]^T, weight [heads, out, in]: one strided
// batched matmul over the heads.
std::unique_ptr<backend::Kernel> headMatmul(CudaResources& gpu, const fb::KernelCall& call,
                                            const std::vector<Weight>& weights, const PlanLimits&) {
  const auto* p = call.params_as_HeadMatmulCall();
  const Weight& weight = weightAt(weights, p->weight(), "head_matmul");
  const fb::View& x = required(p->x(), "head_matmul", "x");
  const fb::View& out = required(p->out(), "head_matmul", "out");
  if (weight.shape.size() != 3 || (weight.type != DType::F32 && weight.type != DType::BF16))
    shapeError("head_matmul", "weight " + weight.name + " must be f32 or bf16 [heads, out, in]");
  return makeKernel([&gpu, &weight, &x, &out](const CallContext& c) {
    const Tensor in = c.tensor(x), result = c.tensor(out);
    const int64_t heads = weight.shape[0], outDim = weight.shape[1], inDim = weight.shape[2];
    if (in.heads != heads || result.heads != heads || in.headDim != inDim ||
        result.headDim != outDim || in.rows() != result.rows() || in.paged() || result.paged())
      shapeError("head_matmul", "operands do not match weight " + weight.name);
    if (in.type != weight.type || result.type != weight.type)
      shapeError("head_matmul", "x, weight " + weight.name + " and out must share one type");
    if (c.planning())
      return;
    const Batched batched{int(heads), outDim * inDim, in.headStride, result.headStride};
    const size_t element = dtypeSize(in.type);
    const bool packed = in.packed() && result.packed();
    for (int64_t g = 0; g < (packed ? 1 : in.batches); ++g) {
      const int64_t rows = packed ? in.rows() : in.rowsPerBatch;
      if (rows > 0)
        blasLinear(gpu, weight, nullptr, in.type, in.data + size_t(g * in.batchStride) * element,
                   in.rowStride, result.data + size_t(g * result.batchStride) * element,
                   result.rowStride, rows, uint64_t(outDim), uint64_t(inDim), batched);
    }
  });
}

} // namespace

void addLinearKernels(KernelFactory* table) {
  table[size_t(fb::KernelParams::LinearCall)] = linear;
  table[size_t(fb::KernelParams::HeadMatmulCall)] = headMatmul;
}

} // namespace fathom::cuda
