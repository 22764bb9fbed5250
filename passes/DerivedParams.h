#pragma once
// Helpers for passes that create derived params: the module's initializer, param declarations
// without a source, and the RoPE cos/sin tables every rotary op reads.
#include "dialects/fathom/FathomDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

#include <functional>

namespace mlir::fathom {

// The module's fathom.initializer, created at the end of the module when absent.
InitializerOp getOrCreateInitializer(ModuleOp module);

// Declares the derived param `name` of `type` (or returns it when a param of that name and type
// already exists) and, for a new one, defines it in the initializer with `define`, which builds
// the value at the initializer's end.
// A quantized derived param takes `quantizedLike`'s quantization, scale and zero.
FlatSymbolRefAttr getOrCreateDerivedParam(ModuleOp module, StringRef name, RankedTensorType type,
                                          function_ref<Value(OpBuilder&)> define,
                                          ParamOp quantizedLike = nullptr);
// The same with an explicit quantization, scale and (INT4) zero param, looking names up in
// `symbols` (the module's table, which passes that declare thousands of params keep; the new param
// is added to it).
FlatSymbolRefAttr getOrCreateDerivedParam(SymbolTable& symbols, ModuleOp module, StringRef name,
                                          RankedTensorType type,
                                          function_ref<Value(OpBuilder&)> define,
                                          BlockQuantAttr quantization, FlatSymbolRefAttr scale,
                                          FlatSymbolRefAttr zero = nullptr);

// A param's value inside the initializer (looked up in `symbols`, the module's table, when a
// pass keeps one: a module lookup walks every op).
Value paramValue(OpBuilder& builder, ModuleOp module, FlatSymbolRefAttr param);
Value paramValue(OpBuilder& builder, SymbolTable& symbols, FlatSymbolRefAttr param);

// The cos and sin tables [max_seq_len, dim / 2] for `rope` in `mode`: f32 for the complex
// modes, else `activation` (HF casts cos/sin to the activation dtype). Shared by every op with
// the same rope parameters.
std::pair<FlatSymbolRefAttr, FlatSymbolRefAttr>
getOrCreateRopeTables(ModuleOp module, RopeAttr rope, RopeMode mode, Type activation);

// The per-sequence cache `name` with rows `row`, declared after the params when absent (one
// layer, one cache layout: an existing cache of another row type is a bug of the caller).
FlatSymbolRefAttr getOrCreateCache(ModuleOp module, Location loc, StringRef name,
                                   RankedTensorType row);

// The module's max_seq_len / max_batch attributes (the builder sets them).
FailureOr<int64_t> moduleLimit(ModuleOp module, StringRef name);

} // namespace mlir::fathom
