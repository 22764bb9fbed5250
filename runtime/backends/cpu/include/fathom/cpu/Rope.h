#pragma once
// Rotary position embedding applied the ways HF transformers 5.x does for DeepSeek V2/V3 (and
// LLaMA), from cos/sin tables [positions, dim / 2] the compiler computed (compiler/initializer).
#include "fathom/cpu/ThreadPool.h"
#include "fathom/runtime/DType.h"

#include <cstdint>

namespace fathom::cpu {

enum class RopeLayout {
  // rotate_half on [x_0..x_{h-1} | x_h..x_{2h-1}] (LLaMA; DeepSeek with rope_interleave=false).
  HalfSplit,
  // DeepSeek V3 rope_interleave=true: pair j is (x_2j, x_2j+1); the output is de-interleaved,
  // [x_2j*c - x_2j+1*s for all j | x_2j+1*c + x_2j*s for all j].
  Interleaved,
  // DeepSeek V2: pair j is the complex number x_2j + i x_2j+1, multiplied by cos + i sin in
  // fp32 and rounded once; the output stays interleaved.
  ComplexPairs,
  // The same arithmetic on pairs (x_j, x_{j+dim/2}): V2 once RoPE fusion folded its pairs into
  // the projection's row order.
  ComplexHalves,
};

// How one row of `dim` elements rotates: the layout and the tables (F32 for the complex
// layouts, else the activation dtype), `tableRows` positions of `tableStride` elements (0 means
// dim / 2). A position outside [0, tableRows) is an error.
struct RopeRotation {
  RopeLayout layout = RopeLayout::HalfSplit;
  int64_t dim = 64;
  DType tableType = DType::BF16;
  const void* cos = nullptr;
  const void* sin = nullptr;
  int64_t tableStride = 0;
  int64_t tableRows = 0;
};

// Rotates `dim` elements per (token, head). HalfSplit/Interleaved evaluate
// out = x*cos -/+ x'*sin in the activation dtype, rounding each product and the sum (bf16 as HF;
// fp32 plainly). `positionRows[t]` selects token t's table row (null: row t); tableRows bounds
// it (0: no bound, for callers that built tables for exactly their positions). out may alias x.
struct RopeApplyArgs {
  RopeLayout layout = RopeLayout::Interleaved;
  DType type = DType::BF16; // of x and out
  int64_t tokens = 0, heads = 1, dim = 64;
  const void* x = nullptr;
  int64_t xTokenStride = 0, xHeadStride = 0; // elements
  void* out = nullptr;
  int64_t outTokenStride = 0, outHeadStride = 0;
  DType tableType = DType::BF16;
  const void* cos = nullptr;
  const void* sin = nullptr;
  int64_t tableStride = 0; // elements between table rows; 0 means dim / 2
  int64_t tableRows = 0;
  const int64_t* positionRows = nullptr;
};

void applyRope(ThreadPool& pool, const RopeApplyArgs& args);

} // namespace fathom::cpu
