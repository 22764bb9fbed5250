#pragma once
// The dtype and shape of each weight a model builder may ask for: read from a checkpoint's
// tensors, or, for planning without weights (fathom-compile --report on a folder that holds
// only config.json), derived from the config the way the published checkpoints store them.
#include "fathom/frontend/ModelConfig.h"
#include "fathom/frontend/TensorStore.h"
#include "fathom/runtime/DType.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::frontend {

struct WeightInfo {
  DType dtype = DType::BF16;
  std::vector<int64_t> shape;
};

class WeightCatalog {
public:
  // The checkpoint's tensors (not copied: `tensors` must outlive the catalog).
  static WeightCatalog fromTensors(const TensorStore& tensors);
  // Every tensor the config implies, per-expert layout, stored in the config's dtype; with a
  // quantization_config, every projection of a decoder layer (attention, dense and expert
  // MLPs, not the router) in its FP8 format with a `<name>_scale_inv` of fp32 block scales, as
  // DeepSeek publishes them. The V3 router bias stays fp32.
  static WeightCatalog fromConfig(const ModelConfig& config);

  std::optional<WeightInfo> find(std::string_view name) const;
  // Throws fathom::Error naming the tensor when it is absent.
  WeightInfo get(std::string_view name) const;
  bool hasWeights() const { return tensors_ != nullptr; }

private:
  const TensorStore* tensors_ = nullptr;
  std::map<std::string, WeightInfo, std::less<>> planned_;
};

// The dtype a config says its weights are stored in ("dtype" / "torch_dtype"); BF16 when absent.
DType configWeightDType(const ModelConfig& config);

} // namespace fathom::frontend
