#include "passes/DerivedParams.h"
#include "passes/Passes.h"

#include "llvm/ADT/SmallVector.h"

namespace mlir::fathom {

#define GEN_PASS_DEF_EXPERTGROUPINGPASS
#include "passes/Passes.h.inc"

namespace {

// gate and up of every expert through expert_linear, silu_mul, then down: what
// fathom-decompose writes for expert_ffn.
struct ExpertChain {
  ExpertLinearOp gate, up, down;
  SiluMulOp activation;
};

std::optional<ExpertChain> matchChain(SiluMulOp activation) {
  auto gate = activation.getGate().getDefiningOp<ExpertLinearOp>();
  auto up = activation.getUp().getDefiningOp<ExpertLinearOp>();
  if (!gate || !up || !activation->hasOneUse() || !gate->hasOneUse() || !up->hasOneUse() ||
      gate.getInput() != up.getInput() || gate.getOffsets() != up.getOffsets() ||
      gate.getWeights().size() != up.getWeights().size())
    return std::nullopt;
  auto down = dyn_cast<ExpertLinearOp>(*activation->user_begin());
  if (!down || down.getInput() != activation.getResult() ||
      down.getOffsets() != gate.getOffsets() ||
      down.getWeights().size() != gate.getWeights().size())
    return std::nullopt;
  return ExpertChain{gate, up, down, activation};
}

// The matrices of a stacked weight in stacking order (expert-major), all of one type and
// quantization, else nothing.
SmallVector<ParamOp> uniformParams(SymbolTable& symbols, ArrayRef<ArrayAttr> lists) {
  SmallVector<ParamOp> params;
  size_t experts = lists.front().size();
  for (size_t e = 0; e < experts; ++e)
    for (ArrayAttr list : lists) {
      auto param = symbols.lookup<ParamOp>(cast<FlatSymbolRefAttr>(list[e]).getValue());
      if (!param)
        return {};
      params.push_back(param);
    }
  ParamOp first = params.front();
  for (ParamOp param : params)
    if (param.getTensorType() != first.getTensorType() ||
        param.getQuantizationAttr() != first.getQuantizationAttr())
      return {};
  return params;
}

// The matrices are back-to-back slices of one checkpoint tensor (transformers v5's fused
// experts), so the stacked weight is that tensor's bytes as they are.
bool contiguousInOneSource(ArrayRef<ParamOp> params) {
  ParamOp first = params.front();
  if (!first.getSource() || first.getQuantization())
    return false;
  int64_t count = first.getTensorType().getNumElements();
  int64_t base = first.getSourceOffset() ? int64_t(*first.getSourceOffset()) : 0;
  for (size_t index = 0; index < params.size(); ++index) {
    ParamOp param = params[index];
    int64_t offset = param.getSourceOffset() ? int64_t(*param.getSourceOffset()) : 0;
    if (param.getSource() != first.getSource() ||
        param.getSourceDtypeAttr() != first.getSourceDtypeAttr() ||
        offset != base + int64_t(index) * count)
      return false;
  }
  return true;
}

// The matrices [M, N] stacked into `shape` ([experts, (2,) M, N]) by the initializer: one
// dim-0 concatenation of the matrices, which the artifact writer streams one at a time.
Value stackInInitializer(OpBuilder& builder, ModuleOp module, ArrayRef<ParamOp> params,
                         ArrayRef<int64_t> shape) {
  Location loc = module.getLoc();
  ParamOp front = params.front();
  RankedTensorType matrix = front.getTensorType();
  SmallVector<int64_t> pieceShape{1};
  pieceShape.append(matrix.getShape().begin(), matrix.getShape().end());
  auto pieceType = RankedTensorType::get(pieceShape, matrix.getElementType());
  SmallVector<Value> pieces;
  for (ParamOp param : params) {
    Value value = ParamValueOp::create(builder, loc, param.getTensorType(),
                                       FlatSymbolRefAttr::get(param.getSymNameAttr()));
    pieces.push_back(WeightReshapeOp::create(builder, loc, pieceType, value));
  }
  pieceShape[0] = int64_t(params.size());
  auto joinedType = RankedTensorType::get(pieceShape, matrix.getElementType());
  Value joined =
      WeightConcatOp::create(builder, loc, joinedType, pieces, builder.getI64IntegerAttr(0));
  auto stackedType = RankedTensorType::get(shape, matrix.getElementType());
  if (stackedType == joinedType)
    return joined;
  return WeightReshapeOp::create(builder, loc, stackedType, joined);
}

// Declares the stacked weight `name` of `shape` over `params` (their block scales stacked
// alongside), or returns it when an earlier chain of the same layer already did.
FlatSymbolRefAttr stackedParam(SymbolTable& symbols, ModuleOp module, StringRef name,
                               ArrayRef<ParamOp> params, ArrayRef<int64_t> shape) {
  ParamOp first = params.front();
  auto type = RankedTensorType::get(shape, first.getTensorType().getElementType());
  if (contiguousInOneSource(params)) {
    if (auto existing = symbols.lookup<ParamOp>(name))
      if (existing.getTensorType() == type && existing.getSource() == first.getSource())
        return FlatSymbolRefAttr::get(existing.getSymNameAttr());
    std::string unique = name.str();
    for (int index = 1; symbols.lookup(unique); ++index)
      unique = name.str() + "." + std::to_string(index);
    OpBuilder declare(first);
    auto stacked = ParamOp::create(declare, first.getLoc(), unique, type, first.getSourceAttr(),
                                   first.getSourceDtypeAttr(), nullptr, nullptr,
                                   first.getSourceOffsetAttr(), nullptr);
    symbols.insert(stacked);
    return FlatSymbolRefAttr::get(module.getContext(), unique);
  }
  BlockQuantAttr quantization = first.getQuantizationAttr();
  FlatSymbolRefAttr scale, zero;
  // The per-expert grids (scales, INT4 zero points) stack the same way as the data.
  auto stackGrids = [&](StringRef suffix, function_ref<FlatSymbolRefAttr(ParamOp)> gridOf) {
    SmallVector<ParamOp> grids;
    for (ParamOp param : params)
      grids.push_back(symbols.lookup<ParamOp>(gridOf(param).getValue()));
    ArrayRef<int64_t> grid = grids.front().getTensorType().getShape();
    SmallVector<int64_t> gridShape(shape.drop_back(2));
    gridShape.append(grid.begin(), grid.end());
    return stackedParam(symbols, module, (name + suffix).str(), grids, gridShape);
  };
  if (quantization)
    scale = stackGrids(quantization.getStorage() == DType::u4 ? "_scale" : "_scale_inv",
                       [](ParamOp param) { return param.getScaleAttr(); });
  if (first.getZero())
    zero = stackGrids("_zero", [](ParamOp param) { return param.getZeroAttr(); });
  return getOrCreateDerivedParam(
      symbols, module, name, type,
      [&](OpBuilder& builder) { return stackInInitializer(builder, module, params, shape); },
      quantization, scale, zero);
}

// "model.layers.3.mlp.experts.0.gate_proj.weight" -> "model.layers.3.mlp.experts."
std::string expertsPrefix(ParamOp firstExpert) {
  StringRef name = firstExpert.getSymName();
  size_t at = name.rfind(".0.");
  return at == StringRef::npos ? (name + ".").str() : name.take_front(at + 1).str();
}

LogicalResult groupChain(SymbolTable& symbols, ModuleOp module, ExpertChain chain) {
  SmallVector<ParamOp> gateUp =
      uniformParams(symbols, {chain.gate.getWeights(), chain.up.getWeights()});
  SmallVector<ParamOp> down = uniformParams(symbols, {chain.down.getWeights()});
  if (gateUp.empty() || down.empty())
    return failure(); // experts of mixed types stay per expert
  int64_t experts = int64_t(chain.gate.getWeights().size());
  ParamOp gate0 = gateUp.front(), down0 = down.front();
  ArrayRef<int64_t> gateShape = gate0.getTensorType().getShape();
  ArrayRef<int64_t> downShape = down0.getTensorType().getShape();
  std::string prefix = expertsPrefix(gate0);
  FlatSymbolRefAttr gateUpWeight = stackedParam(symbols, module, prefix + "gate_up_proj", gateUp,
                                                {experts, 2, gateShape[0], gateShape[1]});
  FlatSymbolRefAttr downWeight = stackedParam(symbols, module, prefix + "down_proj", down,
                                              {experts, downShape[0], downShape[1]});

  OpBuilder builder(chain.down);
  Location loc = chain.activation.getLoc();
  Value activated =
      GroupedGateUpOp::create(builder, loc, chain.activation.getType(), chain.gate.getInput(),
                              chain.gate.getOffsets(), gateUpWeight);
  Value result = GroupedLinearOp::create(builder, chain.down.getLoc(), chain.down.getType(),
                                         activated, chain.down.getOffsets(), downWeight);
  chain.down.replaceAllUsesWith(result);
  chain.down.erase();
  chain.activation.erase();
  chain.gate.erase();
  chain.up.erase();
  return success();
}

struct ExpertGroupingPass : impl::ExpertGroupingPassBase<ExpertGroupingPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<ExpertChain> chains;
    module.walk([&](SiluMulOp activation) {
      if (std::optional<ExpertChain> chain = matchChain(activation))
        chains.push_back(*chain);
    });
    SymbolTable symbols(module);
    for (ExpertChain chain : chains)
      if (succeeded(groupChain(symbols, module, chain)))
        ++numGrouped;
  }
};

} // namespace
} // namespace mlir::fathom
