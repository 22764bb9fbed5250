#pragma once
// Reading HF's recorded cases for the e2e tests: tensors (test/reference/outputs/*.safetensors)
// as fp32, and a case's left-padded ids, mask and positions as a batch.
#include "fathom/executor/Model.h"
#include "fathom/frontend/TensorStore.h"
#include "fathom/runtime/Numeric.h"

#include <nlohmann/json.hpp>

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

inline executor::TokenBatch caseBatch(const nlohmann::json& c) {
  executor::TokenBatch batch;
  batch.batch = int64_t(c["input_ids"].size());
  batch.tokens = int64_t(c["input_ids"][0].size());
  for (int64_t b = 0; b < batch.batch; ++b)
    for (int64_t t = 0; t < batch.tokens; ++t) {
      batch.ids.push_back(c["input_ids"][b][t].get<int64_t>());
      batch.mask.push_back(uint8_t(c["attention_mask"][b][t].get<int>()));
      batch.positions.push_back(
          c["position_ids"].is_null() ? t : c["position_ids"][b][t].get<int64_t>());
    }
  return batch;
}

} // namespace fathom::test
