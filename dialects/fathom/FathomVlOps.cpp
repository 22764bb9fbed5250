// Verifiers of the ops DeepSeek-VL adds: multi_head_attention (LLaMA and SigLIP), patchify and
// layer_norm, masked_scatter. Projection shapes are checked against the head counts, so a config
// whose heads disagree with its tensors is caught here, naming the weight.
#include "dialects/fathom/FathomDialect.h"
#include "dialects/fathom/VerifyUtils.h"

using namespace mlir;
using namespace mlir::fathom;
using namespace mlir::fathom::verify;

LogicalResult MultiHeadAttentionOp::verify() {
  RankedTensorType input = rankedType(getInput());
  if (input.getRank() != 3)
    return emitOpError("input must be [batch, seq, hidden]");
  auto keyMask = cast<ShapedType>(getKeyMask().getType());
  if (!keyMask.hasRank() || keyMask.getRank() != 2 ||
      !dimsCompatible(keyMask.getDimSize(0), input.getDimSize(0)))
    return emitOpError("key_mask must be [batch, keys]");
  if (Value positions = getPositions()) {
    auto type = cast<ShapedType>(positions.getType());
    if (!type.hasRank() || type.getRank() != 2 ||
        !dimsCompatible(type.getDimSize(0), input.getDimSize(0)) ||
        !dimsCompatible(type.getDimSize(1), input.getDimSize(1)))
      return emitOpError("positions must be [batch, seq] like the input");
  }
  if (Value start = getCacheStart()) {
    auto type = cast<ShapedType>(start.getType());
    if (!type.hasRank() || type.getRank() != 1 ||
        !dimsCompatible(type.getDimSize(0), input.getDimSize(0)))
      return emitOpError("cache_start must be [batch]");
    if (!getCausal())
      return emitOpError("a cached layer must be causal");
  }
  int64_t heads = getNumHeads(), kvHeads = getNumKvHeads(), headDim = getHeadDim();
  if (heads <= 0 || kvHeads <= 0 || headDim <= 0)
    return emitOpError("head counts and head_dim must be positive");
  if (heads % kvHeads != 0)
    return emitOpError() << "num_heads " << heads << " must be a multiple of num_kv_heads "
                         << kvHeads;
  if (getLayerAttr().getInt() < 0)
    return emitOpError("layer index must be non-negative");
  if (!(getScale().convertToFloat() > 0))
    return emitOpError("scale must be positive");
  bool rope = bool(getRopeAttr());
  if (rope != bool(getRopeModeAttr()) || rope != bool(getPositions()))
    return emitOpError("rope, rope_mode and positions go together");
  if (rope && getRopeAttr().getDim() != headDim)
    return emitOpError() << "rope dim " << getRopeAttr().getDim() << " must equal head_dim "
                         << headDim;
  return success();
}

LogicalResult MultiHeadAttentionOp::verifySymbolUses(SymbolTableCollection& tables) {
  int64_t hidden = lastDim(rankedType(getInput()));
  if (ShapedType::isDynamic(hidden))
    return emitOpError("the hidden dimension must be static");
  int64_t queryWidth = getNumHeads() * getHeadDim(), kvWidth = getNumKvHeads() * getHeadDim();
  struct Projection {
    FlatSymbolRefAttr weight, bias;
    int64_t out, in;
    const char *role, *biasRole;
  };
  for (const Projection& p :
       {Projection{getQProjAttr(), getQProjBiasAttr(), queryWidth, hidden, "q_proj", "q_proj_bias"},
        Projection{getKProjAttr(), getKProjBiasAttr(), kvWidth, hidden, "k_proj", "k_proj_bias"},
        Projection{getVProjAttr(), getVProjBiasAttr(), kvWidth, hidden, "v_proj", "v_proj_bias"},
        Projection{getOProjAttr(), getOProjBiasAttr(), hidden, queryWidth, "o_proj",
                   "o_proj_bias"}}) {
    if (failed(verifyParamShape(*this, tables, p.weight, {p.out, p.in}, p.role)))
      return failure();
    if (p.bias && failed(verifyParamShape(*this, tables, p.bias, {p.out}, p.biasRole)))
      return failure();
  }
  return success();
}

LogicalResult PatchifyOp::verify() {
  RankedTensorType input = rankedType(getInput()), result = rankedType(getResult());
  int64_t channels = getChannels(), height = getHeight(), width = getWidth();
  int64_t patch = getPatchSize();
  if (channels < 1 || height < 1 || width < 1 || patch < 1)
    return emitOpError("channels, height, width and patch_size must be positive");
  if (input.getRank() != 2 || input.getDimSize(1) != channels * height * width)
    return emitOpError() << "input must be [n, " << channels * height * width
                         << "]: one channels-first image per row";
  if (height % patch != 0 || width % patch != 0)
    return emitOpError() << "a " << height << "x" << width << " image does not split into " << patch
                         << "x" << patch << " patches";
  int64_t patches = (height / patch) * (width / patch);
  if (result.getRank() != 3 || !dimsCompatible(result.getDimSize(0), input.getDimSize(0)) ||
      !dimsCompatible(result.getDimSize(1), patches) ||
      result.getDimSize(2) != channels * patch * patch)
    return emitOpError() << "result must be [n, " << patches << ", " << channels * patch * patch
                         << "]";
  return success();
}

LogicalResult MaskedScatterOp::verify() {
  RankedTensorType input = rankedType(getInput()), ids = rankedType(getIds());
  RankedTensorType source = rankedType(getSource());
  if (input.getRank() != 3 || ids.getRank() != 2 || source.getRank() != 2)
    return emitOpError("takes input [batch, seq, width], ids [batch, seq], source [rows, width]");
  if (!dimsCompatible(input.getDimSize(0), ids.getDimSize(0)) ||
      !dimsCompatible(input.getDimSize(1), ids.getDimSize(1)))
    return emitOpError("ids must be [batch, seq] like the input");
  if (!dimsCompatible(lastDim(input), lastDim(source)))
    return emitOpError() << "source rows of " << lastDim(source) << " do not fit input rows of "
                         << lastDim(input);
  if (getTokenIdAttr().getInt() < 0)
    return emitOpError("token_id must be non-negative");
  return success();
}

LogicalResult LayerNormOp::verify() {
  if (!(getEpsilon().convertToFloat() > 0))
    return emitOpError("epsilon must be positive");
  return success();
}

LogicalResult LayerNormOp::verifySymbolUses(SymbolTableCollection& tables) {
  int64_t width = lastDim(rankedType(getInput()));
  if (failed(verifyParamShape(*this, tables, getWeightAttr(), {width}, "weight")) ||
      failed(verifyParamShape(*this, tables, getBiasAttr(), {width}, "bias")))
    return failure();
  return success();
}
