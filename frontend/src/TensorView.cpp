#include "fathom/frontend/TensorView.h"

namespace fathom::frontend {

int64_t TensorView::numel() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim; // the reader rejected shapes whose product overflows
  return count;
}

bool TensorView::isAligned() const {
  return reinterpret_cast<uintptr_t>(data) % dtypeSize(dtype) == 0;
}

std::string formatShape(std::span<const int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

} // namespace fathom::frontend
