// deepseek_v3 and deepseek_v2 configs. Defaults are those of transformers 5.23's
// DeepseekV3Config / DeepseekV2Config (configuration_deepseek_v{2,3}.py), except that the keys
// which fix tensor shapes are required (frontend/README.md).
#include "ConfigParsers.h"

#include <algorithm>

namespace fathom::frontend {
namespace {
struct DeepseekDefaults {
  std::optional<int64_t> qLoraRank;
  int64_t nSharedExperts;
  std::optional<int64_t> numExpertsPerTok;
  std::optional<int64_t> nGroup;
  std::optional<int64_t> topkGroup;
  const char* topkMethod;
  const char* scoringFunc;
  bool normTopkProb;
  double routedScalingFactor;
  int64_t firstKDenseReplace;
  int64_t maxPositionEmbeddings;
  int64_t numNextnPredictLayers;
};

// DeepseekV3Config: q_lora_rank 1536, n_shared_experts 1, top-8 of 8 groups keeping 4, scale
// 2.5, 3 dense layers, 4096 positions, num_mtp_layers 1. topk_method and scoring_func are not
// HF fields (HF always routes sigmoid + noaux_tc); the defaults say what HF does.
constexpr DeepseekDefaults kV3Defaults{1536,      1,    8,   8, 4,    "noaux_tc",
                                       "sigmoid", true, 2.5, 3, 4096, 1};
// DeepseekV2Config: num_experts_per_tok and the groups default to None, greedy softmax routing,
// no renormalisation, scale 1.0, first_k_dense_replace 0, 2048 positions, no MTP.
constexpr DeepseekDefaults kV2Defaults{
    1536, 2, std::nullopt, std::nullopt, std::nullopt, "greedy", "softmax", false, 1.0, 0, 2048, 0};

constexpr IntRange kMtpLayerCount{0, kLayerCount.max};
// Released models scale by 1 to 16; a factor past this overflows the expert sum.
constexpr NumberRange kScalingFactor{0.0, 1e3, /*minExclusive=*/true};

std::string keyAndValue(std::string_view key, int64_t value) {
  return "\"" + std::string(key) + "\" (" + std::to_string(value) + ")";
}

void readAttention(const ConfigReader& config, const DeepseekDefaults& defaults,
                   DeepseekConfig& model) {
  model.numAttentionHeads = config.integer("num_attention_heads", kHeadCount);
  // HF's V3 default is the literal 128 (= the real head count); any other head count needs
  // kv = heads for its repeat_kv, so the head count is the default that works everywhere.
  model.numKeyValueHeads =
      config.nullableInteger("num_key_value_heads", model.numAttentionHeads, kHeadCount)
          .value_or(model.numAttentionHeads);
  model.qLoraRank = config.nullableInteger("q_lora_rank", defaults.qLoraRank, kDimension);
  model.kvLoraRank = config.integer("kv_lora_rank", kDimension);
  model.qkNopeHeadDim = config.integer("qk_nope_head_dim", kHeadDim);
  model.qkRopeHeadDim = config.integer("qk_rope_head_dim", kHeadDim);
  model.vHeadDim = config.integer("v_head_dim", kHeadDim);
  model.attentionBias = config.booleanOr("attention_bias", false);

  if (model.numAttentionHeads % model.numKeyValueHeads != 0)
    config.failRelation(keyAndValue("num_attention_heads", model.numAttentionHeads) +
                        " must be a multiple of " +
                        keyAndValue("num_key_value_heads", model.numKeyValueHeads));
  if (model.qkRopeHeadDim % 2 != 0)
    config.failRelation(keyAndValue("qk_rope_head_dim", model.qkRopeHeadDim) +
                        " must be even (RoPE rotates pairs)");
}

void readRouting(const ConfigReader& config, ModelType type, const DeepseekDefaults& defaults,
                 DeepseekConfig& model) {
  const bool isV3 = type == ModelType::DeepseekV3;
  model.nRoutedExperts = config.integer("n_routed_experts", kExpertCount);
  model.nSharedExperts =
      config.integerOr("n_shared_experts", defaults.nSharedExperts, IntRange{0, kExpertCount.max});
  std::optional<int64_t> topK =
      config.nullableInteger("num_experts_per_tok", defaults.numExpertsPerTok, kExpertCount);
  if (!topK)
    config.failRelation("missing required key \"num_experts_per_tok\" (a positive integer; "
                        "HF's " +
                        std::string(modelTypeName(type)) + " default is None)");
  model.numExpertsPerTok = *topK;
  model.topkMethod = isV3 ? config.choiceOr("topk_method", defaults.topkMethod,
                                            {"noaux_tc", "greedy", "group_limited_greedy"})
                          : config.choiceOr("topk_method", defaults.topkMethod,
                                            {"greedy", "group_limited_greedy"});
  model.scoringFunc = config.choiceOr("scoring_func", defaults.scoringFunc, {"sigmoid", "softmax"});
  model.normTopkProb = config.booleanOr("norm_topk_prob", defaults.normTopkProb);
  model.routedScalingFactor =
      config.numberOr("routed_scaling_factor", defaults.routedScalingFactor, kScalingFactor);
  model.routerHasScoreBias = isV3;
  model.nGroup = config.nullableInteger("n_group", defaults.nGroup, kExpertCount);
  model.topkGroup = config.nullableInteger("topk_group", defaults.topkGroup, kExpertCount);

  if (model.numExpertsPerTok > model.nRoutedExperts)
    config.failRelation(keyAndValue("num_experts_per_tok", model.numExpertsPerTok) +
                        " must be <= " + keyAndValue("n_routed_experts", model.nRoutedExperts));
  // HF V3 always routes group-limited; V2 only with group_limited_greedy.
  const bool groupLimited = isV3 || model.topkMethod == "group_limited_greedy";
  if (!groupLimited)
    return;
  if (!model.nGroup)
    config.fail("n_group", "must be a positive integer for group-limited routing, got null");
  if (!model.topkGroup)
    config.fail("topk_group", "must be a positive integer for group-limited routing, got null");
  const int64_t groups = *model.nGroup;
  if (model.nRoutedExperts % groups != 0)
    config.failRelation(keyAndValue("n_routed_experts", model.nRoutedExperts) +
                        " must be divisible by " + keyAndValue("n_group", groups));
  if (*model.topkGroup > groups)
    config.failRelation(keyAndValue("topk_group", *model.topkGroup) +
                        " must be <= " + keyAndValue("n_group", groups));
  const int64_t expertsPerGroup = model.nRoutedExperts / groups;
  if (isV3 && expertsPerGroup < 2)
    config.failRelation("each of the " + keyAndValue("n_group", groups) +
                        " expert groups needs at least 2 experts (groups are scored by their "
                        "top-2), but \"n_routed_experts\" is " +
                        std::to_string(model.nRoutedExperts));
  if (model.numExpertsPerTok > *model.topkGroup * expertsPerGroup)
    config.failRelation(keyAndValue("num_experts_per_tok", model.numExpertsPerTok) +
                        " must be <= topk_group x experts per group (" +
                        std::to_string(*model.topkGroup * expertsPerGroup) + ")");
}
} // namespace

bool DeepseekConfig::isMoeLayer(int64_t layer) const {
  return layer >= firstKDenseReplace && layer % moeLayerFreq == 0;
}

DeepseekConfig parseDeepseekConfig(const ConfigReader& config, ModelType type) {
  const bool isV3 = type == ModelType::DeepseekV3;
  const DeepseekDefaults& defaults = isV3 ? kV3Defaults : kV2Defaults;
  DeepseekConfig model;
  model.vocabSize = config.integer("vocab_size", kVocabSize);
  model.hiddenSize = config.integer("hidden_size", kDimension);
  model.intermediateSize = config.integer("intermediate_size", kDimension);
  model.moeIntermediateSize = config.integer("moe_intermediate_size", kDimension);
  model.numHiddenLayers = config.integer("num_hidden_layers", kLayerCount);
  readAttention(config, defaults, model);
  readRouting(config, type, defaults, model);
  model.firstKDenseReplace = config.integerOr(
      "first_k_dense_replace", std::min(defaults.firstKDenseReplace, model.numHiddenLayers),
      IntRange{0, model.numHiddenLayers});
  model.moeLayerFreq = config.integerOr("moe_layer_freq", 1, kLayerCount);

  model.hiddenAct = parseActivation(config, "hidden_act", "silu");
  model.rmsNormEps = config.numberOr("rms_norm_eps", 1e-6, kEpsilon);
  model.maxPositionEmbeddings =
      config.integerOr("max_position_embeddings", defaults.maxPositionEmbeddings, kPositionCount);
  model.rope = parseRopeConfig(config, model.maxPositionEmbeddings, model.qkRopeHeadDim);
  model.ropeInterleave = isV3 ? config.booleanOr("rope_interleave", true) : true;
  model.mlpBias = isV3 ? false : config.booleanOr("mlp_bias", false);
  // transformers 5 names it num_mtp_layers (an alias); configs on the hub say nextn.
  model.numNextnPredictLayers = config.integerOr(
      "num_nextn_predict_layers",
      config.integerOr("num_mtp_layers", defaults.numNextnPredictLayers, kMtpLayerCount),
      kMtpLayerCount);

  // Each routed expert of each MoE layer is three tensors the inventory and --report list one by
  // one: the product is bounded as well as each factor (DeepSeek-V3: 58 x 256 = 14848).
  constexpr int64_t kMaxRoutedExperts = int64_t(1) << 18;
  int64_t moeLayers = 0;
  for (int64_t layer = 0; layer < model.numHiddenLayers; ++layer)
    moeLayers += model.isMoeLayer(layer) ? 1 : 0;
  if (moeLayers * model.nRoutedExperts > kMaxRoutedExperts)
    config.failRelation(std::to_string(moeLayers) + " MoE layers of " +
                        keyAndValue("n_routed_experts", model.nRoutedExperts) + " make " +
                        std::to_string(moeLayers * model.nRoutedExperts) +
                        " routed experts, more than the " + std::to_string(kMaxRoutedExperts) +
                        " Fathom plans for (DeepSeek-V3 has 14848)");
  // DeepseekV2Config.validate_architecture (V3 has no such check: its heads are explicit).
  if (!isV3 && model.hiddenSize % model.numAttentionHeads != 0)
    config.failRelation(keyAndValue("hidden_size", model.hiddenSize) + " must be a multiple of " +
                        keyAndValue("num_attention_heads", model.numAttentionHeads));
  return model;
}

} // namespace fathom::frontend
