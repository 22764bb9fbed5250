// Expert-grouped GEMMs on linear()'s kernels, every expert's tiles in one parallel region.
#include "fathom/cpu/GroupedLinear.h"
#include "LinearKernels.h"
#include "fathom/runtime/BlockQuant.h"

#include <algorithm>
#include <string>

namespace fathom::cpu {
namespace {

using detail::LinearProblem;

constexpr int64_t kRowsPerTask = detail::kTiledMaxRowsPerTask;
constexpr int64_t kMaxSpan = 256;           // outputs of one task, at most: the gated tiles' width
constexpr int64_t kWeightsPerTask = 524288; // about what one task streams

size_t gatedTileBytes() {
  return detail::ScratchCarver::alignUp(size_t(kRowsPerTask * kMaxSpan) * sizeof(float));
}

size_t threadSlotBytes() {
  return detail::linearTiledThreadBytes() + 2 * gatedTileBytes();
}

// Outputs per task: a multiple of the tiled GEMM's output block (and so of every rowwise
// block), about kWeightsPerTask weights.
int64_t spanFor(const GroupedLinearArgs& a) {
  constexpr int64_t block = detail::kTiledOutputsPerTask;
  return std::clamp<int64_t>(kWeightsPerTask / a.inFeatures / block * block, block, kMaxSpan);
}

[[noreturn]] void fail(const std::string& message) {
  throw Error("grouped linear: " + message);
}

// Expert `group`'s matrix `half` (0 = gate or the only one, 1 = up) applied to its rows
// [rowBegin, rowEnd), written to `y` (ldy apart, first column yColumnBase).
LinearProblem problemFor(const GroupedLinearArgs& a, int64_t group, int half, int64_t rowBegin,
                         int64_t rowEnd, void* y, int64_t ldy, int64_t yColumnBase) {
  const int64_t matrix = group * (a.gated ? 2 : 1) + half;
  LinearArgs args;
  args.rows = rowEnd - rowBegin;
  args.inFeatures = a.inFeatures;
  args.outFeatures = a.outFeatures;
  args.xType = a.xType;
  args.ldx = a.ldx;
  args.x = static_cast<const std::byte*>(a.x) +
           size_t(a.offsets[group] + rowBegin) * size_t(a.ldx) * dtypeSize(a.xType);
  args.wType = a.wType;
  args.w = static_cast<const std::byte*>(a.w) +
           storageBytes(a.wType, uint64_t(matrix * a.outFeatures * a.inFeatures),
                        uint64_t(a.inFeatures));
  args.wScales = a.wScales;
  if (a.wType == DType::F8E4M3 || a.wType == DType::U4) {
    const int64_t gridRows = (a.outFeatures + a.wScales.blockRows - 1) / a.wScales.blockRows;
    const int64_t gridCols = (a.inFeatures + a.wScales.blockCols - 1) / a.wScales.blockCols;
    args.wScales.data = a.wScales.data + matrix * gridRows * gridCols;
    if (a.wType == DType::U4 && a.wScales.zeros)
      args.wScales.zeros = a.wScales.zeros + matrix * gridRows * u4RowBytes(gridCols);
  }
  args.yType = a.yType;
  args.y = y;
  LinearProblem problem = detail::resolveLinear(args);
  // A gated task's tile holds only its span of outputs.
  problem.ldy = ldy;
  problem.yColumnBase = yColumnBase;
  return problem;
}

// Outputs [colBegin, colEnd) of every row of `p`: rowwise when the expert's rows are few
// (as linear() decides for the whole expert), else tiled.
void compute(const LinearProblem& p, bool rowwise, int64_t colBegin, int64_t colEnd,
             std::byte* slot) {
  if (rowwise)
    detail::linearRowwiseRange(p, colBegin, colEnd);
  else
    detail::linearTiledRange(p, 0, p.rows, colBegin, colEnd, slot);
}

template <class T>
void runGatedTask(const GroupedLinearArgs& a, const GroupedLinearTask& t, bool rowwise,
                  std::byte* slot) {
  T* gate = reinterpret_cast<T*>(slot + detail::linearTiledThreadBytes());
  T* up = reinterpret_cast<T*>(slot + detail::linearTiledThreadBytes() + gatedTileBytes());
  const int64_t span = t.colEnd - t.colBegin;
  compute(problemFor(a, t.group, 0, t.rowBegin, t.rowEnd, gate, span, t.colBegin), rowwise,
          t.colBegin, t.colEnd, slot);
  compute(problemFor(a, t.group, 1, t.rowBegin, t.rowEnd, up, span, t.colBegin), rowwise,
          t.colBegin, t.colEnd, slot);
  T* y = static_cast<T*>(a.y) + (a.offsets[t.group] + t.rowBegin) * a.ldy + t.colBegin;
  for (int64_t r = 0; r < t.rowEnd - t.rowBegin; ++r)
    detail::siluMulRow(gate + r * span, up + r * span, span, y + r * a.ldy);
}

void runTask(const GroupedLinearArgs& a, const GroupedLinearTask& t, std::byte* slot) {
  const bool rowwise = a.offsets[t.group + 1] - a.offsets[t.group] <= kRowwiseMaxRows;
  if (!a.gated) {
    void* y = static_cast<std::byte*>(a.y) +
              size_t(a.offsets[t.group] + t.rowBegin) * size_t(a.ldy) * dtypeSize(a.yType);
    compute(problemFor(a, t.group, 0, t.rowBegin, t.rowEnd, y, a.ldy, 0), rowwise, t.colBegin,
            t.colEnd, slot);
    return;
  }
  detail::withActivationType(a.yType, "grouped linear", "y",
                             [&](auto tag) { runGatedTask<decltype(tag)>(a, t, rowwise, slot); });
}

void check(const GroupedLinearArgs& a) {
  if (a.groups <= 0 || a.inFeatures <= 0 || a.outFeatures <= 0 || !a.offsets || !a.x || !a.w ||
      !a.y)
    fail("needs experts, positive sizes and non-null operands");
  if (a.xType != a.yType)
    fail("x and y must have the same dtype");
  if (a.ldx < a.inFeatures || a.ldy < a.outFeatures)
    fail("leading dimensions are smaller than the rows");
  if (a.wType == DType::F8E4M3 &&
      (!a.wScales.data || a.wScales.blockRows <= 0 || a.wScales.blockCols <= 0))
    fail("an F8E4M3 weight needs block scales with positive block sizes");
  if (a.wType == DType::U4 &&
      (!a.wScales.data || !a.wScales.zeros || a.wScales.blockRows != 1 || a.wScales.blockCols <= 0))
    fail("a U4 weight needs scales and zero points per 1 x blockCols group");
  if (a.offsets[0] != 0)
    fail("expert row ranges must start at row 0");
  for (int64_t e = 0; e < a.groups; ++e)
    if (a.offsets[e + 1] < a.offsets[e])
      fail("expert row ranges are not ascending at expert " + std::to_string(e));
}

} // namespace

size_t groupedLinearScratchBytes(const ThreadPool& pool) {
  return size_t(pool.numThreads()) * threadSlotBytes();
}

void groupedLinear(const GroupedLinearArgs& args, ThreadPool& pool, Scratch scratch,
                   std::vector<GroupedLinearTask>& tasks) {
  check(args);
  const int numThreads = pool.numThreads();
  std::byte* slots = detail::ScratchCarver(scratch, "grouped linear")
                         .take<std::byte>(groupedLinearScratchBytes(pool));
  const int64_t span = spanFor(args);
  tasks.clear();
  for (int64_t e = 0; e < args.groups; ++e) {
    const int64_t rows = args.offsets[e + 1] - args.offsets[e];
    const int64_t rowStep = rows <= kRowwiseMaxRows ? rows : kRowsPerTask;
    for (int64_t r0 = 0; r0 < rows; r0 += rowStep)
      for (int64_t c0 = 0; c0 < args.outFeatures; c0 += span)
        tasks.push_back(
            {e, r0, std::min(rows, r0 + rowStep), c0, std::min(args.outFeatures, c0 + span)});
  }
  pool.parallelFor(0, int64_t(tasks.size()), 1, [&](int64_t first, int64_t last) {
    const int thread = ThreadPool::currentThreadIndex();
    if (thread >= numThreads)
      fail("called from inside another pool's parallel region");
    for (int64_t i = first; i < last; ++i)
      runTask(args, tasks[size_t(i)], slots + size_t(thread) * threadSlotBytes());
  });
}

} // namespace fathom::cpu
