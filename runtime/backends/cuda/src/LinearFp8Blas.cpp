// linear_fp8 on Hopper through cuBLASLt's block-scaled FP8 GEMM (cuBLASLt 12.9 on, compute
// capability 9.0): the weight E4M3 with DeepSeek's 128x128 fp32 block scales (BLK128x128_32F),
// the activations E4M3 with one fp32 scale per row per 128 columns (VEC128_32F), fp32
// accumulation, y rounded once. The same sum as LinearFp8.cu's reference kernel, in another
// order. Column-major, Y^T [out x rows] = op_T(W) [out x in] X^T, as for every linear (TN, the
// layout FP8 tensor cores take).
#include "CudaKernel.h"

#include <vector>

namespace fathom::cuda {

namespace {

struct Descriptors {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  ~Descriptors() {
    if (op)
      cublasLtMatmulDescDestroy(op);
    for (cublasLtMatrixLayout_t layout : {a, b, c})
      if (layout)
        cublasLtMatrixLayoutDestroy(layout);
  }
};

template <class V>
void setAttribute(cublasLtMatmulDesc_t op, cublasLtMatmulDescAttributes_t name, const V& value,
                  const char* what) {
  checkBlas(cublasLtMatmulDescSetAttribute(op, name, &value, sizeof value), what);
}

} // namespace

bool blockScaledBlasAvailable(const CudaResources& gpu) {
  return gpu.computeCapability == 90 && cublasLtGetVersion() >= 120900;
}

BlockScales::BlockScales(const Weight& weight) {
  const int64_t outBlocks = (weight.shape[0] + 127) / 128, inBlocks = weight.shape[1] / 128;
  stride = (inBlocks + 3) / 4 * 4;
  if (stride == inBlocks) {
    data = weight.scales; // DeepSeek's [out / 128, in / 128] is already the layout
    return;
  }
  padded = std::make_unique<OwnedDeviceMemory>(size_t(outBlocks * stride) * sizeof(float),
                                               "linear_fp8 block scales");
  check(cudaMemset(padded->data, 0, size_t(outBlocks * stride) * sizeof(float)),
        "linear_fp8 block scales");
  check(cudaMemcpy2D(padded->data, size_t(stride) * sizeof(float), weight.scales,
                     size_t(inBlocks) * sizeof(float), size_t(inBlocks) * sizeof(float),
                     size_t(outBlocks), cudaMemcpyDeviceToDevice),
        "linear_fp8 block scales");
  data = static_cast<const float*>(padded->data);
}

bool blasFp8BlockLinear(CudaResources& gpu, const Fp8BlockLinear& args, const BlockScales& scales) {
  Descriptors d;
  checkBlas(cublasLtMatmulDescCreate(&d.op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "descriptor");
  setAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSA, CUBLAS_OP_T, "transpose A");
  setAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSB, CUBLAS_OP_N, "transpose B");
  setAttribute(d.op, CUBLASLT_MATMUL_DESC_A_SCALE_MODE,
               int32_t(CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F), "weight scale mode");
  setAttribute(d.op, CUBLASLT_MATMUL_DESC_B_SCALE_MODE,
               int32_t(CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F), "activation scale mode");
  setAttribute(d.op, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, scales.data, "weight scales");
  setAttribute(d.op, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, static_cast<const float*>(args.xScales),
               "activation scales");
  const uint64_t in = uint64_t(args.in), out = uint64_t(args.out), rows = uint64_t(args.rows);
  const cudaDataType_t y = args.type == DType::BF16 ? CUDA_R_16BF : CUDA_R_32F;
  checkBlas(cublasLtMatrixLayoutCreate(&d.a, CUDA_R_8F_E4M3, in, out, int64_t(in)),
            "weight layout");
  checkBlas(cublasLtMatrixLayoutCreate(&d.b, CUDA_R_8F_E4M3, in, rows, int64_t(in)),
            "activation layout");
  checkBlas(cublasLtMatrixLayoutCreate(&d.c, y, out, rows, args.ldy), "output layout");

  cublasLtMatmulHeuristicResult_t heuristic{};
  bool found = false;
  findBlasAlgorithm(gpu, d.op, d.a, d.b, d.c, heuristic, found);
  if (!found)
    return false; // not this shape or this library: the reference kernel runs instead
  const float one = 1.0f, zero = 0.0f;
  checkBlas(cublasLtMatmul(gpu.blas, d.op, &one, args.weight, d.a, args.xCodes, d.b, &zero, args.y,
                           d.c, args.y, d.c, &heuristic.algo, gpu.workspace, gpu.workspaceBytes,
                           gpu.stream),
            "block-scaled FP8 matmul");
  return true;
}

} // namespace fathom::cuda
