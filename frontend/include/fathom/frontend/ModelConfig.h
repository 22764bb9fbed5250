#pragma once
// config.json read into typed structs, with the defaults of the transformers 5.23 config
// classes for absent keys and every value the model needs checked for type and range
// (frontend/README.md lists which keys are required and why).
#include "fathom/frontend/QuantizationConfig.h"
#include "fathom/frontend/RopeConfig.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fathom::frontend {

enum class ModelType { DeepseekV3, DeepseekV2, DeepseekVL };
// What sits on top of the decoder, from "architectures".
enum class HeadKind { CausalLM, SequenceClassification, TokenClassification, VisionLanguage };
// HF's ACT2FN names: GeluTanh is "gelu_pytorch_tanh" (one fused op), GeluNew "gelu_new" (the
// same formula as separate ops).
enum class Activation { Silu, Gelu, GeluTanh, GeluNew, Relu };

std::string_view modelTypeName(ModelType type);
std::string_view headKindName(HeadKind kind);
std::string_view activationName(Activation activation);

// deepseek_v3 and deepseek_v2: MLA attention, dense MLPs in the first layers, then MoE.
struct DeepseekConfig {
  int64_t vocabSize = 0;
  int64_t hiddenSize = 0;
  int64_t intermediateSize = 0;
  int64_t moeIntermediateSize = 0;
  int64_t numHiddenLayers = 0;
  int64_t numAttentionHeads = 0;
  int64_t numKeyValueHeads = 0;
  // Absent (null) for V2-Lite: a single q_proj instead of q_a_proj -> norm -> q_b_proj.
  std::optional<int64_t> qLoraRank;
  int64_t kvLoraRank = 0;
  int64_t qkNopeHeadDim = 0;
  int64_t qkRopeHeadDim = 0;
  int64_t vHeadDim = 0;

  int64_t nRoutedExperts = 0;
  int64_t nSharedExperts = 0;
  int64_t numExpertsPerTok = 0;
  // Group-limited routing; absent for V2's plain greedy top-k.
  std::optional<int64_t> nGroup;
  std::optional<int64_t> topkGroup;
  std::string topkMethod;  // "noaux_tc", "greedy", "group_limited_greedy"
  std::string scoringFunc; // "sigmoid" (V3), "softmax" (V2)
  bool normTopkProb = false;
  double routedScalingFactor = 1.0;
  // V3 routers carry mlp.gate.e_score_correction_bias; V2 routers do not.
  bool routerHasScoreBias = false;
  int64_t firstKDenseReplace = 0;
  int64_t moeLayerFreq = 1;

  Activation hiddenAct = Activation::Silu;
  double rmsNormEps = 1e-6;
  int64_t maxPositionEmbeddings = 0;
  RopeConfig rope;
  // V3: rope_interleave (default true). V2 always rotates adjacent pairs.
  bool ropeInterleave = true;
  bool attentionBias = false;
  bool mlpBias = false; // V2 only: biases on dense and shared-expert MLPs
  // Multi-token-prediction modules stored as model.layers.N.. after the decoder (V3).
  int64_t numNextnPredictLayers = 0;

  int64_t qkHeadDim() const { return qkNopeHeadDim + qkRopeHeadDim; }
  // MoE from first_k_dense_replace on, every moe_layer_freq-th layer (HF ignores the
  // frequency; every published config has 1, where both rules agree).
  bool isMoeLayer(int64_t layer) const;
};

// DeepSeek-VL's language model: HF LlamaConfig.
struct LlamaConfig {
  int64_t vocabSize = 0;
  int64_t hiddenSize = 0;
  int64_t intermediateSize = 0;
  int64_t numHiddenLayers = 0;
  int64_t numAttentionHeads = 0;
  int64_t numKeyValueHeads = 0;
  int64_t headDim = 0;
  Activation hiddenAct = Activation::Silu;
  double rmsNormEps = 1e-6;
  int64_t maxPositionEmbeddings = 0;
  RopeConfig rope;
  bool attentionBias = false;
  bool mlpBias = false;
};

// DeepSeek-VL's vision tower: HF SiglipVisionConfig.
struct SiglipVisionConfig {
  int64_t hiddenSize = 0;
  int64_t intermediateSize = 0;
  int64_t numHiddenLayers = 0;
  int64_t numAttentionHeads = 0;
  int64_t numChannels = 3;
  int64_t imageSize = 0;
  int64_t patchSize = 0;
  Activation hiddenAct = Activation::GeluTanh;
  double layerNormEps = 1e-6;
  bool visionUseHead = true;

  int64_t numPatches() const { return (imageSize / patchSize) * (imageSize / patchSize); }
};

struct DeepseekVlConfig {
  LlamaConfig text;
  SiglipVisionConfig vision;
  int64_t imageTokenId = 100015;
};

struct TokenIds {
  std::optional<int64_t> bos;
  std::vector<int64_t> eos; // config.json allows an int or a list
  std::optional<int64_t> pad;
};

struct ModelConfig {
  ModelType modelType = ModelType::DeepseekV3;
  std::string architecture; // "DeepseekV3ForCausalLM"
  HeadKind head = HeadKind::CausalLM;
  // Classification heads: score.weight [numLabels, hidden] (+ score.bias if scoreHasBias).
  int64_t numLabels = 0;
  std::vector<std::string> labels; // id2label in label order (LABEL_i when absent)
  bool scoreHasBias = false;
  // The lm_head shares the embedding matrix (no lm_head.weight is read).
  bool tieWordEmbeddings = false;
  TokenIds tokens;
  std::optional<QuantizationConfig> quantization;
  // "dtype" (or the older "torch_dtype") as written, empty when absent.
  std::string dtype;
  std::variant<DeepseekConfig, DeepseekVlConfig> model;
  // Accepted oddities worth telling the user (e.g. a token id outside the vocabulary).
  std::vector<std::string> warnings;

  // Null when the model is of the other family.
  const DeepseekConfig* deepseek() const { return std::get_if<DeepseekConfig>(&model); }
  const DeepseekVlConfig* deepseekVl() const { return std::get_if<DeepseekVlConfig>(&model); }
  int64_t textHiddenSize() const;
  int64_t textVocabSize() const;
  int64_t textNumLayers() const;
};

// Reads a parsed config.json; `where` (the file path) prefixes every error.
ModelConfig parseModelConfig(const nlohmann::json& config, const std::string& where);
ModelConfig loadModelConfig(const std::filesystem::path& configFile);

} // namespace fathom::frontend
