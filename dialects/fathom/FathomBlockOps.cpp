// Verifiers of the DeepSeek block ops: MLA attention, the MoE router and the routed experts.
// Weight shapes are checked against the op's dimensions, so a builder bug or a checkpoint whose
// tensors disagree with its config is caught here, naming the weight.
#include "dialects/fathom/FathomDialect.h"
#include "dialects/fathom/VerifyUtils.h"

using namespace mlir;
using namespace mlir::fathom;
using namespace mlir::fathom::verify;

namespace {

// weights/indices [tokens..., k] against input [tokens..., hidden].
LogicalResult verifyRoutingShape(Operation* op, RankedTensorType input, ShapedType routing,
                                 StringRef what, std::optional<int64_t> topK) {
  if (!routing.hasRank() || routing.getRank() != input.getRank())
    return op->emitOpError() << what << " must have the input's rank " << input.getRank();
  for (int64_t i = 0; i + 1 < input.getRank(); ++i)
    if (!dimsCompatible(input.getDimSize(i), routing.getDimSize(i)))
      return op->emitOpError() << what << " dimension " << i << " is " << routing.getDimSize(i)
                               << " but the input's is " << input.getDimSize(i);
  if (topK && !dimsCompatible(routing.getDimSize(routing.getRank() - 1), *topK))
    return op->emitOpError() << what << " last dimension must be top_k = " << *topK;
  return success();
}

} // namespace

LogicalResult MlaAttentionOp::verify() {
  RankedTensorType input = rankedType(getInput());
  auto positions = cast<ShapedType>(getPositions().getType());
  auto keyMask = cast<ShapedType>(getKeyMask().getType());
  if (input.getRank() != 3)
    return emitOpError("input must be [batch, seq, hidden]");
  if (!positions.hasRank() || positions.getRank() != 2 ||
      !dimsCompatible(positions.getDimSize(0), input.getDimSize(0)) ||
      !dimsCompatible(positions.getDimSize(1), input.getDimSize(1)))
    return emitOpError("positions must be [batch, seq] like the input");
  if (!keyMask.hasRank() || keyMask.getRank() != 2 ||
      !dimsCompatible(keyMask.getDimSize(0), input.getDimSize(0)))
    return emitOpError("key_mask must be [batch, keys]");
  if (Value start = getCacheStart()) {
    auto startType = cast<ShapedType>(start.getType());
    if (!startType.hasRank() || startType.getRank() != 1 ||
        !dimsCompatible(startType.getDimSize(0), input.getDimSize(0)))
      return emitOpError("cache_start must be [batch]");
  }
  for (int64_t dim :
       {getNumHeadsAttr().getInt(), getQkNopeHeadDimAttr().getInt(),
        getQkRopeHeadDimAttr().getInt(), getVHeadDimAttr().getInt(), getKvLoraRankAttr().getInt()})
    if (dim <= 0)
      return emitOpError("head counts and dimensions must be positive");
  if (getLayerAttr().getInt() < 0)
    return emitOpError("layer index must be non-negative");
  if (!(getScale().convertToFloat() > 0) || !(getLoraNormEpsilon().convertToFloat() > 0))
    return emitOpError("scale and lora_norm_epsilon must be positive");
  bool hasLora = getQAProj() || getQALayernorm() || getQBProj();
  if (getQProj() && hasLora)
    return emitOpError("takes either q_proj or the q LoRA (q_a_proj, q_a_layernorm, q_b_proj)");
  if (!getQProj() && !(getQAProj() && getQALayernorm() && getQBProj()))
    return emitOpError("needs q_proj, or all of q_a_proj, q_a_layernorm and q_b_proj");
  if (getQAProjBias() && !getQAProj())
    return emitOpError("q_a_proj_bias needs q_a_proj");
  if (getRope().getDim() != int64_t(getQkRopeHeadDim()))
    return emitOpError() << "rope dim " << getRope().getDim() << " must equal qk_rope_head_dim "
                         << getQkRopeHeadDim();
  return success();
}

LogicalResult MlaAttentionOp::verifySymbolUses(SymbolTableCollection& tables) {
  int64_t hidden = lastDim(rankedType(getInput()));
  if (ShapedType::isDynamic(hidden))
    return emitOpError("the hidden dimension must be static");
  int64_t heads = getNumHeads(), nope = getQkNopeHeadDim(), ropeDim = getQkRopeHeadDim();
  int64_t vDim = getVHeadDim(), kvLora = getKvLoraRank();
  int64_t queryWidth = heads * (nope + ropeDim);
  if (getQProjAttr()) {
    if (failed(verifyParamShape(*this, tables, getQProjAttr(), {queryWidth, hidden}, "q_proj")))
      return failure();
  } else {
    FailureOr<ParamOp> qA = lookupParam(*this, tables, getQAProjAttr(), "q_a_proj");
    if (failed(qA))
      return failure();
    int64_t qLora = qA->getTensorType().getDimSize(0);
    if (failed(verifyParamShape(*this, tables, getQAProjAttr(), {qLora, hidden}, "q_a_proj")) ||
        failed(verifyParamShape(*this, tables, getQALayernormAttr(), {qLora}, "q_a_layernorm")) ||
        failed(verifyParamShape(*this, tables, getQBProjAttr(), {queryWidth, qLora}, "q_b_proj")))
      return failure();
    if (getQAProjBiasAttr() &&
        failed(verifyParamShape(*this, tables, getQAProjBiasAttr(), {qLora}, "q_a_proj_bias")))
      return failure();
  }
  if (failed(verifyParamShape(*this, tables, getKvAProjWithMqaAttr(), {kvLora + ropeDim, hidden},
                              "kv_a_proj_with_mqa")) ||
      failed(verifyParamShape(*this, tables, getKvALayernormAttr(), {kvLora}, "kv_a_layernorm")) ||
      failed(verifyParamShape(*this, tables, getKvBProjAttr(), {heads * (nope + vDim), kvLora},
                              "kv_b_proj")) ||
      failed(verifyParamShape(*this, tables, getOProjAttr(), {hidden, heads * vDim}, "o_proj")))
    return failure();
  if (getKvAProjWithMqaBiasAttr() &&
      failed(verifyParamShape(*this, tables, getKvAProjWithMqaBiasAttr(), {kvLora + ropeDim},
                              "kv_a_proj_with_mqa_bias")))
    return failure();
  if (getOProjBiasAttr() &&
      failed(verifyParamShape(*this, tables, getOProjBiasAttr(), {hidden}, "o_proj_bias")))
    return failure();
  return success();
}

LogicalResult MoeRouterOp::verify() {
  RankedTensorType input = rankedType(getInput());
  if (input.getRank() < 1)
    return emitOpError("input must be [tokens..., hidden]");
  int64_t topK = getTopK(), groups = getNGroup(), keptGroups = getTopkGroup();
  if (topK < 1 || groups < 1 || keptGroups < 1 || keptGroups > groups)
    return emitOpError() << "needs top_k >= 1 and 1 <= topk_group <= n_group, got top_k " << topK
                         << ", n_group " << groups << ", topk_group " << keptGroups;
  if (!(getRoutedScalingFactor().convertToFloat() > 0))
    return emitOpError("routed_scaling_factor must be positive");
  if (failed(verifyRoutingShape(*this, input, getWeights().getType(), "weights", topK)) ||
      failed(verifyRoutingShape(*this, input, getIndices().getType(), "indices", topK)))
    return failure();
  return success();
}

LogicalResult MoeRouterOp::verifySymbolUses(SymbolTableCollection& tables) {
  FailureOr<ParamOp> gate = lookupParam(*this, tables, getGateAttr(), "gate");
  if (failed(gate))
    return failure();
  RankedTensorType gateType = gate->getTensorType();
  int64_t hidden = lastDim(rankedType(getInput()));
  if (gateType.getRank() != 2 || !dimsCompatible(gateType.getDimSize(1), hidden))
    return emitOpError() << "gate @" << gate->getSymName() << " must be [experts, " << hidden
                         << "], got " << gateType;
  int64_t experts = gateType.getDimSize(0);
  if (experts % getNGroup() != 0)
    return emitOpError() << experts << " experts do not split into n_group = " << getNGroup()
                         << " equal groups";
  if (getTopK() > experts / getNGroup() * getTopkGroup())
    return emitOpError() << "top_k " << getTopK() << " exceeds the "
                         << experts / getNGroup() * getTopkGroup() << " experts in the kept groups";
  if (getScoreBiasAttr() &&
      failed(verifyParamShape(*this, tables, getScoreBiasAttr(), {experts}, "score_bias")))
    return failure();
  return success();
}

LogicalResult ExpertFfnOp::verify() {
  size_t experts = getGateProj().size();
  if (experts == 0 || getUpProj().size() != experts || getDownProj().size() != experts)
    return emitOpError() << "gate_proj, up_proj and down_proj must list the same non-zero number "
                            "of experts, got "
                         << getGateProj().size() << ", " << getUpProj().size() << ", "
                         << getDownProj().size();
  RankedTensorType input = rankedType(getInput());
  if (input.getRank() < 1)
    return emitOpError("input must be [tokens..., hidden]");
  auto weights = cast<ShapedType>(getWeights().getType());
  auto indices = cast<ShapedType>(getIndices().getType());
  if (weights.hasRank() && indices.hasRank() && weights.getShape() != indices.getShape())
    return emitOpError("weights and indices must have the same shape");
  return verifyRoutingShape(*this, input, weights, "weights", std::nullopt);
}

LogicalResult ExpertFfnOp::verifySymbolUses(SymbolTableCollection& tables) {
  int64_t hidden = lastDim(rankedType(getInput()));
  FailureOr<ParamOp> firstGate =
      lookupParam(*this, tables, cast<FlatSymbolRefAttr>(getGateProj()[0]), "gate_proj");
  if (failed(firstGate))
    return failure();
  int64_t width = firstGate->getTensorType().getDimSize(0);
  for (size_t e = 0; e < getGateProj().size(); ++e) {
    if (failed(verifyParamShape(*this, tables, cast<FlatSymbolRefAttr>(getGateProj()[e]),
                                {width, hidden}, "gate_proj")) ||
        failed(verifyParamShape(*this, tables, cast<FlatSymbolRefAttr>(getUpProj()[e]),
                                {width, hidden}, "up_proj")) ||
        failed(verifyParamShape(*this, tables, cast<FlatSymbolRefAttr>(getDownProj()[e]),
                                {hidden, width}, "down_proj")))
      return failure();
  }
  if (auto start = getExpertStartAttr())
    return verifyParamShape(*this, tables, start, {1}, "expert_start");
  return success();
}
