#include "passes/DerivedParams.h"

#include "dialects/fathom/FathomConventions.h"

namespace mlir::fathom {

InitializerOp getOrCreateInitializer(ModuleOp module) {
  // From the end: the initializer follows the params and functions, and a module of DeepSeek-V3
  // holds a hundred thousand params, which a walk from the front would pass per derived param.
  for (Operation& op : llvm::reverse(*module.getBody()))
    if (auto initializer = dyn_cast<InitializerOp>(op))
      return initializer;
  OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
  auto initializer = InitializerOp::create(builder, module.getLoc());
  initializer.getBody().emplaceBlock();
  return initializer;
}

FlatSymbolRefAttr getOrCreateDerivedParam(ModuleOp module, StringRef name, RankedTensorType type,
                                          function_ref<Value(OpBuilder&)> define,
                                          ParamOp quantizedLike) {
  SymbolTable symbols(module);
  return getOrCreateDerivedParam(symbols, module, name, type, define,
                                 quantizedLike ? quantizedLike.getQuantizationAttr() : nullptr,
                                 quantizedLike ? quantizedLike.getScaleAttr() : nullptr,
                                 quantizedLike ? quantizedLike.getZeroAttr() : nullptr);
}

FlatSymbolRefAttr getOrCreateDerivedParam(SymbolTable& symbols, ModuleOp module, StringRef name,
                                          RankedTensorType type,
                                          function_ref<Value(OpBuilder&)> define,
                                          BlockQuantAttr quantization, FlatSymbolRefAttr scale,
                                          FlatSymbolRefAttr zero) {
  MLIRContext* context = module.getContext();
  if (auto existing = symbols.lookup<ParamOp>(name))
    if (existing.getTensorType() == type && !existing.getSource())
      return FlatSymbolRefAttr::get(context, name);
  // A clash with an unrelated symbol gets a fresh name.
  std::string unique = name.str();
  for (int index = 1; symbols.lookup(unique); ++index)
    unique = name.str() + "." + std::to_string(index);
  // Derived params go right before the initializer, after the checkpoint's.
  InitializerOp initializer = getOrCreateInitializer(module);
  OpBuilder declare(initializer);
  auto param = ParamOp::create(declare, module.getLoc(), unique, type, nullptr, nullptr,
                               quantization, scale, nullptr, zero);
  symbols.insert(param);
  auto symbol = FlatSymbolRefAttr::get(context, unique);
  OpBuilder body = OpBuilder::atBlockEnd(&initializer.getBlock());
  Value value = define(body);
  DefineParamOp::create(body, module.getLoc(), symbol, value);
  return symbol;
}

Value paramValue(OpBuilder& builder, ModuleOp module, FlatSymbolRefAttr param) {
  auto op = module.lookupSymbol<ParamOp>(param);
  assert(op && "paramValue of an undeclared param");
  return ParamValueOp::create(builder, module.getLoc(), op.getTensorType(), param);
}

Value paramValue(OpBuilder& builder, SymbolTable& symbols, FlatSymbolRefAttr param) {
  auto op = symbols.lookup<ParamOp>(param.getValue());
  assert(op && "paramValue of an undeclared param");
  return ParamValueOp::create(builder, op.getLoc(), op.getTensorType(), param);
}

FailureOr<int64_t> moduleLimit(ModuleOp module, StringRef name) {
  auto limit = module->getAttrOfType<IntegerAttr>(name);
  if (!limit || limit.getInt() < 1)
    return module.emitOpError() << "needs a positive integer attribute " << name;
  return limit.getInt();
}

std::pair<FlatSymbolRefAttr, FlatSymbolRefAttr>
getOrCreateRopeTables(ModuleOp module, RopeAttr rope, RopeMode mode, Type activation) {
  bool complex = mode == RopeMode::complex || mode == RopeMode::complex_halves;
  Type element = complex ? Float32Type::get(module.getContext()) : activation;
  int64_t positions = 1;
  if (auto limit = module->getAttrOfType<IntegerAttr>(kMaxSeqLenAttr))
    positions = limit.getInt();
  auto type = RankedTensorType::get({positions, rope.getDim() / 2}, element);
  // Reuse the tables of an identical rope: look for a definition with the same parameters.
  InitializerOp initializer = getOrCreateInitializer(module);
  FlatSymbolRefAttr found[2];
  for (DefineParamOp define : initializer.getBlock().getOps<DefineParamOp>()) {
    auto table = define.getValue().getDefiningOp<RopeTableOp>();
    if (table && table.getRope() == rope && table.getType() == type)
      found[int(table.getPart())] = define.getParamAttr();
  }
  if (found[0] && found[1])
    return {found[0], found[1]};
  std::string suffix;
  llvm::raw_string_ostream(suffix) << "." << element;
  FlatSymbolRefAttr tables[2];
  for (TablePart part : {TablePart::cos, TablePart::sin}) {
    std::string name = "rope." + stringifyTablePart(part).str() + suffix;
    // Distinct ropes in one module get distinct names.
    for (int index = 1; module.lookupSymbol(name); ++index)
      name = "rope." + stringifyTablePart(part).str() + suffix + "." + std::to_string(index);
    tables[int(part)] = getOrCreateDerivedParam(module, name, type, [&](OpBuilder& builder) {
      return RopeTableOp::create(builder, module.getLoc(), type, rope,
                                 TablePartAttr::get(module.getContext(), part));
    });
  }
  return {tables[0], tables[1]};
}

FlatSymbolRefAttr getOrCreateCache(ModuleOp module, Location loc, StringRef name,
                                   RankedTensorType row) {
  if (auto existing = module.lookupSymbol<CacheOp>(name)) {
    assert(existing.getRowType() == row && "one layer, one cache layout");
    return FlatSymbolRefAttr::get(existing.getSymNameAttr());
  }
  OpBuilder declare = OpBuilder::atBlockBegin(module.getBody());
  // After the params, before the functions: keep declarations together.
  for (Operation& op : *module.getBody())
    if (!isa<ParamOp, CacheOp>(op)) {
      declare.setInsertionPoint(&op);
      break;
    }
  auto cache = CacheOp::create(declare, loc, name, row);
  return FlatSymbolRefAttr::get(cache.getSymNameAttr());
}

} // namespace mlir::fathom
