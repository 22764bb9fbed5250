#include "dialects/fathom/FathomConventions.h"
#include "passes/DerivedParams.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AttrTypeSubElements.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::fathom {

#define GEN_PASS_DEF_QUANTIZEPASS
#include "passes/Passes.h.inc"

namespace {

constexpr int64_t kBlock = 128; // DeepSeek's FP8 block: 128 x 128 weights per scale
constexpr int64_t kGroup = 128; // INT4: one scale and zero point per row and 128 inputs

// Functions whose weights are quantized: all but those the builder marked fathom.unquantized.
SmallVector<func::FuncOp> quantizedFunctions(ModuleOp module) {
  SmallVector<func::FuncOp> functions;
  for (auto function : module.getOps<func::FuncOp>())
    if (!function->hasAttr(kUnquantizedAttr))
      functions.push_back(function);
  return functions;
}

// The projections DeepSeek's FP8 checkpoints store in FP8: attention's (MLA's or LLaMA's q, k,
// v and o), the dense MLPs' and the shared and routed experts'. Embeddings, the LM head, norms
// and the router gate are not reached from these ops (the router is `moe_router`, the head
// `lm_head`, a classifier's head the linear the function returns).
llvm::SetVector<StringAttr> linearWeights(ModuleOp module) {
  llvm::SetVector<StringAttr> names;
  auto add = [&](Attribute symbol) {
    if (auto ref = dyn_cast_or_null<FlatSymbolRefAttr>(symbol))
      names.insert(ref.getAttr());
  };
  for (func::FuncOp function : quantizedFunctions(module))
    function.walk([&](Operation* op) {
      if (auto linear = dyn_cast<LinearOp>(op)) {
        // A linear whose result the function returns is the model's head (a classifier's
        // `score`), which stays as it is like the LM head.
        bool head = llvm::any_of(linear->getUsers(),
                                 [](Operation* user) { return isa<func::ReturnOp>(user); });
        if (!head)
          add(linear.getWeightAttr());
      } else if (auto mla = dyn_cast<MlaAttentionOp>(op)) {
        for (Attribute weight :
             {Attribute(mla.getQProjAttr()), Attribute(mla.getQAProjAttr()),
              Attribute(mla.getQBProjAttr()), Attribute(mla.getKvAProjWithMqaAttr()),
              Attribute(mla.getKvBProjAttr()), Attribute(mla.getOProjAttr())})
          add(weight);
      } else if (auto attention = dyn_cast<MultiHeadAttentionOp>(op)) {
        for (Attribute weight : {attention.getQProjAttr(), attention.getKProjAttr(),
                                 attention.getVProjAttr(), attention.getOProjAttr()})
          add(weight);
      } else if (auto experts = dyn_cast<ExpertFfnOp>(op)) {
        for (ArrayAttr list : {experts.getGateProj(), experts.getUpProj(), experts.getDownProj()})
          for (Attribute weight : list)
            add(weight);
      }
    });
  return names;
}

// What the quantizer reads: the checkpoint's values as stored there. A param the model holds in
// another dtype (a bf16 checkpoint computed in fp32, or the reverse) gets a companion param of
// the checkpoint's dtype, which only the initializer reads.
FlatSymbolRefAttr checkpointValues(SymbolTable& symbols, ModuleOp module, ParamOp param) {
  DTypeAttr sourceDtype = param.getSourceDtypeAttr();
  Type element = sourceDtype ? elementTypeOf(module.getContext(), sourceDtype.getValue()) : Type();
  if (!isa_and_nonnull<FloatType>(element))
    return FlatSymbolRefAttr::get(param.getSymNameAttr());
  std::string name = (param.getSymName() + ".checkpoint").str();
  if (auto existing = symbols.lookup<ParamOp>(name))
    return FlatSymbolRefAttr::get(existing.getSymNameAttr());
  OpBuilder declare(param);
  declare.setInsertionPointAfter(param);
  auto type = RankedTensorType::get(param.getTensorType().getShape(), element);
  auto companion = ParamOp::create(declare, param.getLoc(), name, type, param.getSourceAttr(),
                                   nullptr, nullptr, nullptr, param.getSourceOffsetAttr(), nullptr);
  symbols.insert(companion);
  return FlatSymbolRefAttr::get(companion.getSymNameAttr());
}

// `<weight>.fp8` [out, in] f8E4M3FN and its `<weight>.fp8_scale_inv`, both from one
// weight_quantize of the checkpoint's values.
FlatSymbolRefAttr quantizeFp8(SymbolTable& symbols, ModuleOp module, ParamOp param) {
  MLIRContext* context = module.getContext();
  RankedTensorType type = param.getTensorType();
  auto dataType = RankedTensorType::get(type.getShape(), Float8E4M3FNType::get(context));
  auto scaleType = RankedTensorType::get(
      {(type.getDimSize(0) + kBlock - 1) / kBlock, (type.getDimSize(1) + kBlock - 1) / kBlock},
      Float32Type::get(context));
  FlatSymbolRefAttr source = checkpointValues(symbols, module, param);
  auto sourceType = symbols.lookup<ParamOp>(source.getValue()).getTensorType();
  WeightQuantizeOp quantize;
  FlatSymbolRefAttr scale = getOrCreateDerivedParam(
      symbols, module, (param.getSymName() + ".fp8_scale_inv").str(), scaleType,
      [&](OpBuilder& builder) {
        Value values = ParamValueOp::create(builder, module.getLoc(), sourceType, source);
        quantize = WeightQuantizeOp::create(builder, module.getLoc(), dataType, scaleType, values,
                                            builder.getI64IntegerAttr(kBlock),
                                            builder.getI64IntegerAttr(kBlock));
        return quantize.getScale();
      },
      nullptr, nullptr);
  auto quantization = BlockQuantAttr::get(context, DType::f8e4m3, kBlock, kBlock);
  return getOrCreateDerivedParam(
      symbols, module, (param.getSymName() + ".fp8").str(), dataType,
      [&](OpBuilder&) { return quantize.getData(); }, quantization, scale);
}

// The values INT4 quantizes: the checkpoint's, or an FP8 checkpoint's dequantized in fp32.
Value int4Source(OpBuilder& builder, SymbolTable& symbols, ModuleOp module, ParamOp param) {
  Location loc = module.getLoc();
  if (auto quant = param.getQuantization()) {
    auto scale = symbols.lookup<ParamOp>(param.getScaleAttr().getValue());
    RankedTensorType type = param.getTensorType();
    Value data =
        ParamValueOp::create(builder, loc, type, FlatSymbolRefAttr::get(param.getSymNameAttr()));
    Value scales = ParamValueOp::create(builder, loc, scale.getTensorType(), param.getScaleAttr());
    return WeightDequantizeOp::create(
        builder, loc, RankedTensorType::get(type.getShape(), Float32Type::get(module.getContext())),
        data, scales, Value(), builder.getI64IntegerAttr(quant->getRows()),
        builder.getI64IntegerAttr(quant->getCols()));
  }
  FlatSymbolRefAttr source = checkpointValues(symbols, module, param);
  auto sourceType = symbols.lookup<ParamOp>(source.getValue()).getTensorType();
  return ParamValueOp::create(builder, loc, sourceType, source);
}

// `<weight>.int4` [out, in] ui4 with `<weight>.int4_scale` (f32) and `<weight>.int4_zero`
// (ui4), [out, ceil(in / 128)] each, all from one weight_group_quantize.
FlatSymbolRefAttr quantizeInt4(SymbolTable& symbols, ModuleOp module, ParamOp param) {
  MLIRContext* context = module.getContext();
  RankedTensorType type = param.getTensorType();
  Type u4 = elementTypeOf(context, DType::u4);
  auto dataType = RankedTensorType::get(type.getShape(), u4);
  SmallVector<int64_t> grid{type.getDimSize(0), (type.getDimSize(1) + kGroup - 1) / kGroup};
  auto scaleType = RankedTensorType::get(grid, Float32Type::get(context));
  auto zeroType = RankedTensorType::get(grid, u4);
  WeightGroupQuantizeOp quantize;
  FlatSymbolRefAttr scale = getOrCreateDerivedParam(
      symbols, module, (param.getSymName() + ".int4_scale").str(), scaleType,
      [&](OpBuilder& builder) {
        quantize = WeightGroupQuantizeOp::create(
            builder, module.getLoc(), dataType, scaleType, zeroType,
            int4Source(builder, symbols, module, param), builder.getI64IntegerAttr(kGroup));
        return quantize.getScale();
      },
      nullptr, nullptr);
  FlatSymbolRefAttr zero = getOrCreateDerivedParam(
      symbols, module, (param.getSymName() + ".int4_zero").str(), zeroType,
      [&](OpBuilder&) { return quantize.getZero(); }, nullptr, nullptr);
  auto quantization = BlockQuantAttr::get(context, DType::u4, 1, kGroup);
  return getOrCreateDerivedParam(
      symbols, module, (param.getSymName() + ".int4").str(), dataType,
      [&](OpBuilder&) { return quantize.getData(); }, quantization, scale, zero);
}

struct QuantizePass : impl::QuantizePassBase<QuantizePass> {
  using QuantizePassBase::QuantizePassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (mode != "fp8" && mode != "int4") {
      module.emitError() << "fathom-quantize: unknown mode '" << mode << "' (known: fp8, int4)";
      return signalPassFailure();
    }
    SymbolTable symbols(module);
    DenseMap<Attribute, Attribute> replacements;
    for (StringAttr name : linearWeights(module)) {
      auto param = symbols.lookup<ParamOp>(name);
      RankedTensorType type = param ? param.getTensorType() : RankedTensorType();
      if (!param || type.getRank() != 2)
        continue;
      Type element = type.getElementType();
      bool floatMatrix = element.isF32() || element.isBF16();
      // fp8: an FP8 checkpoint keeps its bytes. int4: its FP8 weights are requantized.
      bool fp8Checkpoint = param.getQuantization() && isa<Float8E4M3FNType>(element);
      if (mode == "fp8" && floatMatrix && !param.getQuantization())
        replacements[FlatSymbolRefAttr::get(name)] = quantizeFp8(symbols, module, param);
      else if (mode == "int4" && ((floatMatrix && !param.getQuantization()) || fp8Checkpoint))
        replacements[FlatSymbolRefAttr::get(name)] = quantizeInt4(symbols, module, param);
      else
        continue;
      ++numQuantized;
    }
    // Entry points read the FP8 weights (one walk); the initializer still reads the originals.
    AttrTypeReplacer replacer;
    replacer.addReplacement([&](FlatSymbolRefAttr symbol) -> std::optional<Attribute> {
      auto found = replacements.find(symbol);
      if (found == replacements.end())
        return std::nullopt;
      return found->second;
    });
    for (func::FuncOp function : quantizedFunctions(module))
      replacer.recursivelyReplaceElementsIn(function);
  }
};

} // namespace
} // namespace mlir::fathom
