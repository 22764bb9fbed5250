#pragma once
// y = x @ W^T (+ bias), nn.Linear's layout: W is [outFeatures, inFeatures] row-major.
//
// Every operand is widened exactly to fp32, products are accumulated in fp32 and y is rounded
// once to its dtype. That is HF's bf16 GEMM (bf16 inputs, fp32 accumulation, one rounding) and
// its fp32 GEMM; only the summation order is ours (see README.md):
//  - rows <= kRowwiseMaxRows: each output is a 16-lane dot product (decode);
//  - more rows: each output is summed strictly in input order with FMAs (prefill).
// Either way the bits do not depend on the thread count, and AVX2 and AVX-512 agree.
//
// FP8 e4m3 weights with block scales are dequantized on the fly as w = f8(w8) * scale in fp32;
// when x is BF16 that product is then rounded to bf16, which is what HF computes after
// dequantizing the checkpoint and loading it in bf16.
//
// INT4 (U4) weights with one scale and zero point per 1 x blockCols group are dequantized the
// same way, as w = float(q - zero) * scale (fathom/runtime/BlockQuant.h), rounded to bf16 when x
// is BF16.
#include "fathom/cpu/Scratch.h"
#include "fathom/cpu/ThreadPool.h"
#include "fathom/runtime/DType.h"

#include <cstdint>

namespace fathom::cpu {

// One fp32 scale per blockRows x blockCols tile of W, row-major
// [ceil(out / blockRows), ceil(in / blockCols)]; edge tiles are partial and use their scale.
struct BlockScales {
  const float* data = nullptr;
  int64_t blockRows = 128;
  int64_t blockCols = 128;
  // U4 weights only: zero points, U4 in the scales' shape (two per byte, rows byte-aligned).
  const uint8_t* zeros = nullptr;
};

struct LinearArgs {
  int64_t rows = 0;
  int64_t inFeatures = 0;
  int64_t outFeatures = 0;

  DType xType = DType::F32; // F32 or BF16
  const void* x = nullptr;  // [rows, inFeatures]
  int64_t ldx = 0;          // elements between rows; 0 means inFeatures

  DType wType = DType::F32; // F32, BF16, F8E4M3 or U4
  const void* w = nullptr;  // [outFeatures, inFeatures]
  int64_t ldw = 0;          // 0 means inFeatures (U4: rounded up to even, whole bytes)
  BlockScales wScales;      // F8E4M3 and U4 only

  DType biasType = DType::F32; // F32 or BF16
  const void* bias = nullptr;  // [outFeatures] or null

  DType yType = DType::F32; // F32 or BF16
  void* y = nullptr;        // [rows, outFeatures]
  int64_t ldy = 0;          // 0 means outFeatures
};

// Up to this many rows take the dot-product (GEMV) path.
inline constexpr int64_t kRowwiseMaxRows = 8;

// Bytes of scratch linear() needs for these shapes on this pool (0 on the rowwise path).
size_t linearScratchBytes(const LinearArgs& args, const ThreadPool& pool);

// Checks shapes and dtypes (fathom::Error), then computes y. Scratch may be larger than needed.
void linear(const LinearArgs& args, ThreadPool& pool, Scratch scratch);

} // namespace fathom::cpu
