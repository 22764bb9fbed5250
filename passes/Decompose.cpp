#include "passes/DerivedParams.h"
#include "passes/MlaLowering.h"
#include "passes/Passes.h"

namespace mlir::fathom {

#define GEN_PASS_DEF_DECOMPOSEPASS
#include "passes/Passes.h.inc"

namespace {

RankedTensorType rankedType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

// HF's naive MLA. A cached layer keeps every head's keys and values (kv_b_proj's output) and
// the roped shared key per token.
Value lowerNaiveMla(MlaAttentionOp op) {
  MlaLowering mla(op);
  MlaLowering::Query query = mla.query();
  MlaLowering::CompressedKv kv = mla.compressedKv();
  int64_t heads = mla.heads(), kvWidth = heads * (mla.nope() + mla.v());
  if (!op.getCacheStart()) {
    MlaLowering::KeysValues keys = mla.decompress(kv.latent);
    Value keyRope = mla.splitHeads(kv.ropeKey, 1);
    return mla.output(mla.attend(query.nope, query.rope, keys.key, keyRope, keys.value));
  }
  FlatSymbolRefAttr cache = mla.cache("kv_cache", kvWidth + mla.rope());
  Value kvb = mla.linear(kv.latent, op.getKvBProjAttr(), nullptr, kvWidth);
  Value cached = mla.append(cache, {kvb, kv.ropeKey});
  Value perHead = mla.splitHeads(mla.slice(cached, 0, kvWidth), heads);
  Value key = mla.slice(perHead, 0, mla.nope());
  Value value = mla.slice(perHead, mla.nope(), mla.v());
  Value keyRope = mla.splitHeads(mla.slice(cached, kvWidth, mla.rope()), 1);
  return mla.output(mla.attend(query.nope, query.rope, key, keyRope, value));
}

// LLaMA / SigLIP attention: projections split into heads, q and k rotated on their whole head,
// a cached layer keeping every key/value head per token (keys already rotated), eager
// attention over key/value head groups, o_proj over the merged heads.
Value lowerMultiHeadAttention(MultiHeadAttentionOp op) {
  OpBuilder builder(op);
  Location loc = op.getLoc();
  ModuleOp module = op->getParentOfType<ModuleOp>();
  RankedTensorType input = rankedType(op.getInput());
  Type act = input.getElementType();
  int64_t batch = input.getDimSize(0), seq = input.getDimSize(1);
  int64_t heads = op.getNumHeads(), kvHeads = op.getNumKvHeads(), dim = op.getHeadDim();
  auto flat = [&](int64_t width) { return RankedTensorType::get({batch, seq, width}, act); };
  auto split = [&](Value value, int64_t count) {
    auto type = rankedType(value);
    return SplitHeadsOp::create(
        builder, loc,
        RankedTensorType::get({type.getDimSize(0), type.getDimSize(1), count, dim}, act), value);
  };
  auto merge = [&](Value value) {
    auto type = rankedType(value);
    int64_t width = type.getDimSize(2) * type.getDimSize(3);
    return MergeHeadsOp::create(
        builder, loc, RankedTensorType::get({type.getDimSize(0), type.getDimSize(1), width}, act),
        value);
  };
  auto rotate = [&](Value value) -> Value {
    if (!op.getRopeAttr())
      return value;
    auto [cos, sin] = getOrCreateRopeTables(module, op.getRopeAttr(), *op.getRopeMode(), act);
    return RopeOp::create(builder, loc, value.getType(), value, op.getPositions(), cos, sin,
                          op.getRopeModeAttr());
  };
  auto project = [&](FlatSymbolRefAttr weight, FlatSymbolRefAttr bias, int64_t width) {
    return LinearOp::create(builder, loc, flat(width), op.getInput(), weight, bias);
  };
  Value query =
      rotate(split(project(op.getQProjAttr(), op.getQProjBiasAttr(), heads * dim), heads));
  Value key =
      rotate(split(project(op.getKProjAttr(), op.getKProjBiasAttr(), kvHeads * dim), kvHeads));
  Value value = project(op.getVProjAttr(), op.getVProjBiasAttr(), kvHeads * dim);
  if (op.getCacheStart()) {
    int64_t width = kvHeads * dim;
    FlatSymbolRefAttr cache =
        getOrCreateCache(module, loc, "layer" + std::to_string(op.getLayer()) + ".kv_cache",
                         RankedTensorType::get({2 * width}, act));
    auto dyn = ShapedType::kDynamic;
    Value cached =
        CacheAppendOp::create(builder, loc, RankedTensorType::get({dyn, dyn, 2 * width}, act),
                              cache, ValueRange{merge(key), value}, op.getCacheStart(),
                              /*rope_positions=*/Value(), nullptr, nullptr, nullptr, nullptr);
    auto half = [&](int64_t offset) {
      return SliceOp::create(builder, loc, RankedTensorType::get({dyn, dyn, width}, act), cached,
                             builder.getI64IntegerAttr(offset), builder.getI64IntegerAttr(width));
    };
    key = split(half(0), kvHeads);
    value = half(width);
  }
  value = split(value, kvHeads);
  auto attendedType = RankedTensorType::get({batch, seq, heads, dim}, act);
  Value attended = AttentionOp::create(
      builder, loc, attendedType, query, /*query_rope=*/Value(), key, /*key_rope=*/Value(), value,
      op.getKeyMask(), op.getCacheStart(), /*rope_positions=*/Value(), op.getScaleAttr(),
      op.getCausalAttr(), nullptr, nullptr, nullptr);
  return LinearOp::create(builder, loc, op.getType(), merge(attended), op.getOProjAttr(),
                          op.getOProjBiasAttr());
}

// The router's GEMM in fp32 (HF: F.linear(x.float(), weight.float())), then the selection.
void lowerRouter(MoeRouterOp op) {
  OpBuilder builder(op);
  RankedTensorType input = rankedType(op.getInput());
  auto gate = op->getParentOfType<ModuleOp>().lookupSymbol<ParamOp>(op.getGateAttr());
  int64_t experts = gate.getTensorType().getDimSize(0);
  auto logitsType = RankedTensorType::get({input.getDimSize(0), input.getDimSize(1), experts},
                                          builder.getF32Type());
  Value logits =
      LinearOp::create(builder, op.getLoc(), logitsType, op.getInput(), op.getGateAttr(), nullptr);
  auto route = MoeRouteOp::create(
      builder, op.getLoc(), op.getWeights().getType(), op.getIndices().getType(), logits,
      op.getScoreBiasAttr(), op.getScoringAttr(), op.getTopKAttr(), op.getNGroupAttr(),
      op.getTopkGroupAttr(), op.getNormTopkProbAttr(), op.getRoutedScalingFactorAttr());
  op.replaceAllUsesWith(route.getResults());
  op.erase();
}

// transformers' eager experts: tokens grouped by expert, each expert's rows through its gated
// MLP, the weighted outputs summed per token in HF's order.
Value lowerExperts(ExpertFfnOp op) {
  OpBuilder builder(op);
  Location loc = op.getLoc();
  RankedTensorType input = rankedType(op.getInput());
  Type act = input.getElementType();
  int64_t experts = int64_t(op.getGateProj().size());
  int64_t hidden = input.getShape().back();
  auto module = op->getParentOfType<ModuleOp>();
  int64_t width = module.lookupSymbol<ParamOp>(cast<FlatSymbolRefAttr>(op.getGateProj()[0]))
                      .getTensorType()
                      .getDimSize(0);
  auto i32 = builder.getI32Type();
  auto dyn = ShapedType::kDynamic;
  auto dispatch = MoeDispatchOp::create(
      builder, loc, RankedTensorType::get({experts + 1}, i32), RankedTensorType::get({dyn}, i32),
      RankedTensorType::get({dyn}, i32), op.getIndices(), builder.getI64IntegerAttr(experts),
      op.getExpertStartAttr());
  auto rows = [&](int64_t w) { return RankedTensorType::get({dyn, w}, act); };
  Value grouped =
      GatherRowsOp::create(builder, loc, rows(hidden), op.getInput(), dispatch.getRowToken());
  Value gate = ExpertLinearOp::create(builder, loc, rows(width), grouped, dispatch.getOffsets(),
                                      op.getGateProj());
  Value up = ExpertLinearOp::create(builder, loc, rows(width), grouped, dispatch.getOffsets(),
                                    op.getUpProj());
  Value activated = SiluMulOp::create(builder, loc, gate, up);
  Value down = ExpertLinearOp::create(builder, loc, rows(hidden), activated, dispatch.getOffsets(),
                                      op.getDownProj());
  return MoeCombineOp::create(builder, loc, op.getType(), down, dispatch.getSlotRow(),
                              op.getIndices(), op.getWeights(),
                              CombineOrderAttr::get(builder.getContext(), CombineOrder::eager));
}

struct DecomposePass : impl::DecomposePassBase<DecomposePass> {
  void runOnOperation() override {
    SmallVector<Operation*> blocks;
    getOperation().walk([&](Operation* op) {
      if (isa<MlaAttentionOp, MultiHeadAttentionOp, MoeRouterOp, ExpertFfnOp>(op))
        blocks.push_back(op);
    });
    for (Operation* op : blocks) {
      if (auto mla = dyn_cast<MlaAttentionOp>(op)) {
        Value result = lowerNaiveMla(mla);
        mla.replaceAllUsesWith(result);
        mla.erase();
      } else if (auto attention = dyn_cast<MultiHeadAttentionOp>(op)) {
        Value result = lowerMultiHeadAttention(attention);
        attention.replaceAllUsesWith(result);
        attention.erase();
      } else if (auto router = dyn_cast<MoeRouterOp>(op)) {
        lowerRouter(router);
      } else if (auto experts = dyn_cast<ExpertFfnOp>(op)) {
        Value result = lowerExperts(experts);
        experts.replaceAllUsesWith(result);
        experts.erase();
      }
    }
  }
};

} // namespace
} // namespace mlir::fathom
