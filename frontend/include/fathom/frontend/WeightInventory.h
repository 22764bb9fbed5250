#pragma once
// Holds a checkpoint's tensors against what its config says the architecture reads: missing
// tensors, wrong shapes or dtypes and FP8 weights without a valid scale are errors; tensors
// nothing reads are warnings; MTP layers (model.layers.N.. after the decoder) are recognised
// and reported, never flagged.
#include "fathom/frontend/ExpectedTensors.h"
#include "fathom/frontend/TensorStore.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fathom::frontend {

struct InventoryReport {
  ExpertLayout expertLayout = ExpertLayout::None;
  // "model.vision_model." or "model.vision_model.vision_model." (DeepSeek-VL only).
  std::string visionPrefix;
  size_t expectedCount = 0;
  // MTP layer indices present, and how many tensors they hold.
  std::vector<int64_t> mtpLayers;
  size_t mtpTensorCount = 0;
  size_t fp8WeightCount = 0;

  std::vector<std::string> missing;    // expected names absent from the checkpoint
  std::vector<std::string> errors;     // wrong shapes, dtypes, FP8 scales: one line each
  std::vector<std::string> unexpected; // present, read by nothing
  std::vector<std::string> notes;      // explanations for some unexpected tensors

  bool ok() const { return missing.empty() && errors.empty(); }
  // One line for the first kind of problem: up to three examples and a count, prefixed with
  // `where` (the weights file or index). Empty when ok().
  std::string errorSummary(const std::string& where) const;
  // One line about unexpected tensors; empty when there are none.
  std::string unexpectedSummary() const;
};

InventoryReport checkInventory(const ModelConfig& config, const TensorStore& tensors);

} // namespace fathom::frontend
