#pragma once
// Reading HF's recorded tensors (test/reference/outputs/*.safetensors) as fp32, for the e2e tests.
#include "fathom/frontend/TensorStore.h"
#include "fathom/runtime/Numeric.h"

#include <string>
#include <vector>

namespace fathom::test {

inline std::vector<float> readFloats(const frontend::TensorStore& store, const std::string& name) {
  frontend::TensorView view = store.get(name);
  std::vector<float> values(size_t(view.numel()));
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = loadFloat(view.dtype, view.data + i * dtypeSize(view.dtype));
  return values;
}

} // namespace fathom::test
