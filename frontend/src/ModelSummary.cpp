// The text form of the --inspect summary, and the helpers both forms share.
#include "fathom/frontend/ModelSummary.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

namespace fathom::frontend {
namespace {
std::string formatScaled(double value, const char* unit) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f%s", value, unit);
  return text;
}

std::string number(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

std::string range(const LayerRun& run) {
  return run.first == run.last ? std::to_string(run.first)
                               : std::to_string(run.first) + "-" + std::to_string(run.last);
}

std::string describeRope(const RopeConfig& rope) {
  std::string text = std::string(ropeTypeName(rope.type)) + ", theta " + number(rope.theta);
  if (rope.type != RopeType::Default)
    text += ", factor " + number(rope.factor);
  if (rope.originalMaxPositionEmbeddings)
    text += ", original context " + std::to_string(rope.originalMaxPositionEmbeddings);
  if (rope.type == RopeType::Yarn) {
    text += ", beta " + number(rope.betaFast) + "/" + number(rope.betaSlow);
    if (rope.mscale)
      text += ", mscale " + number(*rope.mscale);
    if (rope.mscaleAllDim)
      text += ", mscale_all_dim " + number(*rope.mscaleAllDim);
  }
  if (rope.type == RopeType::Llama3)
    text +=
        ", low/high freq factor " + number(rope.lowFreqFactor) + "/" + number(rope.highFreqFactor);
  if (rope.type == RopeType::LongRope && rope.attentionFactor)
    text += ", attention factor " + number(*rope.attentionFactor);
  return text;
}

std::string describeTokens(const std::optional<int64_t>& bos, const std::vector<int64_t>& eos,
                           const std::optional<int64_t>& pad) {
  std::string text = "bos " + (bos ? std::to_string(*bos) : "none") + ", eos ";
  if (eos.empty())
    text += "none";
  for (size_t i = 0; i < eos.size(); ++i)
    text += (i ? "/" : "") + std::to_string(eos[i]);
  return text + ", pad " + (pad ? std::to_string(*pad) : "none");
}

void addDeepseekLines(const Checkpoint& checkpoint, const DeepseekConfig& model,
                      std::ostream& out) {
  out << "dimensions:   hidden " << model.hiddenSize << ", vocab " << model.vocabSize << ", "
      << model.numHiddenLayers << " layers, " << model.numAttentionHeads << " heads, context "
      << model.maxPositionEmbeddings << "\n";
  out << "attention:    MLA, "
      << (model.qLoraRank ? "q_lora_rank " + std::to_string(*model.qLoraRank)
                          : std::string("q_proj (no q LoRA)"))
      << ", kv_lora_rank " << model.kvLoraRank << ", qk " << model.qkNopeHeadDim << " nope + "
      << model.qkRopeHeadDim << " rope, v " << model.vHeadDim
      << (model.attentionBias ? ", with bias" : "") << "\n";
  out << "layers:       " << describeLayerRuns(checkpoint.config()) << "\n";
  out << "routing:      " << model.scoringFunc << ", " << model.topkMethod;
  if (model.nGroup && model.topkGroup)
    out << ", " << *model.nGroup << " groups keep " << *model.topkGroup;
  out << ", scale " << number(model.routedScalingFactor)
      << (model.normTopkProb ? ", renormalised" : "") << "\n";
  out << "experts:      " << expertLayoutName(checkpoint.inventory().expertLayout) << " layout\n";
  out << "rope:         " << describeRope(model.rope)
      << (model.ropeInterleave ? " (interleaved pairs)" : "") << "\n";
  const InventoryReport& inventory = checkpoint.inventory();
  out << "mtp:          ";
  if (!inventory.mtpLayers.empty()) {
    out << "layer";
    for (int64_t layer : inventory.mtpLayers)
      out << " " << layer;
    out << " (" << inventory.mtpTensorCount << " tensors)\n";
  } else if (model.numNextnPredictLayers > 0) {
    out << model.numNextnPredictLayers << " declared, not in the checkpoint\n";
  } else {
    out << "none\n";
  }
}

void addVisionLanguageLines(const DeepseekVlConfig& model, const Checkpoint& checkpoint,
                            std::ostream& out) {
  const LlamaConfig& text = model.text;
  const SiglipVisionConfig& vision = model.vision;
  out << "dimensions:   hidden " << text.hiddenSize << ", vocab " << text.vocabSize << ", "
      << text.numHiddenLayers << " layers, " << text.numAttentionHeads << " heads ("
      << text.numKeyValueHeads << " kv) of " << text.headDim << ", context "
      << text.maxPositionEmbeddings << "\n";
  out << "layers:       " << describeLayerRuns(checkpoint.config()) << "\n";
  out << "rope:         " << describeRope(text.rope) << "\n";
  out << "vision:       SigLIP hidden " << vision.hiddenSize << ", " << vision.numHiddenLayers
      << " layers, " << vision.numAttentionHeads << " heads, image " << vision.imageSize
      << " / patch " << vision.patchSize << " = " << vision.numPatches() << " tokens, "
      << activationName(vision.hiddenAct) << (vision.visionUseHead ? ", pooling head" : "") << "\n";
  out << "image token:  " << model.imageTokenId << "\n";
}
} // namespace

std::vector<LayerRun> layerRuns(const ModelConfig& config) {
  std::vector<LayerRun> runs;
  const DeepseekConfig* model = config.deepseek();
  for (int64_t layer = 0; layer < config.textNumLayers(); ++layer) {
    const bool moe = model && model->isMoeLayer(layer);
    if (!runs.empty() && runs.back().moe == moe && runs.back().last == layer - 1)
      runs.back().last = layer;
    else
      runs.push_back({layer, layer, moe});
  }
  return runs;
}

std::string describeLayerRuns(const ModelConfig& config) {
  std::string text;
  const DeepseekConfig* model = config.deepseek();
  for (const LayerRun& run : layerRuns(config)) {
    text += (text.empty() ? "" : ", ") + range(run) + ": ";
    if (!run.moe) {
      text += "dense MLP";
      continue;
    }
    text += "MoE (" + std::to_string(model->nRoutedExperts) + " routed, top-" +
            std::to_string(model->numExpertsPerTok) + ", " + std::to_string(model->nSharedExperts) +
            " shared)";
  }
  return text;
}

std::vector<DTypeTotals> totalsByDType(const TensorStore& tensors) {
  std::map<DType, DTypeTotals> totals;
  for (std::string_view name : tensors.names()) {
    TensorView view = *tensors.find(name);
    DTypeTotals& total = totals[view.dtype];
    total.dtype = view.dtype;
    ++total.tensors;
    total.parameters += uint64_t(view.numel());
    total.bytes += view.byteSize;
  }
  std::vector<DTypeTotals> sorted;
  for (const auto& [dtype, total] : totals)
    sorted.push_back(total);
  std::stable_sort(sorted.begin(), sorted.end(), [](const DTypeTotals& a, const DTypeTotals& b) {
    return a.parameters > b.parameters;
  });
  return sorted;
}

std::string formatCount(uint64_t count) {
  if (count >= 1'000'000'000)
    return formatScaled(double(count) / 1e9, "B");
  if (count >= 1'000'000)
    return formatScaled(double(count) / 1e6, "M");
  if (count >= 10'000)
    return formatScaled(double(count) / 1e3, "K");
  return std::to_string(count);
}

std::string formatBytes(uint64_t bytes) {
  if (bytes >= 1'000'000'000)
    return formatScaled(double(bytes) / 1e9, " GB");
  if (bytes >= 1'000'000)
    return formatScaled(double(bytes) / 1e6, " MB");
  if (bytes >= 10'000)
    return formatScaled(double(bytes) / 1e3, " kB");
  return std::to_string(bytes) + " B";
}

std::string formatSummaryText(const Checkpoint& checkpoint) {
  const ModelConfig& config = checkpoint.config();
  const TensorStore& tensors = checkpoint.tensors();
  std::ostringstream out;
  out << "checkpoint:   " << checkpoint.files().folder.string() << "\n";
  out << "architecture: " << config.architecture << " (model_type "
      << modelTypeName(config.modelType) << ", " << headKindName(config.head) << ")\n";
  if (!config.dtype.empty())
    out << "dtype:        " << config.dtype << "\n";
  if (const DeepseekConfig* model = config.deepseek())
    addDeepseekLines(checkpoint, *model, out);
  else
    addVisionLanguageLines(*config.deepseekVl(), checkpoint, out);

  out << "head:         ";
  if (config.head == HeadKind::SequenceClassification ||
      config.head == HeadKind::TokenClassification)
    out << "score, " << config.numLabels << " labels" << (config.scoreHasBias ? ", with bias" : "")
        << "\n";
  else
    out << (config.tieWordEmbeddings ? "lm_head tied to the embedding\n" : "lm_head\n");

  out << "quantization: ";
  if (const auto& quantization = config.quantization)
    out << quantization->quantMethod << " " << dtypeName(quantization->weightDType) << ", "
        << quantization->weightBlockSize[0] << "x" << quantization->weightBlockSize[1]
        << " weight blocks, " << quantization->activationScheme << " activations"
        << (quantization->scaleFormat ? ", " + *quantization->scaleFormat + " scales" : "") << ", "
        << checkpoint.inventory().fp8WeightCount << " FP8 tensors\n";
  else
    out << "none\n";

  uint64_t parameters = 0;
  for (const DTypeTotals& total : totalsByDType(tensors))
    parameters += total.parameters;
  out << "parameters:   " << formatCount(parameters);
  std::string separator = " (";
  for (const DTypeTotals& total : totalsByDType(tensors)) {
    out << separator << dtypeName(total.dtype) << " " << formatCount(total.parameters);
    separator = ", ";
  }
  out << (separator == ", " ? ")" : "") << "\n";
  out << "tensors:      " << tensors.size() << " in " << tensors.fileCount()
      << (tensors.fileCount() == 1 ? " file" : " shards") << ", "
      << formatBytes(tensors.totalTensorBytes()) << " of data, "
      << formatBytes(tensors.totalHeaderBytes()) << " of headers\n";
  out << "tokens:       " << describeTokens(config.tokens.bos, config.tokens.eos, config.tokens.pad)
      << "\n";
  const GenerationConfig& generation = checkpoint.generationConfig();
  out << "generation:   "
      << describeTokens(generation.bosTokenId, generation.eosTokenIds, generation.padTokenId)
      << ", " << (generation.doSample ? "sampling" : "greedy") << ", temperature "
      << number(generation.temperature) << ", top_p " << number(generation.topP) << ", top_k "
      << generation.topK
      << (generation.fromFile ? " (generation_config.json)" : " (from config.json)") << "\n";
  const CheckpointFiles& files = checkpoint.files();
  out << "files:        weights " << files.weights.filename().string();
  for (const auto& [label, path] :
       {std::pair("tokenizer.json", &files.tokenizer),
        std::pair("tokenizer_config.json", &files.tokenizerConfig),
        std::pair("preprocessor_config.json", &files.preprocessorConfig),
        std::pair("processor_config.json", &files.processorConfig),
        std::pair("chat_template.jinja", &files.chatTemplate)})
    out << ", " << label << (path->empty() ? " (absent)" : "");
  out << "\n";
  const InventoryReport& inventory = checkpoint.inventory();
  out << "inventory:    " << inventory.expectedCount << " expected tensors"
      << (inventory.ok() ? ", all present with the right shapes"
                         : ", " + std::to_string(inventory.missing.size()) + " missing, " +
                               std::to_string(inventory.errors.size()) + " wrong")
      << ", " << inventory.unexpected.size() << " unexpected\n";
  for (const std::string& warning : checkpoint.warnings())
    out << "warning:      " << warning << "\n";
  return out.str();
}

} // namespace fathom::frontend
