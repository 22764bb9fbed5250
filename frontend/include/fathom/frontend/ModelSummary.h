#pragma once
// What `fathom-compile CKPT --inspect` prints about an opened checkpoint, as text for people
// and as JSON for scripts.
#include "fathom/frontend/Checkpoint.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fathom::frontend {

// Consecutive decoder layers of one kind.
struct LayerRun {
  int64_t first = 0;
  int64_t last = 0;
  bool moe = false;
};
std::vector<LayerRun> layerRuns(const ModelConfig& config);
// "0: dense MLP, 1-2: MoE (16 routed, top-4, 1 shared)".
std::string describeLayerRuns(const ModelConfig& config);

struct DTypeTotals {
  DType dtype = DType::F32;
  uint64_t tensors = 0;
  uint64_t parameters = 0;
  uint64_t bytes = 0;
};
// Per dtype, largest parameter count first.
std::vector<DTypeTotals> totalsByDType(const TensorStore& tensors);

// "671.0B", "15.7M", "930": parameter counts as people read them.
std::string formatCount(uint64_t count);
// "688.6 GB", "12.3 MB" (decimal units, as the hub shows sizes).
std::string formatBytes(uint64_t bytes);

std::string formatSummaryText(const Checkpoint& checkpoint);
nlohmann::json summaryJson(const Checkpoint& checkpoint);

} // namespace fathom::frontend
