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

// INT4 weight-only, asymmetric: a [rows, cols] matrix of U4 codes (DType.h: two per byte, low
// nibble first, rows byte-aligned) with, per row and group of `group` columns (the last
// partial), an fp32 scale and a U4 zero point, each [rows, ceil(cols / group)]:
//   w[i, j] = float(q[i, j] - zero[i, j / group]) * scale[i, j / group]   (one fp32 multiply)
// The quantizer, per row and group in fp32: scale = (max - min) / 15 (1 where max equals min or
// that quotient underflows to 0),
// zero = clamp(round(-min / scale), 0, 15), q = clamp(round(w / scale) + zero, 0, 15), with
// rounding half to even.
inline int64_t u4RowBytes(int64_t cols) {
  return (cols + 1) / 2;
}
inline uint8_t loadU4(const uint8_t* row, int64_t index) {
  return uint8_t((row[index >> 1] >> ((index & 1) * 4)) & 0xf);
}
inline void storeU4(uint8_t* row, int64_t index, uint8_t code) {
  const int shift = int(index & 1) * 4;
  row[index >> 1] = uint8_t((row[index >> 1] & ~(0xf << shift)) | ((code & 0xf) << shift));
}

// `in` holds rows x cols values of `inType` (F32, BF16 or F16); `codes`, `scales` and `zeros`
// must be zero-filled. Throws fathom::Error on a non-finite weight or a range (max - min) that
// overflows fp32: no scale represents those.
void quantizeInt4Matrix(DType inType, const void* in, int64_t rows, int64_t cols, int64_t group,
                        uint8_t* codes, float* scales, uint8_t* zeros);
// `out` gets rows x cols values of `outType` (F32, or BF16/F16 rounded once to nearest even).
void dequantizeInt4Matrix(const uint8_t* codes, int64_t rows, int64_t cols, const void* scales,
                          const uint8_t* zeros, int64_t group, DType outType, void* out);

} // namespace fathom
