#include "fathom/runtime/BlockQuant.h"

#include "fathom/runtime/Error.h"
#include "fathom/runtime/Numeric.h"

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

} // namespace fathom
