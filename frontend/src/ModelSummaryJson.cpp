// The JSON form of the --inspect summary (`fathom-compile CKPT --inspect --json`).
#include "fathom/frontend/ModelSummary.h"

namespace fathom::frontend {
namespace {
using Json = nlohmann::json;

Json optionalValue(const std::optional<int64_t>& value) {
  return value ? Json(*value) : Json(nullptr);
}

Json ropeJson(const RopeConfig& rope) {
  Json json = {{"type", ropeTypeName(rope.type)}, {"theta", rope.theta}};
  if (rope.type != RopeType::Default)
    json["factor"] = rope.factor;
  if (rope.originalMaxPositionEmbeddings)
    json["original_max_position_embeddings"] = rope.originalMaxPositionEmbeddings;
  if (rope.type == RopeType::Yarn) {
    json["beta_fast"] = rope.betaFast;
    json["beta_slow"] = rope.betaSlow;
    if (rope.mscale)
      json["mscale"] = *rope.mscale;
    if (rope.mscaleAllDim)
      json["mscale_all_dim"] = *rope.mscaleAllDim;
  }
  if (rope.type == RopeType::Llama3) {
    json["low_freq_factor"] = rope.lowFreqFactor;
    json["high_freq_factor"] = rope.highFreqFactor;
  }
  if (rope.type == RopeType::LongRope) {
    json["short_factor"] = rope.shortFactor;
    json["long_factor"] = rope.longFactor;
    if (rope.attentionFactor)
      json["attention_factor"] = *rope.attentionFactor;
  }
  return json;
}

Json deepseekJson(const DeepseekConfig& model) {
  return {
      {"vocab_size", model.vocabSize},
      {"hidden_size", model.hiddenSize},
      {"intermediate_size", model.intermediateSize},
      {"moe_intermediate_size", model.moeIntermediateSize},
      {"num_hidden_layers", model.numHiddenLayers},
      {"num_attention_heads", model.numAttentionHeads},
      {"num_key_value_heads", model.numKeyValueHeads},
      {"q_lora_rank", optionalValue(model.qLoraRank)},
      {"kv_lora_rank", model.kvLoraRank},
      {"qk_nope_head_dim", model.qkNopeHeadDim},
      {"qk_rope_head_dim", model.qkRopeHeadDim},
      {"v_head_dim", model.vHeadDim},
      {"n_routed_experts", model.nRoutedExperts},
      {"n_shared_experts", model.nSharedExperts},
      {"num_experts_per_tok", model.numExpertsPerTok},
      {"n_group", optionalValue(model.nGroup)},
      {"topk_group", optionalValue(model.topkGroup)},
      {"topk_method", model.topkMethod},
      {"scoring_func", model.scoringFunc},
      {"norm_topk_prob", model.normTopkProb},
      {"routed_scaling_factor", model.routedScalingFactor},
      {"first_k_dense_replace", model.firstKDenseReplace},
      {"moe_layer_freq", model.moeLayerFreq},
      {"hidden_act", activationName(model.hiddenAct)},
      {"rms_norm_eps", model.rmsNormEps},
      {"max_position_embeddings", model.maxPositionEmbeddings},
      {"rope", ropeJson(model.rope)},
      {"rope_interleave", model.ropeInterleave},
      {"attention_bias", model.attentionBias},
      {"num_nextn_predict_layers", model.numNextnPredictLayers},
  };
}

Json visionLanguageJson(const DeepseekVlConfig& model) {
  const LlamaConfig& text = model.text;
  const SiglipVisionConfig& vision = model.vision;
  return {
      {"text",
       {{"vocab_size", text.vocabSize},
        {"hidden_size", text.hiddenSize},
        {"intermediate_size", text.intermediateSize},
        {"num_hidden_layers", text.numHiddenLayers},
        {"num_attention_heads", text.numAttentionHeads},
        {"num_key_value_heads", text.numKeyValueHeads},
        {"head_dim", text.headDim},
        {"hidden_act", activationName(text.hiddenAct)},
        {"rms_norm_eps", text.rmsNormEps},
        {"max_position_embeddings", text.maxPositionEmbeddings},
        {"rope", ropeJson(text.rope)}}},
      {"vision",
       {{"hidden_size", vision.hiddenSize},
        {"intermediate_size", vision.intermediateSize},
        {"num_hidden_layers", vision.numHiddenLayers},
        {"num_attention_heads", vision.numAttentionHeads},
        {"num_channels", vision.numChannels},
        {"image_size", vision.imageSize},
        {"patch_size", vision.patchSize},
        {"num_patches", vision.numPatches()},
        {"hidden_act", activationName(vision.hiddenAct)},
        {"layer_norm_eps", vision.layerNormEps},
        {"vision_use_head", vision.visionUseHead}}},
      {"image_token_id", model.imageTokenId},
  };
}

Json pathOrNull(const std::filesystem::path& path) {
  return path.empty() ? Json(nullptr) : Json(path.string());
}
} // namespace

Json summaryJson(const Checkpoint& checkpoint) {
  const ModelConfig& config = checkpoint.config();
  const TensorStore& tensors = checkpoint.tensors();
  const InventoryReport& inventory = checkpoint.inventory();
  Json json;
  json["checkpoint"] = checkpoint.files().folder.string();
  json["architecture"] = config.architecture;
  json["model_type"] = modelTypeName(config.modelType);
  json["head"] = headKindName(config.head);
  json["dtype"] = config.dtype.empty() ? Json(nullptr) : Json(config.dtype);
  json["config"] = config.deepseek() ? deepseekJson(*config.deepseek())
                                     : visionLanguageJson(*config.deepseekVl());
  json["tie_word_embeddings"] = config.tieWordEmbeddings;
  if (config.numLabels)
    json["num_labels"] = config.numLabels;

  Json runs = Json::array();
  for (const LayerRun& run : layerRuns(config))
    runs.push_back({{"first", run.first}, {"last", run.last}, {"kind", run.moe ? "moe" : "dense"}});
  json["layers"] = runs;
  json["layer_summary"] = describeLayerRuns(config);
  json["expert_layout"] = expertLayoutName(inventory.expertLayout);
  json["mtp"] = {{"layers", inventory.mtpLayers}, {"tensors", inventory.mtpTensorCount}};

  if (const auto& quantization = config.quantization)
    json["quantization"] = {
        {"quant_method", quantization->quantMethod},
        {"weight_dtype", dtypeName(quantization->weightDType)},
        {"weight_block_size", quantization->weightBlockSize},
        {"activation_scheme", quantization->activationScheme},
        {"scale_fmt", quantization->scaleFormat ? Json(*quantization->scaleFormat) : Json(nullptr)},
        {"fp8_tensors", inventory.fp8WeightCount}};
  else
    json["quantization"] = nullptr;

  uint64_t parameters = 0;
  Json byDType = Json::object();
  for (const DTypeTotals& total : totalsByDType(tensors)) {
    parameters += total.parameters;
    byDType[std::string(dtypeName(total.dtype))] = {
        {"parameters", total.parameters}, {"bytes", total.bytes}, {"tensors", total.tensors}};
  }
  json["parameters"] = {{"total", parameters}, {"by_dtype", byDType}};
  json["tensors"] = {{"count", tensors.size()},
                     {"files", tensors.fileCount()},
                     {"data_bytes", tensors.totalTensorBytes()},
                     {"header_bytes", tensors.totalHeaderBytes()}};
  json["tokens"] = {{"bos", optionalValue(config.tokens.bos)},
                    {"eos", config.tokens.eos},
                    {"pad", optionalValue(config.tokens.pad)}};
  const GenerationConfig& generation = checkpoint.generationConfig();
  json["generation"] = {{"bos", optionalValue(generation.bosTokenId)},
                        {"eos", generation.eosTokenIds},
                        {"pad", optionalValue(generation.padTokenId)},
                        {"do_sample", generation.doSample},
                        {"temperature", generation.temperature},
                        {"top_p", generation.topP},
                        {"top_k", generation.topK},
                        {"max_new_tokens", optionalValue(generation.maxNewTokens)},
                        {"max_length", generation.maxLength},
                        {"from_file", generation.fromFile}};
  const CheckpointFiles& files = checkpoint.files();
  json["files"] = {{"config", files.config.string()},
                   {"weights", files.weights.string()},
                   {"generation_config", pathOrNull(files.generationConfig)},
                   {"tokenizer", pathOrNull(files.tokenizer)},
                   {"tokenizer_config", pathOrNull(files.tokenizerConfig)},
                   {"preprocessor_config", pathOrNull(files.preprocessorConfig)},
                   {"processor_config", pathOrNull(files.processorConfig)},
                   {"chat_template", pathOrNull(files.chatTemplate)}};
  json["inventory"] = {{"expected", inventory.expectedCount},
                       {"missing", inventory.missing},
                       {"errors", inventory.errors},
                       {"unexpected", inventory.unexpected}};
  json["warnings"] =
      Json(std::vector<std::string>(checkpoint.warnings().begin(), checkpoint.warnings().end()));
  return json;
}

} // namespace fathom::frontend
