#include "fathom/runtime/BlockQuant.h"

#include "fathom/runtime/Error.h"
#include "fathom/runtime/Numeric.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

namespace fathom {

void dequantizeBlockMatrix(DType storage, const uint8_t* codes, int64_t rows, int64_t cols,
                           const void* scales, int64_t scaleCols, int64_t blockRows,
                           int64_t blockCols, DType outType, void* out) {
  if (storage != DType::F8E4M3 && storage != DType::F8E5M2)
    throw Error("FP8 dequantization: codes of dtype " + std::string(dtypeName(storage)) +
                " are not F8_E4M3 or F8_E5M2");
  if (blockRows < 1 || blockCols < 1)
    throw Error("FP8 dequantization: block sizes must be positive");
  float decoded[256];
  for (int code = 0; code < 256; ++code) {
    uint8_t byte = uint8_t(code);
    decoded[code] = loadFloat(storage, &byte);
  }
  const auto* scaleBytes = static_cast<const std::byte*>(scales);
  auto* dst = static_cast<std::byte*>(out);
  const size_t outSize = dtypeSize(outType);
  for (int64_t row = 0; row < rows; ++row) {
    const std::byte* scaleRow = scaleBytes + size_t((row / blockRows) * scaleCols) * 4;
    for (int64_t col = 0; col < cols; ++col) {
      float scale;
      std::memcpy(&scale, scaleRow + size_t(col / blockCols) * 4, 4);
      storeFloat(outType, decoded[codes[row * cols + col]] * scale,
                 dst + size_t(row * cols + col) * outSize);
    }
  }
}

void quantizeInt4Matrix(DType inType, const void* in, int64_t rows, int64_t cols, int64_t group,
                        uint8_t* codes, float* scales, uint8_t* zeros) {
  if (group < 1)
    throw Error("INT4 quantization: the group size must be positive");
  const int64_t groups = (cols + group - 1) / group;
  const size_t inSize = dtypeSize(inType);
  const auto* values = static_cast<const std::byte*>(in);
  for (int64_t row = 0; row < rows; ++row) {
    uint8_t* codeRow = codes + row * u4RowBytes(cols);
    uint8_t* zeroRow = zeros + row * u4RowBytes(groups);
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t begin = g * group, end = std::min(cols, begin + group);
      auto at = [&](int64_t col) {
        return loadFloat(inType, values + size_t(row * cols + col) * inSize);
      };
      float lo = at(begin), hi = lo;
      for (int64_t col = begin; col < end; ++col) {
        float w = at(col);
        if (!std::isfinite(w))
          throw Error("INT4 quantization: weight [" + std::to_string(row) + ", " +
                      std::to_string(col) + "] is not finite");
        lo = std::min(lo, w);
        hi = std::max(hi, w);
      }
      // 1 where max equals min, and likewise where the range is below fp32's subnormals / 15.
      float scale = (hi - lo) / 15.0f;
      if (!std::isfinite(scale))
        throw Error("INT4 quantization: the range of row " + std::to_string(row) + ", columns " +
                    std::to_string(begin) + ".." + std::to_string(end - 1) + " overflows fp32");
      if (scale == 0.0f)
        scale = 1.0f;
      const float zero = std::clamp(std::nearbyint(-lo / scale), 0.0f, 15.0f);
      scales[row * groups + g] = scale;
      storeU4(zeroRow, g, uint8_t(zero));
      for (int64_t col = begin; col < end; ++col) {
        float q = std::clamp(std::nearbyint(at(col) / scale) + zero, 0.0f, 15.0f);
        storeU4(codeRow, col, uint8_t(q));
      }
    }
  }
}

void dequantizeInt4Matrix(const uint8_t* codes, int64_t rows, int64_t cols, const void* scales,
                          const uint8_t* zeros, int64_t group, DType outType, void* out) {
  if (group < 1)
    throw Error("INT4 dequantization: the group size must be positive");
  const int64_t groups = (cols + group - 1) / group;
  const auto* scaleBytes = static_cast<const std::byte*>(scales);
  auto* dst = static_cast<std::byte*>(out);
  const size_t outSize = dtypeSize(outType);
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t col = 0; col < cols; ++col) {
      const int64_t g = col / group;
      float scale;
      std::memcpy(&scale, scaleBytes + size_t(row * groups + g) * 4, 4);
      int code = loadU4(codes + row * u4RowBytes(cols), col);
      int zero = loadU4(zeros + row * u4RowBytes(groups), g);
      storeFloat(outType, float(code - zero) * scale, dst + size_t(row * cols + col) * outSize);
    }
}

} // namespace fathom
