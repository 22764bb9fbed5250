#include "dialects/fathom/FathomDialect.h"

#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::fathom;

#include "dialects/fathom/FathomDialect.cpp.inc"
#include "dialects/fathom/FathomEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/fathom/FathomAttrs.cpp.inc"

void FathomDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/fathom/FathomAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialects/fathom/FathomOps.cpp.inc"
      >();
}

LogicalResult BlockQuantAttr::verify(function_ref<InFlightDiagnostic()> emitError, DType storage,
                                     int64_t rows, int64_t cols) {
  if (storage != DType::f8e4m3 && storage != DType::f8e5m2 && storage != DType::i8 &&
      storage != DType::u4)
    return emitError() << "block quantization stores f8e4m3, f8e5m2, i8 or u4, not "
                       << stringifyDType(storage);
  if (rows <= 0 || cols <= 0)
    return emitError() << "block sizes must be positive, got " << rows << "x" << cols;
  return success();
}

LogicalResult RopeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               llvm::APFloat thetaValue, int64_t dim, RopeScaling scaling,
                               llvm::APFloat factorValue, int64_t originalMaxPositions,
                               llvm::APFloat betaFastValue, llvm::APFloat betaSlowValue,
                               llvm::APFloat attentionFactorValue, bool,
                               llvm::APFloat lowFreqFactorValue, llvm::APFloat highFreqFactorValue,
                               DenseF32ArrayAttr divisors) {
  double theta = thetaValue.convertToDouble(), factor = factorValue.convertToDouble();
  double betaFast = betaFastValue.convertToDouble(), betaSlow = betaSlowValue.convertToDouble();
  double attentionFactor = attentionFactorValue.convertToDouble();
  if (!(theta > 0))
    return emitError() << "rope theta must be positive, got " << theta;
  if (dim <= 0 || dim % 2 != 0)
    return emitError() << "rope dim must be a positive even number, got " << dim;
  if (!(factor > 0) || !(attentionFactor > 0))
    return emitError() << "rope factor and attention_factor must be positive";
  if (scaling == RopeScaling::yarn) {
    if (originalMaxPositions <= 0)
      return emitError() << "yarn needs original_max_positions > 0, got " << originalMaxPositions;
    if (!(betaFast > betaSlow))
      return emitError() << "yarn needs beta_fast > beta_slow, got " << betaFast << " and "
                         << betaSlow;
  }
  if (scaling == RopeScaling::llama3) {
    double low = lowFreqFactorValue.convertToDouble();
    double high = highFreqFactorValue.convertToDouble();
    if (originalMaxPositions <= 0)
      return emitError() << "llama3 needs original_max_positions > 0, got " << originalMaxPositions;
    if (!(low > 0) || !(high > low))
      return emitError() << "llama3 needs high_freq_factor > low_freq_factor > 0, got " << high
                         << " and " << low;
  }
  if ((scaling == RopeScaling::longrope) != bool(divisors))
    return emitError() << "rope divisors come with longrope scaling and only with it";
  if (divisors) {
    if (int64_t(divisors.size()) != dim / 2)
      return emitError() << "longrope needs " << dim / 2 << " divisors (dim / 2), got "
                         << divisors.size();
    for (float divisor : divisors.asArrayRef())
      if (!(divisor > 0) || !std::isfinite(divisor))
        return emitError() << "longrope divisors must be positive and finite, got " << divisor;
  }
  return success();
}
