#include "fathom/frontend/Checkpoint.h"

#include "fathom/frontend/Json.h"
#include "fathom/runtime/Error.h"

#include <algorithm>

namespace fathom::frontend {
namespace {
namespace fs = std::filesystem;

bool isFile(const fs::path& path) {
  std::error_code error;
  return fs::exists(path, error);
}

// Locates an optional file; empty path when absent.
fs::path locate(const fs::path& folder, const char* name) {
  fs::path path = folder / name;
  return isFile(path) ? path : fs::path();
}

nlohmann::json loadJsonObject(const fs::path& path) {
  nlohmann::json json = loadJsonFile(path);
  if (!json.is_object())
    throw Error(
        singleLine(path.string() + ": must be a JSON object, got " + describeJsonValue(json)));
  return json;
}

void validateTokenizer(const fs::path& path) {
  JsonOutline outline = validateJsonFile(path);
  const auto& keys = outline.topLevelKeys;
  if (!outline.isObject || std::find(keys.begin(), keys.end(), "model") == keys.end())
    throw Error(path.string() +
                ": expected a tokenizers JSON object with a \"model\" section (tokenizer.json)");
}
} // namespace

Checkpoint Checkpoint::open(const fs::path& folder, const CheckpointOptions& options) {
  std::error_code error;
  if (!fs::exists(folder, error))
    throw Error(folder.string() + ": checkpoint folder does not exist");
  if (!fs::is_directory(folder, error))
    throw Error(folder.string() + ": not a folder (expected a Hugging Face checkpoint folder)");

  Checkpoint checkpoint;
  CheckpointFiles& files = checkpoint.files_;
  files.folder = folder;
  files.config = folder / "config.json";
  if (!isFile(files.config))
    throw Error(files.config.string() + ": file not found (a checkpoint folder needs config.json)");
  checkpoint.config_ = loadModelConfig(files.config);
  const ModelConfig& config = checkpoint.config_;

  files.generationConfig = locate(folder, "generation_config.json");
  checkpoint.generationConfig_ =
      files.generationConfig.empty()
          ? generationConfigFromModel(config)
          : parseGenerationConfig(loadJsonFile(files.generationConfig),
                                  files.generationConfig.string(), config);

  // transformers prefers a single model.safetensors over an index, and so do we.
  const fs::path single = folder / "model.safetensors";
  const fs::path index = folder / "model.safetensors.index.json";
  if (isFile(single)) {
    files.weights = single;
    checkpoint.tensors_ = TensorStore::openSingleFile(single);
    if (isFile(index))
      checkpoint.warnings_.push_back(folder.string() + ": both model.safetensors and " +
                                     "model.safetensors.index.json exist; using model.safetensors");
  } else if (isFile(index)) {
    files.weights = index;
    checkpoint.tensors_ = TensorStore::openIndex(index);
  } else if (options.requireWeights) {
    throw Error(folder.string() +
                ": no weights (expected model.safetensors or model.safetensors.index.json)");
  }

  files.tokenizer = locate(folder, "tokenizer.json");
  if (!files.tokenizer.empty())
    validateTokenizer(files.tokenizer);
  files.tokenizerConfig = locate(folder, "tokenizer_config.json");
  if (!files.tokenizerConfig.empty())
    checkpoint.tokenizerConfig_ = loadJsonObject(files.tokenizerConfig);
  files.preprocessorConfig = locate(folder, "preprocessor_config.json");
  if (!files.preprocessorConfig.empty())
    checkpoint.preprocessorConfig_ = loadJsonObject(files.preprocessorConfig);
  files.processorConfig = locate(folder, "processor_config.json");
  if (!files.processorConfig.empty()) {
    checkpoint.processorConfig_ = loadJsonObject(files.processorConfig);
    auto section = checkpoint.processorConfig_.find("image_processor");
    if (section != checkpoint.processorConfig_.end() && !section->is_object())
      throw Error(singleLine(files.processorConfig.string() +
                             ": \"image_processor\" must be an object, got " +
                             describeJsonValue(*section)));
  }
  files.chatTemplate = locate(folder, "chat_template.jinja");

  if (checkpoint.hasWeights())
    checkpoint.inventory_ = checkInventory(config, checkpoint.tensors_);
  const InventoryReport& inventory = checkpoint.inventory_;
  if (options.inventoryErrorsAreFatal && !inventory.ok())
    throw Error(inventory.errorSummary(files.weights.string()));

  auto& warnings = checkpoint.warnings_;
  warnings.insert(warnings.end(), config.warnings.begin(), config.warnings.end());
  for (const std::string& warning : checkpoint.tensors_.warnings())
    warnings.push_back(warning);
  if (std::string unexpected = inventory.unexpectedSummary(); !unexpected.empty())
    warnings.push_back(files.weights.string() + ": " + unexpected);
  warnings.insert(warnings.end(), inventory.notes.begin(), inventory.notes.end());
  if (config.deepseekVl() && !checkpoint.imageProcessorConfig())
    warnings.push_back(folder.string() + ": no preprocessor_config.json or processor_config.json "
                                         "with an image_processor (images cannot be "
                                         "preprocessed without it)");
  return checkpoint;
}

WeightCatalog Checkpoint::weightCatalog() const {
  return hasWeights() ? WeightCatalog::fromTensors(tensors_) : WeightCatalog::fromConfig(config_);
}

// transformers 5.23 prefers the nested copy when both files exist (checked with
// AutoImageProcessor on a folder whose two copies differ).
const nlohmann::json* Checkpoint::imageProcessorConfig() const {
  if (processorConfig_.is_object())
    if (auto section = processorConfig_.find("image_processor"); section != processorConfig_.end())
      return &*section;
  if (!preprocessorConfig_.is_null())
    return &preprocessorConfig_;
  return nullptr;
}

} // namespace fathom::frontend
