#pragma once
// The expert-grouped GEMMs: rows grouped by expert (moeDispatch's offsets) through their
// expert's matrix of one stacked weight, all experts in one parallel region. Tasks are
// (expert, row block, output span) tiles of the experts that have rows, so an expert no token
// chose costs nothing, and an output's bits are those linear() gives the same rows and matrix.
//
// Gated form: the weight stacks each expert's gate and up ([experts, 2, out, in]) and the
// result is HF's act_fn(gate(x)) * up(x) with its roundings (gate and up rounded to y's dtype,
// the SiLU rounded, the product rounded), fused into the GEMM's epilogue.
#include "fathom/cpu/Linear.h"

#include <cstdint>
#include <vector>

namespace fathom::cpu {

struct GroupedLinearArgs {
  int64_t groups = 0;               // experts in the stacked weight
  const int32_t* offsets = nullptr; // [groups + 1]: expert e owns rows [offsets[e], offsets[e+1])
  int64_t inFeatures = 0, outFeatures = 0;
  bool gated = false; // gate and up stacked; the result is silu(gate) * up

  DType xType = DType::F32; // F32 or BF16, [offsets[groups], inFeatures]
  const void* x = nullptr;
  int64_t ldx = 0;

  // [groups, gated ? 2 : 1, outFeatures, inFeatures], F32, BF16, F8E4M3 or U4; the scales (and
  // U4 zero points) are [groups, gated ? 2 : 1, ceil(out / blockRows), ceil(in / blockCols)].
  DType wType = DType::F32;
  const void* w = nullptr;
  BlockScales wScales;

  DType yType = DType::F32; // same as xType, [offsets[groups], outFeatures]
  void* y = nullptr;
  int64_t ldy = 0;
};

// Scratch for any call on this pool (per-thread GEMM buffers and the gated epilogue's tiles).
size_t groupedLinearScratchBytes(const ThreadPool& pool);

// Checks the arguments and the offsets (fathom::Error), then computes y. `tasks` is the
// caller's reusable list, so that a call allocates nothing once it has grown.
struct GroupedLinearTask {
  int64_t group, rowBegin, rowEnd, colBegin, colEnd;
};
void groupedLinear(const GroupedLinearArgs& args, ThreadPool& pool, Scratch scratch,
                   std::vector<GroupedLinearTask>& tasks);

} // namespace fathom::cpu
