#include "passes/DerivedParams.h"
#include "passes/MlaLowering.h"
#include "passes/Passes.h"

#include "dialects/fathom/FathomConventions.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::fathom {

#define GEN_PASS_DEF_MLAABSORPTIONPASS
#include "passes/Passes.h.inc"

namespace {

// kv_b_proj [heads * (nope + v), kv_lora] in the activation dtype, viewed per head as
// [heads, nope + v, kv_lora] (FP8 and INT4 weights are dequantized first, as the kernels would).
Value perHeadKvB(OpBuilder& builder, ModuleOp module, MlaLowering& mla) {
  auto kvB = module.lookupSymbol<ParamOp>(mla.op().getKvBProjAttr());
  Location loc = mla.op().getLoc();
  Value weight = paramValue(builder, module, mla.op().getKvBProjAttr());
  RankedTensorType type = kvB.getTensorType();
  if (auto quant = kvB.getQuantization()) {
    Value scale = paramValue(builder, module, kvB.getScaleAttr());
    Value zero = kvB.getZero() ? paramValue(builder, module, kvB.getZeroAttr()) : Value();
    weight = WeightDequantizeOp::create(
        builder, loc, RankedTensorType::get(type.getShape(), mla.act()), weight, scale, zero,
        builder.getI64IntegerAttr(quant->getRows()), builder.getI64IntegerAttr(quant->getCols()));
  }
  return WeightReshapeOp::create(
      builder, loc,
      RankedTensorType::get({mla.heads(), mla.nope() + mla.v(), mla.kvLora()}, mla.act()), weight);
}

// W_UK^T [heads, kv_lora, nope]: maps each head's query nope part into the latent space.
FlatSymbolRefAttr absorbedKey(ModuleOp module, MlaLowering& mla) {
  auto type = RankedTensorType::get({mla.heads(), mla.kvLora(), mla.nope()}, mla.act());
  std::string name = mla.op().getKvBProjAttr().getValue().str() + ".absorbed_k";
  return getOrCreateDerivedParam(module, name, type, [&](OpBuilder& builder) -> Value {
    Location loc = mla.op().getLoc();
    Value key = WeightSliceOp::create(
        builder, loc, RankedTensorType::get({mla.heads(), mla.nope(), mla.kvLora()}, mla.act()),
        perHeadKvB(builder, module, mla), builder.getI64IntegerAttr(1),
        builder.getI64IntegerAttr(0), builder.getI64IntegerAttr(mla.nope()));
    return WeightTransposeOp::create(builder, loc, type, key);
  });
}

// W_UV [heads, v, kv_lora]: maps each head's attended latent to its value.
FlatSymbolRefAttr absorbedValue(ModuleOp module, MlaLowering& mla) {
  auto type = RankedTensorType::get({mla.heads(), mla.v(), mla.kvLora()}, mla.act());
  std::string name = mla.op().getKvBProjAttr().getValue().str() + ".absorbed_v";
  return getOrCreateDerivedParam(module, name, type, [&](OpBuilder& builder) -> Value {
    return WeightSliceOp::create(builder, mla.op().getLoc(), type, perHeadKvB(builder, module, mla),
                                 builder.getI64IntegerAttr(1),
                                 builder.getI64IntegerAttr(mla.nope()),
                                 builder.getI64IntegerAttr(mla.v()));
  });
}

Value headMatmul(MlaLowering& mla, Value input, FlatSymbolRefAttr weight, int64_t out,
                 Type element) {
  auto type = cast<RankedTensorType>(input.getType());
  auto result = RankedTensorType::get(
      {type.getDimSize(0), type.getDimSize(1), type.getDimSize(2), out}, element);
  return HeadMatmulOp::create(mla.builder(), mla.op().getLoc(), result, input, weight);
}

Value lowerLatentMla(MlaAttentionOp op, bool absorbed) {
  auto module = op->getParentOfType<ModuleOp>();
  MlaLowering mla(op);
  MlaLowering::Query query = mla.query();
  MlaLowering::CompressedKv kv = mla.compressedKv();
  FlatSymbolRefAttr cache = mla.cache("latent_cache", mla.kvLora() + mla.rope());
  Value cached = mla.append(cache, {kv.latent, kv.ropeKey});
  Value keyRope = mla.splitHeads(mla.slice(cached, mla.kvLora(), mla.rope()), 1);
  if (!absorbed) {
    // Prefill: decompress every cached latent and attend in the naive form.
    MlaLowering::KeysValues keys = mla.decompress(mla.slice(cached, 0, mla.kvLora()));
    return mla.output(mla.attend(query.nope, query.rope, keys.key, keyRope, keys.value));
  }
  // Decode: multi-query attention over the latents, one shared key and value head. The latent
  // query and the attended latent stay in fp32, so that the roundings left are HF's: scores and
  // probabilities in the activation dtype, and each head's value output once.
  Value latent = mla.splitHeads(mla.slice(cached, 0, mla.kvLora()), 1);
  Type f32 = Float32Type::get(op.getContext());
  Value queryLatent = headMatmul(mla, query.nope, absorbedKey(module, mla), mla.kvLora(), f32);
  Value attended = mla.attend(queryLatent, query.rope, latent, keyRope, latent, f32);
  return mla.output(headMatmul(mla, attended, absorbedValue(module, mla), mla.v(), mla.act()));
}

struct MlaAbsorptionPass : impl::MlaAbsorptionPassBase<MlaAbsorptionPass> {
  void runOnOperation() override {
    SmallVector<MlaAttentionOp> cached;
    getOperation().walk([&](MlaAttentionOp op) {
      if (op.getCacheStart())
        cached.push_back(op);
    });
    for (MlaAttentionOp op : cached) {
      auto function = op->getParentOfType<func::FuncOp>();
      auto entry = function ? function->getAttrOfType<StringAttr>(kEntryPointAttr) : nullptr;
      bool decode = entry && entry.getValue() == kDecode;
      Value result = lowerLatentMla(op, decode);
      op.replaceAllUsesWith(result);
      op.erase();
      ++numAbsorbed;
    }
  }
};

} // namespace
} // namespace mlir::fathom
