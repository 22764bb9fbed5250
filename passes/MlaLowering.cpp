#include "passes/MlaLowering.h"

#include "passes/DerivedParams.h"

namespace mlir::fathom {
namespace {

RankedTensorType rankedType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

RankedTensorType withLast(RankedTensorType type, ArrayRef<int64_t> last) {
  SmallVector<int64_t> shape(type.getShape().take_front(2));
  shape.append(last.begin(), last.end());
  return RankedTensorType::get(shape, type.getElementType());
}

} // namespace

MlaLowering::MlaLowering(MlaAttentionOp op)
    : op_(op), module_(op->getParentOfType<ModuleOp>()), builder_(op),
      act_(rankedType(op.getInput()).getElementType()), heads_(op.getNumHeads()),
      nope_(op.getQkNopeHeadDim()), rope_(op.getQkRopeHeadDim()), v_(op.getVHeadDim()),
      kvLora_(op.getKvLoraRank()) {}

Value MlaLowering::slice(Value input, int64_t offset, int64_t size) {
  RankedTensorType type = rankedType(input);
  SmallVector<int64_t> shape(type.getShape());
  shape.back() = size;
  return SliceOp::create(builder_, op_.getLoc(), RankedTensorType::get(shape, act_), input,
                         builder_.getI64IntegerAttr(offset), builder_.getI64IntegerAttr(size));
}

Value MlaLowering::splitHeads(Value input, int64_t heads) {
  RankedTensorType type = rankedType(input);
  int64_t width = type.getShape().back();
  return SplitHeadsOp::create(builder_, op_.getLoc(), withLast(type, {heads, width / heads}),
                              input);
}

Value MlaLowering::linear(Value input, FlatSymbolRefAttr weight, FlatSymbolRefAttr bias,
                          int64_t width) {
  return LinearOp::create(builder_, op_.getLoc(), withLast(rankedType(input), {width}), input,
                          weight, bias);
}

Value MlaLowering::rotate(Value input) {
  auto [cos, sin] = getOrCreateRopeTables(module_, op_.getRope(), op_.getRopeMode(), act_);
  return RopeOp::create(builder_, op_.getLoc(), input.getType(), input, op_.getPositions(), cos,
                        sin, op_.getRopeModeAttr());
}

MlaLowering::Query MlaLowering::query() {
  Value x = op_.getInput();
  int64_t width = heads_ * (nope_ + rope_);
  Value q;
  if (auto qProj = op_.getQProjAttr()) {
    q = linear(x, qProj, nullptr, width);
  } else {
    int64_t qLora =
        module_.lookupSymbol<ParamOp>(op_.getQAProjAttr()).getTensorType().getDimSize(0);
    Value qa = linear(x, op_.getQAProjAttr(), op_.getQAProjBiasAttr(), qLora);
    qa = RmsNormOp::create(builder_, op_.getLoc(), qa, op_.getQALayernormAttr(),
                           op_.getLoraNormEpsilonAttr());
    q = linear(qa, op_.getQBProjAttr(), nullptr, width);
  }
  Value heads = splitHeads(q, heads_);
  return {slice(heads, 0, nope_), rotate(slice(heads, nope_, rope_))};
}

MlaLowering::CompressedKv MlaLowering::compressedKv() {
  Value kva = linear(op_.getInput(), op_.getKvAProjWithMqaAttr(), op_.getKvAProjWithMqaBiasAttr(),
                     kvLora_ + rope_);
  Value latent = RmsNormOp::create(builder_, op_.getLoc(), slice(kva, 0, kvLora_),
                                   op_.getKvALayernormAttr(), op_.getLoraNormEpsilonAttr());
  return {latent, rotate(slice(kva, kvLora_, rope_))};
}

FlatSymbolRefAttr MlaLowering::cache(StringRef kind, int64_t width) {
  std::string name = "layer" + std::to_string(op_.getLayer()) + "." + kind.str();
  return getOrCreateCache(module_, op_.getLoc(), name, RankedTensorType::get({width}, act_));
}

Value MlaLowering::append(FlatSymbolRefAttr cache, ValueRange pieces) {
  auto width = module_.lookupSymbol<CacheOp>(cache).getRowType().getDimSize(0);
  auto dyn = ShapedType::kDynamic;
  auto type = RankedTensorType::get({dyn, dyn, width}, act_);
  return CacheAppendOp::create(builder_, op_.getLoc(), type, cache, pieces, op_.getCacheStart(),
                               /*rope_positions=*/Value(), nullptr, nullptr, nullptr, nullptr);
}

MlaLowering::KeysValues MlaLowering::decompress(Value latent) {
  Value kvb = linear(latent, op_.getKvBProjAttr(), nullptr, heads_ * (nope_ + v_));
  Value perHead = splitHeads(kvb, heads_);
  return {slice(perHead, 0, nope_), slice(perHead, nope_, v_)};
}

Value MlaLowering::attend(Value queryNope, Value queryRope, Value keyNope, Value keyRope,
                          Value value, Type resultElement) {
  RankedTensorType queryType = rankedType(queryNope);
  int64_t valueDim = rankedType(value).getShape().back();
  auto resultType =
      RankedTensorType::get({queryType.getDimSize(0), queryType.getDimSize(1), heads_, valueDim},
                            resultElement ? resultElement : act_);
  return AttentionOp::create(builder_, op_.getLoc(), resultType, queryNope, queryRope, keyNope,
                             keyRope, value, op_.getKeyMask(), op_.getCacheStart(),
                             /*rope_positions=*/Value(), op_.getScaleAttr(), builder_.getUnitAttr(),
                             nullptr, nullptr, nullptr);
}

Value MlaLowering::output(Value attended) {
  RankedTensorType type = rankedType(attended);
  int64_t width = type.getDimSize(2) * type.getDimSize(3);
  Value merged = MergeHeadsOp::create(
      builder_, op_.getLoc(),
      RankedTensorType::get({type.getDimSize(0), type.getDimSize(1), width}, act_), attended);
  return LinearOp::create(builder_, op_.getLoc(), op_.getType(), merged, op_.getOProjAttr(),
                          op_.getOProjBiasAttr());
}

} // namespace mlir::fathom
