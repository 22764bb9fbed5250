#pragma once
// DeepSeek's block-quantized FP8 weights, the one definition the frontend, the compiler's
// initializer and the kernels' references share: a [rows, cols] matrix of F8_E4M3 (or F8_E5M2)
// codes with one fp32 scale per blockRows x blockCols block, row-major
// [ceil(rows / blockRows), ceil(cols / blockCols)], edge blocks partial:
//   w[i, j] = float(q[i, j]) * scale[i / blockRows, j / blockCols]   (one fp32 multiply)
// The GEMM kernels apply the same rule on the fly, vectorized (runtime/backends/cpu).
#include "fathom/runtime/DType.h"

#include <cstdint>

namespace fathom {

// Dequantizes a whole matrix into `out` as `outType` (F32, or BF16/F16 rounded once to nearest
// even). `scales` need not be aligned (safetensors does not promise it); it holds `scaleCols`
// scales per block row. Throws fathom::Error for other dtypes or block sizes below 1.
void dequantizeBlockMatrix(DType storage, const uint8_t* codes, int64_t rows, int64_t cols,
                           const void* scales, int64_t scaleCols, int64_t blockRows,
                           int64_t blockCols, DType outType, void* out);

} // namespace fathom
