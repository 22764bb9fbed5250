#pragma once
// The `fathom` dialect: model-level tensor ops for DeepSeek-family networks.
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir {
// Floating-point attribute parameters (RoPE theta, YaRN factor, ...) are stored as IEEE double
// APFloats and parse from plain float literals.
template <> struct FieldParser<llvm::APFloat> {
  static FailureOr<llvm::APFloat> parse(AsmParser& parser) {
    double value;
    if (parser.parseFloat(value))
      return failure();
    return llvm::APFloat(value);
  }
};
} // namespace mlir

#include "dialects/fathom/FathomEnums.h.inc"

#include "dialects/fathom/FathomDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/fathom/FathomAttrs.h.inc"

namespace mlir::fathom {
// The builtin element type of a dialect dtype (f32 -> f32, f8e4m3 -> f8E4M3FN, i8 -> i8, ...).
Type elementTypeOf(MLIRContext* context, DType dtype);
} // namespace mlir::fathom

#define GET_OP_CLASSES
#include "dialects/fathom/FathomOps.h.inc"
