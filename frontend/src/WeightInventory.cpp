#include "fathom/frontend/WeightInventory.h"

#include "fathom/frontend/DeepseekVlTensors.h"

#include "fathom/frontend/Fp8Dequant.h"
#include "fathom/frontend/Json.h"

#include <algorithm>
#include <charconv>
#include <unordered_set>

namespace fathom::frontend {
namespace {
constexpr size_t kExamples = 3;

std::string moreProblems(size_t count) {
  return " (and " + std::to_string(count) + (count == 1 ? " more problem)" : " more problems)");
}

std::string examples(const std::vector<std::string>& names) {
  std::string text;
  for (size_t i = 0; i < names.size() && i < kExamples; ++i)
    text += (i ? ", " : "") + names[i];
  if (names.size() > kExamples)
    text += " (and " + std::to_string(names.size() - kExamples) + " more)";
  return text;
}

std::string inQuotes(std::string_view name) {
  return "\"" + std::string(name) + "\"";
}

// Decides, per MoE layer, whether its experts are fused; a layer holding both forms is
// ambiguous and an error.
std::vector<bool> detectExpertLayouts(const ModelConfig& config, const DeepseekConfig& model,
                                      const TensorStore& store, InventoryReport& report) {
  std::vector<bool> fused(size_t(model.numHiddenLayers), false);
  bool sawFused = false;
  bool sawPerExpert = false;
  for (int64_t layer = 0; layer < model.numHiddenLayers; ++layer) {
    if (!model.isMoeLayer(layer))
      continue;
    const std::string experts = decoderLayerPrefix(config, layer) + "mlp.experts.";
    const bool hasFused = store.find(experts + "gate_up_proj") || store.find(experts + "down_proj");
    const bool hasPerExpert = store.find(experts + "0.gate_proj.weight") ||
                              store.find(experts + "0.up_proj.weight") ||
                              store.find(experts + "0.down_proj.weight");
    if (hasFused && hasPerExpert)
      report.errors.push_back("layer " + std::to_string(layer) +
                              " stores its experts both fused (" + experts +
                              "gate_up_proj) and per expert (" + experts + "0.gate_proj.weight)");
    fused[size_t(layer)] = hasFused && !hasPerExpert;
    sawFused |= fused[size_t(layer)];
    sawPerExpert |= !fused[size_t(layer)];
  }
  report.expertLayout = sawFused && sawPerExpert ? ExpertLayout::Mixed
                        : sawFused               ? ExpertLayout::Fused
                        : sawPerExpert           ? ExpertLayout::PerExpert
                                                 : ExpertLayout::None;
  return fused;
}

void checkExpected(const std::vector<ExpectedTensor>& expected, const TensorStore& store,
                   std::unordered_set<std::string_view>& used, InventoryReport& report) {
  for (const ExpectedTensor& tensor : expected) {
    std::optional<TensorView> view = store.find(tensor.name);
    if (!view) {
      report.missing.push_back(tensor.name);
      continue;
    }
    used.insert(view->name);
    if (!std::equal(view->shape.begin(), view->shape.end(), tensor.shape.begin(),
                    tensor.shape.end()))
      report.errors.push_back("tensor " + inQuotes(tensor.name) + " has shape " +
                              formatShape(view->shape) + ", but the config needs " +
                              formatShape(tensor.shape) + " = " + tensor.shapeRule);
    else if (!isFloatingPoint(view->dtype))
      report.errors.push_back("tensor " + inQuotes(tensor.name) + " has dtype " +
                              std::string(dtypeName(view->dtype)) +
                              ", expected a floating-point dtype");
  }
}

// Every FP8 tensor present, wherever it is, needs a float32 scale grid of the right shape.
void checkFp8(const ModelConfig& config, const TensorView& weight, const TensorStore& store,
              std::unordered_set<std::string_view>& used, InventoryReport& report) {
  ++report.fp8WeightCount;
  const std::string name = inQuotes(weight.name);
  const std::string dtype(dtypeName(weight.dtype));
  if (!config.quantization) {
    report.errors.push_back("tensor " + name + " is " + dtype +
                            " but config.json has no quantization_config");
    return;
  }
  const QuantizationConfig& quantization = *config.quantization;
  if (weight.dtype != quantization.weightDType) {
    report.errors.push_back("tensor " + name + " is " + dtype + " but quantization_config says " +
                            std::string(dtypeName(quantization.weightDType)));
    return;
  }
  if (weight.rank() < 2) {
    report.errors.push_back("FP8 tensor " + name + " has shape " + formatShape(weight.shape) +
                            "; block scales need at least 2 dimensions");
    return;
  }
  const std::string scaleName = fp8ScaleName(weight.name);
  std::optional<TensorView> scale = store.find(scaleName);
  if (!scale) {
    report.errors.push_back("FP8 tensor " + name + " has no scale tensor " + inQuotes(scaleName));
    return;
  }
  used.insert(scale->name);
  const BlockSize block = quantization.weightBlockSize;
  if (scale->dtype != DType::F32)
    report.errors.push_back("scale tensor " + inQuotes(scaleName) + " is " +
                            std::string(dtypeName(scale->dtype)) + ", expected F32");
  else if (!isFp8ScaleShapeValid(weight.name, weight.shape, scale->shape, block))
    report.errors.push_back("scale tensor " + inQuotes(scaleName) + " has shape " +
                            formatShape(scale->shape) + ", expected " +
                            formatShape(fp8ScaleShape(weight.shape, block)) + " for " + name + " " +
                            formatShape(weight.shape) + " with " + std::to_string(block[0]) + "x" +
                            std::to_string(block[1]) + " blocks");
}

// model.layers.N.* with N in [num_hidden_layers, + num_nextn_predict_layers): the MTP modules.
std::optional<int64_t> mtpLayerOf(std::string_view name, const DeepseekConfig& model) {
  constexpr std::string_view kPrefix = "model.layers.";
  if (!name.starts_with(kPrefix))
    return std::nullopt;
  name.remove_prefix(kPrefix.size());
  int64_t layer = -1;
  auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), layer);
  if (error != std::errc() || end == name.data() + name.size() || *end != '.')
    return std::nullopt;
  if (layer < model.numHiddenLayers || layer >= model.numHiddenLayers + model.numNextnPredictLayers)
    return std::nullopt;
  return layer;
}
} // namespace

InventoryReport checkInventory(const ModelConfig& config, const TensorStore& store) {
  InventoryReport report;
  ExpectedTensorOptions options;
  std::vector<bool> fusedLayers;
  const DeepseekConfig* model = config.deepseek();
  if (model) {
    fusedLayers = detectExpertLayouts(config, *model, store, report);
    options.fusedExperts = [&](int64_t layer) { return bool(fusedLayers[size_t(layer)]); };
  } else {
    options.visionPrefix =
        deepseekVlVisionPrefix([&](const std::string& name) { return bool(store.find(name)); });
    report.visionPrefix = options.visionPrefix;
  }
  const std::vector<ExpectedTensor> expected = expectedTensors(config, options);
  report.expectedCount = expected.size();

  std::unordered_set<std::string_view> used;
  used.reserve(store.size());
  checkExpected(expected, store, used, report);
  for (std::string_view name : store.names()) {
    TensorView view = *store.find(name);
    if (view.dtype == DType::F8E4M3 || view.dtype == DType::F8E5M2)
      checkFp8(config, view, store, used, report);
    if (model)
      if (std::optional<int64_t> layer = mtpLayerOf(name, *model)) {
        used.insert(name);
        ++report.mtpTensorCount;
        if (report.mtpLayers.empty() || report.mtpLayers.back() != *layer)
          report.mtpLayers.push_back(*layer);
      }
  }
  std::sort(report.mtpLayers.begin(), report.mtpLayers.end());
  report.mtpLayers.erase(std::unique(report.mtpLayers.begin(), report.mtpLayers.end()),
                         report.mtpLayers.end());

  for (std::string_view name : store.names())
    if (!used.count(name))
      report.unexpected.emplace_back(name);
  if (config.tieWordEmbeddings && store.find("lm_head.weight"))
    report.notes.push_back("lm_head.weight is present but tie_word_embeddings is true: the head "
                           "reuses the embedding matrix, as transformers does");
  return report;
}

std::string InventoryReport::errorSummary(const std::string& where) const {
  if (ok())
    return "";
  std::string message = where + ": ";
  if (!missing.empty()) {
    message += std::to_string(missing.size()) + " of " + std::to_string(expectedCount) +
               " expected tensors missing: " + examples(missing);
    if (!errors.empty())
      message +=
          "; also " + errors.front() + (errors.size() > 1 ? moreProblems(errors.size() - 1) : "");
  } else {
    message += errors.front();
    if (errors.size() > 1)
      message += moreProblems(errors.size() - 1);
  }
  return singleLine(message);
}

std::string InventoryReport::unexpectedSummary() const {
  if (unexpected.empty())
    return "";
  return std::to_string(unexpected.size()) +
         " tensors not read by the architecture: " + examples(unexpected);
}

} // namespace fathom::frontend
