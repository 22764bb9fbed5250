// linear(): operand checks and the choice between the rowwise (decode) and tiled (prefill)
// paths.
#include "LinearKernels.h"

#include <string>

namespace fathom::cpu {
namespace {

using detail::LinearProblem;

[[noreturn]] void fail(const std::string& message) {
  throw Error("linear: " + message);
}

} // namespace

LinearProblem detail::resolveLinear(const LinearArgs& a) {
  if (a.rows < 0 || a.inFeatures <= 0 || a.outFeatures <= 0)
    fail("shape rows=" + std::to_string(a.rows) + " in=" + std::to_string(a.inFeatures) +
         " out=" + std::to_string(a.outFeatures) + " is invalid");
  detail::requireFloatOrBf16(a.xType, "linear", "x");
  detail::requireFloatOrBf16(a.yType, "linear", "y");
  if (a.bias)
    detail::requireFloatOrBf16(a.biasType, "linear", "bias");
  if (!a.x || !a.w || !a.y)
    fail("x, w and y must not be null");

  LinearProblem p;
  p.rows = a.rows;
  p.in = a.inFeatures;
  p.out = a.outFeatures;
  p.xType = a.xType;
  p.x = a.x;
  p.ldx = a.ldx ? a.ldx : a.inFeatures;
  p.biasType = a.biasType;
  p.bias = a.bias;
  p.yType = a.yType;
  p.y = a.y;
  p.ldy = a.ldy ? a.ldy : a.outFeatures;
  if (p.ldx < p.in || p.ldy < p.out)
    fail("leading dimension smaller than the row (ldx=" + std::to_string(p.ldx) +
         ", ldy=" + std::to_string(p.ldy) + ")");

  detail::WeightSource& w = p.w;
  w.type = a.wType;
  w.data = a.w;
  w.ld = a.ldw ? a.ldw : a.wType == DType::U4 ? (a.inFeatures + 1) / 2 * 2 : a.inFeatures;
  if (w.ld < p.in)
    fail("ldw=" + std::to_string(w.ld) + " is smaller than inFeatures");
  if (a.wType == DType::U4) {
    const BlockScales& s = a.wScales;
    if (!s.data || !s.zeros || s.blockRows != 1 || s.blockCols <= 0)
      fail("a U4 weight needs scales and zero points per 1 x blockCols group (blockCols > 0)");
    if (w.ld % 2 != 0)
      fail("a U4 weight's ldw must be even (rows start on a byte), got " + std::to_string(w.ld));
    w.scales = s.data;
    w.zeros = s.zeros;
    w.blockRows = 1;
    w.blockCols = s.blockCols;
    w.scaleCols = (p.in + s.blockCols - 1) / s.blockCols;
    w.roundDequantizedToBf16 = a.xType == DType::BF16;
  } else if (a.wType == DType::F8E4M3) {
    const BlockScales& s = a.wScales;
    if (!s.data || s.blockRows <= 0 || s.blockCols <= 0)
      fail("an F8E4M3 weight needs block scales with positive block sizes");
    w.scales = s.data;
    w.blockRows = s.blockRows;
    w.blockCols = s.blockCols;
    w.scaleCols = (p.in + s.blockCols - 1) / s.blockCols;
    // HF's bf16 model holds the dequantized weight in bf16.
    w.roundDequantizedToBf16 = a.xType == DType::BF16;
  } else if (a.wType != DType::F32 && a.wType != DType::BF16) {
    fail("w has dtype " + std::string(dtypeName(a.wType)) + ", expected F32, BF16, F8E4M3 or U4");
  }
  return p;
}

size_t linearScratchBytes(const LinearArgs& args, const ThreadPool& pool) {
  if (args.rows <= kRowwiseMaxRows)
    return 0;
  return detail::linearTiledScratchBytes(pool.numThreads());
}

void linear(const LinearArgs& args, ThreadPool& pool, Scratch scratch) {
  LinearProblem problem = detail::resolveLinear(args);
  if (problem.rows == 0)
    return;
  if (problem.rows <= kRowwiseMaxRows)
    detail::linearRowwise(problem, pool);
  else
    detail::linearTiled(problem, pool, scratch);
}

} // namespace fathom::cpu
