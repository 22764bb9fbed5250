#include "fathom/frontend/WeightCatalog.h"

#include "fathom/frontend/ExpectedTensors.h"
#include "fathom/frontend/Fp8Dequant.h"
#include "fathom/runtime/Error.h"

namespace fathom::frontend {
namespace {

// DeepSeek's FP8 checkpoints quantize the projections of decoder layers and nothing else.
bool isQuantizedProjection(std::string_view name) {
  return name.starts_with("model.layers.") && name.ends_with("_proj.weight");
}

} // namespace

DType configWeightDType(const ModelConfig& config) {
  if (config.dtype == "float32")
    return DType::F32;
  if (config.dtype == "float16")
    return DType::F16;
  return DType::BF16;
}

WeightCatalog WeightCatalog::fromTensors(const TensorStore& tensors) {
  WeightCatalog catalog;
  catalog.tensors_ = &tensors;
  return catalog;
}

WeightCatalog WeightCatalog::fromConfig(const ModelConfig& config) {
  WeightCatalog catalog;
  DType stored = configWeightDType(config);
  for (ExpectedTensor& tensor : expectedTensors(config)) {
    WeightInfo info{stored, tensor.shape};
    if (tensor.name.ends_with("e_score_correction_bias")) {
      info.dtype = DType::F32;
    } else if (config.quantization && isQuantizedProjection(tensor.name)) {
      info.dtype = config.quantization->weightDType;
      catalog.planned_[fp8ScaleName(tensor.name)] = {
          DType::F32, fp8ScaleShape(tensor.shape, config.quantization->weightBlockSize)};
    }
    catalog.planned_[std::move(tensor.name)] = std::move(info);
  }
  return catalog;
}

std::optional<WeightInfo> WeightCatalog::find(std::string_view name) const {
  if (tensors_) {
    std::optional<TensorView> view = tensors_->find(name);
    if (!view)
      return std::nullopt;
    return WeightInfo{view->dtype, std::vector<int64_t>(view->shape.begin(), view->shape.end())};
  }
  auto found = planned_.find(name);
  if (found == planned_.end())
    return std::nullopt;
  return found->second;
}

WeightInfo WeightCatalog::get(std::string_view name) const {
  if (std::optional<WeightInfo> info = find(name))
    return *info;
  throw Error("tensor " + std::string(name) + " is not in the " +
              (tensors_ ? "checkpoint " + tensors_->source().string() : std::string("config")));
}

} // namespace fathom::frontend
