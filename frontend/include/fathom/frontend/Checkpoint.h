#pragma once
// A Hugging Face checkpoint folder, opened and validated: the entry point the model builder
// and the artifact writer use. Opening reads config.json, generation_config.json, the
// weights (model.safetensors, or model.safetensors.index.json and its shards, mapped, never
// read) and locates the tokenizer and preprocessor files, validating each; then it holds the
// tensors against the architecture (WeightInventory.h).
#include "fathom/frontend/GenerationConfig.h"
#include "fathom/frontend/ModelConfig.h"
#include "fathom/frontend/TensorStore.h"
#include "fathom/frontend/WeightCatalog.h"
#include "fathom/frontend/WeightInventory.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::frontend {

// The files of a checkpoint folder; optional ones are empty paths when absent.
struct CheckpointFiles {
  std::filesystem::path folder;
  std::filesystem::path config;           // config.json
  std::filesystem::path weights;          // model.safetensors or model.safetensors.index.json
  std::filesystem::path generationConfig; // generation_config.json
  std::filesystem::path tokenizer;        // tokenizer.json
  std::filesystem::path tokenizerConfig;  // tokenizer_config.json
  // DeepSeek-VL's image processor settings: preprocessor_config.json (transformers 4 and the
  // hub), or the "image_processor" section of processor_config.json (transformers 5).
  std::filesystem::path preprocessorConfig; // preprocessor_config.json
  std::filesystem::path processorConfig;    // processor_config.json
  std::filesystem::path chatTemplate;       // chat_template.jinja (transformers 5)
};

struct CheckpointOptions {
  // Throw when the inventory finds missing tensors or wrong shapes (the default). Off, the
  // problems stay in inventory() for a caller that wants to show them all.
  bool inventoryErrorsAreFatal = true;
  // Off, a folder without model.safetensors(.index.json) opens too: tensors() is empty and
  // weightCatalog() plans the weights from the config (fathom-compile --report).
  bool requireWeights = true;
};

class Checkpoint {
public:
  // Throws fathom::Error with a one-line message naming the file and the problem.
  static Checkpoint open(const std::filesystem::path& folder,
                         const CheckpointOptions& options = {});

  const CheckpointFiles& files() const { return files_; }
  const ModelConfig& config() const { return config_; }
  const GenerationConfig& generationConfig() const { return generationConfig_; }
  const TensorStore& tensors() const { return tensors_; }
  const InventoryReport& inventory() const { return inventory_; }
  bool hasWeights() const { return !files_.weights.empty(); }
  // The weights' dtypes and shapes: the tensors' own, or planned from the config when the
  // folder has none.
  WeightCatalog weightCatalog() const;

  std::optional<TensorView> findTensor(std::string_view name) const { return tensors_.find(name); }
  TensorView tensor(std::string_view name) const { return tensors_.get(name); }
  std::span<const std::string_view> tensorNames() const { return tensors_.names(); }

  // Parsed tokenizer_config.json, null when absent. tokenizer.json is only validated here
  // (it is megabytes); the tokenizer reads it itself.
  const nlohmann::json* tokenizerConfig() const { return optionalJson(tokenizerConfig_); }
  // The image processor settings (processor_config.json's "image_processor", else
  // preprocessor_config.json, as transformers 5.23 picks them), null when neither exists.
  const nlohmann::json* imageProcessorConfig() const;
  // Parsed processor_config.json, null when absent.
  const nlohmann::json* processorConfig() const { return optionalJson(processorConfig_); }

  // Everything accepted but worth telling the user, one line each.
  std::span<const std::string> warnings() const { return warnings_; }

private:
  static const nlohmann::json* optionalJson(const nlohmann::json& json) {
    return json.is_null() ? nullptr : &json;
  }

  CheckpointFiles files_;
  ModelConfig config_;
  GenerationConfig generationConfig_;
  TensorStore tensors_;
  InventoryReport inventory_;
  nlohmann::json tokenizerConfig_;
  nlohmann::json preprocessorConfig_;
  nlohmann::json processorConfig_;
  std::vector<std::string> warnings_;
};

} // namespace fathom::frontend
