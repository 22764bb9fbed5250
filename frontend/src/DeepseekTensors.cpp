#include "fathom/frontend/DeepseekTensors.h"

#include "fathom/frontend/ExpectedTensors.h"

namespace fathom::frontend {
namespace {

ProjectionNames projection(const std::string& prefix, bool bias) {
  return {prefix + ".weight", bias ? prefix + ".bias" : std::string()};
}

GatedMlpNames gatedMlp(const std::string& prefix, bool bias) {
  return {projection(prefix + "gate_proj", bias), projection(prefix + "up_proj", bias),
          projection(prefix + "down_proj", bias)};
}

} // namespace

DeepseekLayerNames deepseekLayerNames(const ModelConfig& config, int64_t layer) {
  const DeepseekConfig& model = *config.deepseek();
  const std::string prefix = decoderLayerPrefix(config, layer);
  const std::string attention = prefix + "self_attn.";
  const bool bias = model.attentionBias;
  DeepseekLayerNames names;
  names.inputNorm = prefix + "input_layernorm.weight";
  names.postAttentionNorm = prefix + "post_attention_layernorm.weight";
  MlaNames& mla = names.attention;
  if (model.qLoraRank) {
    mla.qAProj = projection(attention + "q_a_proj", bias);
    mla.qALayernorm = attention + "q_a_layernorm.weight";
    mla.qBProj = projection(attention + "q_b_proj", false);
  } else {
    mla.qProj = projection(attention + "q_proj", false);
  }
  mla.kvAProj = projection(attention + "kv_a_proj_with_mqa", bias);
  mla.kvALayernorm = attention + "kv_a_layernorm.weight";
  mla.kvBProj = projection(attention + "kv_b_proj", false);
  mla.oProj = projection(attention + "o_proj", bias);

  const std::string mlp = prefix + "mlp.";
  if (!model.isMoeLayer(layer)) {
    names.mlp = gatedMlp(mlp, model.mlpBias);
    return names;
  }
  MoeNames& moe = names.moe.emplace();
  moe.router = mlp + "gate.weight";
  if (model.routerHasScoreBias)
    moe.scoreBias = mlp + "gate.e_score_correction_bias";
  for (int64_t expert = 0; expert < model.nRoutedExperts; ++expert)
    moe.experts.push_back(gatedMlp(mlp + "experts." + std::to_string(expert) + ".", false));
  moe.fusedGateUp = mlp + "experts.gate_up_proj";
  moe.fusedDown = mlp + "experts.down_proj";
  if (model.nSharedExperts > 0)
    moe.shared = gatedMlp(mlp + "shared_experts.", model.mlpBias);
  return names;
}

DeepseekModelNames deepseekModelNames(const ModelConfig& config) {
  DeepseekModelNames names;
  names.score = projection("score", config.scoreHasBias);
  return names;
}

} // namespace fathom::frontend
