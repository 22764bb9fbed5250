#include "ConfigParsers.h"

#include "fathom/frontend/Json.h"
#include "fathom/runtime/Error.h"

#include <array>

namespace fathom::frontend {
namespace {
using Json = nlohmann::json;

constexpr std::array<std::pair<std::string_view, ModelType>, 3> kModelTypes = {{
    {"deepseek_v3", ModelType::DeepseekV3},
    {"deepseek_v2", ModelType::DeepseekV2},
    {"deepseek_vl", ModelType::DeepseekVL},
}};

struct Architecture {
  std::string_view name;
  ModelType type;
  HeadKind head;
};
// The first architecture of each model type is the one assumed when "architectures" is absent.
constexpr std::array<Architecture, 6> kArchitectures = {{
    {"DeepseekV3ForCausalLM", ModelType::DeepseekV3, HeadKind::CausalLM},
    {"DeepseekV3ForSequenceClassification", ModelType::DeepseekV3,
     HeadKind::SequenceClassification},
    {"DeepseekV3ForTokenClassification", ModelType::DeepseekV3, HeadKind::TokenClassification},
    {"DeepseekV2ForCausalLM", ModelType::DeepseekV2, HeadKind::CausalLM},
    {"DeepseekV2ForSequenceClassification", ModelType::DeepseekV2,
     HeadKind::SequenceClassification},
    {"DeepseekVLForConditionalGeneration", ModelType::DeepseekVL, HeadKind::VisionLanguage},
}};

constexpr std::array<std::pair<std::string_view, Activation>, 6> kActivations = {{
    {"silu", Activation::Silu},
    {"swish", Activation::Silu},
    {"gelu", Activation::Gelu},
    {"gelu_pytorch_tanh", Activation::GeluTanh},
    {"gelu_new", Activation::GeluNew},
    {"relu", Activation::Relu},
}};

ModelType parseModelType(const ConfigReader& config) {
  std::string supported;
  for (const auto& [name, type] : kModelTypes)
    supported += (supported.empty() ? "" : ", ") + std::string(name);
  std::optional<std::string> name = config.optionalString("model_type");
  if (!name)
    config.failRelation("missing required key \"model_type\" (supported: " + supported + ")");
  for (const auto& [known, type] : kModelTypes)
    if (*name == known)
      return type;
  config.fail("model_type",
              "names an unsupported model type \"" + *name + "\" (supported: " + supported + ")");
}

const Architecture& parseArchitecture(const ConfigReader& config, ModelType type,
                                      std::vector<std::string>& warnings) {
  std::string supported;
  const Architecture* fallback = nullptr;
  for (const Architecture& architecture : kArchitectures)
    if (architecture.type == type) {
      supported += (supported.empty() ? "" : ", ") + std::string(architecture.name);
      fallback = fallback ? fallback : &architecture;
    }
  const Json* list = config.find("architectures");
  if (!list || list->is_null())
    return *fallback;
  if (!list->is_array() || list->empty() || !(*list)[0].is_string())
    config.fail("architectures",
                "must be a non-empty list of class names, got " + describeJsonValue(*list));
  const std::string& name = (*list)[0].get_ref<const std::string&>();
  if (list->size() > 1)
    warnings.push_back(config.where() + ": \"architectures\" lists " +
                       std::to_string(list->size()) + " classes; using the first, " + name);
  for (const Architecture& architecture : kArchitectures)
    if (architecture.name == name && architecture.type == type)
      return architecture;
  config.fail("architectures", "names an unsupported architecture \"" + name +
                                   "\" for model_type \"" + std::string(modelTypeName(type)) +
                                   "\" (supported: " + supported + ")");
}

// HF's labels: id2label when present (its keys must be exactly "0" .. "n-1", its values names),
// else num_labels (default 2) labels named LABEL_i.
std::vector<std::string> parseLabels(const ConfigReader& config) {
  std::vector<std::string> labels;
  if (const Json* map = config.find("id2label"); map && !map->is_null()) {
    if (!map->is_object() || map->empty())
      config.fail("id2label",
                  "must be a non-empty object of label names, got " + describeJsonValue(*map));
    labels.resize(map->size());
    std::vector<bool> seen(map->size(), false);
    for (const auto& [key, value] : map->items()) {
      size_t index = 0, used = 0;
      bool numeric = !key.empty() && key.size() <= 9 &&
                     key.find_first_not_of("0123456789") == std::string::npos;
      if (numeric)
        index = std::stoul(key, &used);
      if (!numeric || index >= labels.size() || seen[index] || (key.size() > 1 && key[0] == '0'))
        config.fail("id2label", "keys must be the label ids 0.." +
                                    std::to_string(labels.size() - 1) + ", got \"" + key + "\"");
      if (!value.is_string())
        config.fail("id2label",
                    "label " + key + " must be a string, got " + describeJsonValue(value));
      seen[index] = true;
      labels[index] = value.get<std::string>();
    }
    return labels;
  }
  int64_t count = config.integerOr("num_labels", 2, kLabelCount);
  for (int64_t i = 0; i < count; ++i)
    labels.push_back("LABEL_" + std::to_string(i));
  return labels;
}

void warnAboutTokenIds(const TokenIds& tokens, int64_t vocabSize, const std::string& where,
                       std::vector<std::string>& warnings) {
  auto check = [&](const char* key, int64_t id) {
    if (id < 0 || id >= vocabSize)
      warnings.push_back(where + ": \"" + key + "\" " + std::to_string(id) +
                         " is outside the vocabulary [0, " + std::to_string(vocabSize) + ")");
  };
  if (tokens.bos)
    check("bos_token_id", *tokens.bos);
  for (int64_t id : tokens.eos)
    check("eos_token_id", id);
  if (tokens.pad)
    check("pad_token_id", *tokens.pad);
}
} // namespace

std::string_view modelTypeName(ModelType type) {
  for (const auto& [name, known] : kModelTypes)
    if (known == type)
      return name;
  return "unknown";
}

std::string_view headKindName(HeadKind kind) {
  switch (kind) {
  case HeadKind::CausalLM:
    return "causal LM";
  case HeadKind::SequenceClassification:
    return "sequence classification";
  case HeadKind::TokenClassification:
    return "token classification";
  case HeadKind::VisionLanguage:
    return "vision-language generation";
  }
  return "unknown";
}

std::string_view activationName(Activation activation) {
  switch (activation) {
  case Activation::Silu:
    return "silu";
  case Activation::Gelu:
    return "gelu";
  case Activation::GeluTanh:
    return "gelu_pytorch_tanh";
  case Activation::GeluNew:
    return "gelu_new";
  case Activation::Relu:
    return "relu";
  }
  return "unknown";
}

Activation parseActivation(const ConfigReader& config, std::string_view key,
                           std::string_view fallback) {
  std::string name = config.choiceOr(
      key, fallback, {"silu", "swish", "gelu", "gelu_pytorch_tanh", "gelu_new", "relu"});
  for (const auto& [known, activation] : kActivations)
    if (name == known)
      return activation;
  return Activation::Silu; // unreachable: choiceOr accepted only the names above
}

TokenIds parseTokenIds(const ConfigReader& config, std::optional<int64_t> bos,
                       std::optional<int64_t> eos) {
  TokenIds tokens;
  tokens.bos = config.nullableInteger("bos_token_id", bos, {});
  tokens.pad = config.nullableInteger("pad_token_id", std::nullopt, {});
  const Json* eosValue = config.find("eos_token_id");
  if (!eosValue) {
    if (eos)
      tokens.eos.push_back(*eos);
  } else if (eosValue->is_number_integer()) {
    tokens.eos.push_back(eosValue->get<int64_t>());
  } else if (eosValue->is_array()) {
    for (const Json& id : *eosValue) {
      if (!id.is_number_integer())
        config.fail("eos_token_id", "must be an integer or a list of integers, got " +
                                        describeJsonValue(*eosValue));
      tokens.eos.push_back(id.get<int64_t>());
    }
  } else if (!eosValue->is_null()) {
    config.fail("eos_token_id",
                "must be an integer or a list of integers, got " + describeJsonValue(*eosValue));
  }
  return tokens;
}

int64_t ModelConfig::textHiddenSize() const {
  return deepseek() ? deepseek()->hiddenSize : deepseekVl()->text.hiddenSize;
}
int64_t ModelConfig::textVocabSize() const {
  return deepseek() ? deepseek()->vocabSize : deepseekVl()->text.vocabSize;
}
int64_t ModelConfig::textNumLayers() const {
  return deepseek() ? deepseek()->numHiddenLayers : deepseekVl()->text.numHiddenLayers;
}

ModelConfig parseModelConfig(const Json& json, const std::string& where) {
  ConfigReader config(json, where);
  ModelConfig result;
  result.modelType = parseModelType(config);
  const Architecture& architecture = parseArchitecture(config, result.modelType, result.warnings);
  result.architecture = std::string(architecture.name);
  result.head = architecture.head;

  switch (result.modelType) {
  case ModelType::DeepseekV3:
    result.model = parseDeepseekConfig(config, result.modelType);
    result.tokens = parseTokenIds(config, 0, 1);
    result.tieWordEmbeddings = config.booleanOr("tie_word_embeddings", false);
    break;
  case ModelType::DeepseekV2:
    result.model = parseDeepseekConfig(config, result.modelType);
    result.tokens = parseTokenIds(config, 1, 2);
    result.tieWordEmbeddings = config.booleanOr("tie_word_embeddings", false);
    break;
  case ModelType::DeepseekVL:
    result.model = parseDeepseekVlConfig(config);
    // The special tokens live with the language model; LlamaConfig defaults them to 1 / 2.
    result.tokens = parseTokenIds(config.child("text_config"), 1, 2);
    // DeepseekVLConfig ties by default, and HF reads the top-level flag, not text_config's.
    result.tieWordEmbeddings = config.booleanOr("tie_word_embeddings", true);
    break;
  }
  if (result.head == HeadKind::SequenceClassification ||
      result.head == HeadKind::TokenClassification) {
    result.labels = parseLabels(config);
    result.numLabels = int64_t(result.labels.size());
    result.scoreHasBias = result.head == HeadKind::TokenClassification &&
                          config.booleanOr("token_classification_bias", true);
  }
  result.quantization = parseQuantizationConfig(config);
  if (auto dtype = config.optionalString("dtype"))
    result.dtype = *dtype;
  else if (auto torchDtype = config.optionalString("torch_dtype"))
    result.dtype = *torchDtype;
  warnAboutTokenIds(result.tokens, result.textVocabSize(), where, result.warnings);
  return result;
}

ModelConfig loadModelConfig(const std::filesystem::path& configFile) {
  return parseModelConfig(loadJsonFile(configFile), configFile.string());
}

} // namespace fathom::frontend
