// The prefill GEMM (rows > kRowwiseMaxRows): register-blocked, GotoBLAS-style.
//
// A task owns an MB x NB tile of y. For each block of kKc inputs it packs W into NR-column
// strips ([k][NR], transposed in registers) and x into rows kc apart, both widened to fp32, and
// runs an MR x NR micro-kernel whose accumulators live in registers; partial sums wait in an
// fp32 tile between blocks. Summation order of one output: strictly increasing k, one FMA per
// input, so AVX2 and AVX-512 give identical bits (the baseline build has no FMA).
#include "LinearKernels.h"
#include "fathom/cpu/Isa.h"

#include <algorithm>
#include <string>
#include <utility>

namespace fathom::cpu::detail {
namespace {

constexpr int64_t kKc = kTiledInputsPerBlock;
constexpr int64_t kNb = kTiledOutputsPerTask;
constexpr int64_t kMbMax = kTiledMaxRowsPerTask;

// tile[MR][NR] (+)= x[MR rows, ldx apart][kc] * wStrip[kc][NR], NR = kVecs native vectors.
template <class V, int MR, int kVecs>
FATHOM_ALWAYS_INLINE void microKernel(int64_t kc, const float* x, int64_t ldx, const float* wStrip,
                                      float* tile, bool accumulate) {
  constexpr int L = kLanes<V>, NR = kVecs * L;
  V acc[MR][kVecs];
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < kVecs; ++v)
      acc[r][v] = accumulate ? loadVec<V>(tile + r * kNb + L * v) : V{};
  const float* rows[MR];
  for (int r = 0; r < MR; ++r)
    rows[r] = x + r * ldx;
  for (int64_t k = 0; k < kc; ++k) {
    V w[kVecs];
    for (int v = 0; v < kVecs; ++v)
      w[v] = loadVec<V>(wStrip + k * NR + L * v);
    for (int r = 0; r < MR; ++r) {
      float xr = rows[r][k];
      for (int v = 0; v < kVecs; ++v)
        acc[r][v] += w[v] * xr;
    }
  }
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < kVecs; ++v)
      storeVec(tile + r * kNb + L * v, acc[r][v]);
}

// wStrips[j / NR][k][j % NR] = W[colBegin + j, k0 + k] widened to fp32 (zero past colEnd),
// L columns at a time: widen L rows, then transpose L x L blocks in registers.
template <class V, int NR>
FATHOM_ALWAYS_INLINE void packWeights(const LinearProblem& p, int64_t colBegin, int64_t colEnd,
                                      int64_t k0, int64_t kc, const TiledBuffers& buf) {
  constexpr int L = kLanes<V>;
  float* rows = buf.wRows; // [L][kKc]
  for (int64_t j0 = 0; j0 < kNb; j0 += L) {
    for (int64_t j = 0; j < L; ++j) {
      if (colBegin + j0 + j < colEnd)
        widenWeightRow<V>(p.w, colBegin + j0 + j, k0, kc, rows + j * kKc);
      else
        std::fill(rows + j * kKc, rows + j * kKc + kc, 0.0f);
    }
    float* strip = buf.wStrips + (j0 / NR) * kc * NR + j0 % NR;
    int64_t k = 0;
    for (; k + L <= kc; k += L) {
      V block[L];
      for (int j = 0; j < L; ++j)
        block[j] = loadVec<V>(rows + j * kKc + k);
      transpose<V>(block);
      for (int i = 0; i < L; ++i)
        storeVec(strip + (k + i) * NR, block[i]);
    }
    for (; k < kc; ++k)
      for (int64_t j = 0; j < L; ++j)
        strip[k * NR + j] = rows[j * kKc + k];
  }
}

template <class V, int MR, int kVecs>
FATHOM_ALWAYS_INLINE void tiledTask(const LinearProblem& p, int64_t rowBegin, int64_t rowEnd,
                                    int64_t colBegin, int64_t colEnd, const TiledBuffers& buf) {
  constexpr int NR = kVecs * kLanes<V>;
  const int64_t numRows = rowEnd - rowBegin;
  const int64_t numPanels = (numRows + MR - 1) / MR;
  for (int64_t k0 = 0; k0 < p.in; k0 += kKc) {
    const int64_t kc = std::min(kKc, p.in - k0);
    // x rows widened to fp32 rows kc apart (also for fp32 x: rows a power-of-two stride apart
    // would fight over L1 sets); rows past rowEnd are zero.
    for (int64_t r = 0; r < numPanels * MR; ++r) {
      if (r < numRows)
        widenActivationRow<V>(p, rowBegin + r, k0, kc, buf.xRows + r * kc);
      else
        std::fill(buf.xRows + r * kc, buf.xRows + (r + 1) * kc, 0.0f);
    }
    packWeights<V, NR>(p, colBegin, colEnd, k0, kc, buf);
    for (int64_t panel = 0; panel < numPanels; ++panel)
      for (int64_t strip = 0; strip < kNb / NR; ++strip)
        microKernel<V, MR, kVecs>(kc, buf.xRows + panel * MR * kc, kc,
                                  buf.wStrips + strip * kc * NR,
                                  buf.tile + panel * MR * kNb + strip * NR, k0 > 0);
  }
  for (int64_t row = rowBegin; row < rowEnd; ++row)
    for (int64_t col = colBegin; col < colEnd; ++col)
      storeOutput(p, row, col, buf.tile[(row - rowBegin) * kNb + (col - colBegin)]);
}

// One entry per ISA; MR x NR fill the register file: 8x32 uses 16 of 32 zmm accumulators,
// 6x16 uses 12 of 16 ymm, 4x8 uses 8 of 16 xmm.
#if FATHOM_X86_DISPATCH
__attribute__((target("arch=x86-64-v4"))) void taskAvx512(const LinearProblem& p, int64_t r0,
                                                          int64_t r1, int64_t c0, int64_t c1,
                                                          const TiledBuffers& buf) {
  tiledTask<Vec16, 8, 2>(p, r0, r1, c0, c1, buf);
}
__attribute__((target("arch=x86-64-v3"))) void taskAvx2(const LinearProblem& p, int64_t r0,
                                                        int64_t r1, int64_t c0, int64_t c1,
                                                        const TiledBuffers& buf) {
  tiledTask<Vec8, 6, 2>(p, r0, r1, c0, c1, buf);
}
#endif
void taskBaseline(const LinearProblem& p, int64_t r0, int64_t r1, int64_t c0, int64_t c1,
                  const TiledBuffers& buf) {
  tiledTask<Vec4, 4, 2>(p, r0, r1, c0, c1, buf);
}

struct Kernel {
  TiledTaskFn task;
  int64_t rowsPerTask;
};

Kernel kernelFor(Isa isa, const LinearProblem& p) {
#if FATHOM_X86_DISPATCH
  if (isa == Isa::Avx512Bf16 && dotBf16Applies(p))
    return {tiledTaskDotBf16, kTiledMaxRowsPerTask};
  if (isa >= Isa::Avx512)
    return {taskAvx512, 16 * 8};
  if (isa == Isa::Avx2)
    return {taskAvx2, 16 * 6};
#endif
  (void)isa;
  (void)p;
  return {taskBaseline, 16 * 4};
}

size_t perThreadBytes() {
  return ScratchCarver::alignUp(kMbMax * kKc * 4) + ScratchCarver::alignUp(16 * kKc * 4) +
         ScratchCarver::alignUp(kNb * kKc * 4) + ScratchCarver::alignUp(kMbMax * kNb * 4);
}

TiledBuffers buffersAt(std::byte* slot) {
  TiledBuffers buf;
  buf.xRows = reinterpret_cast<float*>(slot);
  slot += ScratchCarver::alignUp(kMbMax * kKc * 4);
  buf.wRows = reinterpret_cast<float*>(slot);
  slot += ScratchCarver::alignUp(16 * kKc * 4);
  buf.wStrips = reinterpret_cast<float*>(slot);
  slot += ScratchCarver::alignUp(kNb * kKc * 4);
  buf.tile = reinterpret_cast<float*>(slot);
  return buf;
}

} // namespace

size_t linearTiledThreadBytes() {
  return perThreadBytes();
}

size_t linearTiledScratchBytes(int numThreads) {
  return size_t(numThreads) * perThreadBytes();
}

void linearTiledRange(const LinearProblem& p, int64_t rowBegin, int64_t rowEnd, int64_t colBegin,
                      int64_t colEnd, std::byte* threadSlot) {
  const Kernel kernel = kernelFor(gemmIsa(), p);
  const TiledBuffers buffers = buffersAt(threadSlot);
  for (int64_t r0 = rowBegin; r0 < rowEnd; r0 += kernel.rowsPerTask)
    for (int64_t c0 = colBegin; c0 < colEnd; c0 += kNb)
      kernel.task(p, r0, std::min(rowEnd, r0 + kernel.rowsPerTask), c0, std::min(colEnd, c0 + kNb),
                  buffers);
}

void linearTiled(const LinearProblem& p, ThreadPool& pool, Scratch scratch) {
  const Kernel kernel = kernelFor(gemmIsa(), p);
  const int numThreads = pool.numThreads();
  std::byte* slots =
      ScratchCarver(scratch, "linear").take<std::byte>(linearTiledScratchBytes(numThreads));
  const int64_t rowBlocks = (p.rows + kernel.rowsPerTask - 1) / kernel.rowsPerTask;
  const int64_t colBlocks = (p.out + kNb - 1) / kNb;
  pool.parallelFor(0, rowBlocks * colBlocks, 1, [&](int64_t first, int64_t last) {
    int thread = ThreadPool::currentThreadIndex();
    if (thread >= numThreads)
      throw Error("linear: called from inside another pool's parallel region");
    for (int64_t task = first; task < last; ++task) {
      int64_t rowBlock = task / colBlocks, colBlock = task % colBlocks;
      int64_t r0 = rowBlock * kernel.rowsPerTask, c0 = colBlock * kNb;
      kernel.task(p, r0, std::min(p.rows, r0 + kernel.rowsPerTask), c0, std::min(p.out, c0 + kNb),
                  buffersAt(slots + thread * perThreadBytes()));
    }
  });
}

} // namespace fathom::cpu::detail
