// One DeepSeek MoE layer on the CPU backend's kernels, in the two forms the compiler can emit:
// the expert-grouped GEMMs (fathom-expert-grouping: stacked gate_up with SiLU*mul fused, then
// stacked down, one parallel region each) and the per-expert form (each expert's rows through
// its own gate, up and down GEMMs, then silu_mul). Both run the whole layer as the artifact
// does: the fp32 router GEMM and top-k, dispatch, gather, the experts, the weighted combine, and
// the shared experts added.
//   build/bin/fathom-moe-bench [--benchmark_format=json]
// Shape (arguments): tokens; experts 64, top-6, hidden 2048, moe_intermediate 1408, 2 shared
// experts (DeepSeek-V2-Lite's layer), bf16. tools/bench/moe/bench_moe_layer.py runs this next to
// transformers' DeepseekV3MoE in the same sitting.
#include "fathom/cpu/Elementwise.h"
#include "fathom/cpu/GroupedLinear.h"
#include "fathom/cpu/Linear.h"
#include "fathom/cpu/Moe.h"
#include "fathom/runtime/Numeric.h"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>
#include <vector>

namespace {

using namespace fathom;
using namespace fathom::cpu;

constexpr int64_t kExperts = 64, kTopK = 6, kHidden = 2048, kInter = 1408, kShared = 2;

ThreadPool& pool() {
  static ThreadPool instance([] {
    const char* threads = std::getenv("FATHOM_BENCH_THREADS");
    return threads ? std::atoi(threads) : 0;
  }());
  return instance;
}

std::vector<uint16_t> randomBf16(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<uint16_t> data(n);
  for (uint16_t& v : data)
    v = floatToBf16(normal(rng));
  return data;
}

struct Layer {
  std::vector<uint16_t> router = randomBf16(size_t(kExperts * kHidden), 1, 0.02f);
  std::vector<uint16_t> gateUp = randomBf16(size_t(kExperts * 2 * kInter * kHidden), 2, 0.02f);
  std::vector<uint16_t> down = randomBf16(size_t(kExperts * kHidden * kInter), 3, 0.02f);
  std::vector<uint16_t> sharedGate = randomBf16(size_t(kShared * kInter * kHidden), 4, 0.02f);
  std::vector<uint16_t> sharedUp = randomBf16(size_t(kShared * kInter * kHidden), 5, 0.02f);
  std::vector<uint16_t> sharedDown = randomBf16(size_t(kHidden * kShared * kInter), 6, 0.02f);
};

const Layer& layer() {
  static const Layer instance;
  return instance;
}

LinearArgs bf16Linear(int64_t rows, int64_t in, int64_t out, const void* x, const uint16_t* w,
                      void* y, DType yType = DType::BF16) {
  LinearArgs args{rows, in, out, DType::BF16, x, 0, DType::BF16, w};
  args.yType = yType;
  args.y = y;
  return args;
}

GroupedLinearArgs bf16Grouped(bool gated, int64_t in, int64_t out, const int32_t* offsets,
                              const void* x, const uint16_t* w, void* y) {
  GroupedLinearArgs args;
  args.groups = kExperts;
  args.offsets = offsets;
  args.xType = args.yType = args.wType = DType::BF16;
  args.gated = gated;
  args.inFeatures = in;
  args.outFeatures = out;
  args.x = x;
  args.ldx = in;
  args.w = w;
  args.y = y;
  args.ldy = out;
  return args;
}

void moeLayer(benchmark::State& state, bool grouped) {
  const int64_t tokens = state.range(0), pairs = tokens * kTopK;
  const Layer& w = layer();
  ThreadPool& threads = pool();
  std::vector<uint16_t> x = randomBf16(size_t(tokens * kHidden), 7, 1.0f);
  std::vector<float> logits(static_cast<size_t>(tokens * kExperts)),
      weights(static_cast<size_t>(pairs));
  std::vector<int32_t> indices(static_cast<size_t>(pairs)), offsets(kExperts + 1),
      rowToken(static_cast<size_t>(pairs)), slotRow(static_cast<size_t>(pairs));
  std::vector<uint16_t> rows(static_cast<size_t>(pairs * kHidden)),
      gate(static_cast<size_t>(pairs * kInter)), up(static_cast<size_t>(pairs * kInter)),
      act(static_cast<size_t>(pairs * kInter)), expertOut(static_cast<size_t>(pairs * kHidden)),
      routed(static_cast<size_t>(tokens * kHidden)),
      sharedGate(static_cast<size_t>(tokens * kShared * kInter)), sharedUp(sharedGate.size()),
      sharedAct(sharedGate.size()), shared(routed.size()), out(routed.size());
  LinearArgs large{tokens * kTopK + kRowwiseMaxRows + 1, kHidden, kShared * kInter};
  ScratchBuffer scratch(
      std::max(linearScratchBytes(large, threads), groupedLinearScratchBytes(threads)));
  std::vector<GroupedLinearTask> tasks;
  RouterConfig router;
  router.method = RouterMethod::SoftmaxGreedy;
  router.numExperts = kExperts;
  router.topK = kTopK;
  router.normTopkProb = false;
  const size_t matrix = size_t(kInter * kHidden);

  for (auto _ : state) {
    linear(
        bf16Linear(tokens, kHidden, kExperts, x.data(), w.router.data(), logits.data(), DType::F32),
        threads, scratch.span());
    moeRoute(threads, router, logits.data(), nullptr, tokens, indices.data(), weights.data());
    moeDispatch(indices.data(), tokens, kTopK, kExperts, offsets.data(), rowToken.data(),
                slotRow.data());
    gatherRows(threads, DType::BF16, x.data(), kHidden, rowToken.data(), pairs, kHidden,
               rows.data(), kHidden);
    if (grouped) {
      groupedLinear(bf16Grouped(true, kHidden, kInter, offsets.data(), rows.data(), w.gateUp.data(),
                                act.data()),
                    threads, scratch.span(), tasks);
      groupedLinear(bf16Grouped(false, kInter, kHidden, offsets.data(), act.data(), w.down.data(),
                                expertOut.data()),
                    threads, scratch.span(), tasks);
    } else {
      for (int64_t e = 0; e < kExperts; ++e) {
        const int64_t begin = offsets[size_t(e)], count = offsets[size_t(e) + 1] - begin;
        if (count == 0)
          continue;
        const uint16_t* gateW = w.gateUp.data() + size_t(2 * e) * matrix;
        linear(bf16Linear(count, kHidden, kInter, rows.data() + begin * kHidden, gateW,
                          gate.data() + begin * kInter),
               threads, scratch.span());
        linear(bf16Linear(count, kHidden, kInter, rows.data() + begin * kHidden, gateW + matrix,
                          up.data() + begin * kInter),
               threads, scratch.span());
      }
      siluMul(threads, DType::BF16, gate.data(), kInter, up.data(), kInter, pairs, kInter,
              act.data(), kInter);
      for (int64_t e = 0; e < kExperts; ++e) {
        const int64_t begin = offsets[size_t(e)], count = offsets[size_t(e) + 1] - begin;
        if (count > 0)
          linear(bf16Linear(count, kInter, kHidden, act.data() + begin * kInter,
                            w.down.data() + size_t(e) * matrix, expertOut.data() + begin * kHidden),
                 threads, scratch.span());
      }
    }
    moeCombine(threads, MoeCombineOrder::EagerExpertLoop, DType::BF16, expertOut.data(), kHidden,
               slotRow.data(), indices.data(), weights.data(), tokens, kTopK, kHidden,
               routed.data(), kHidden);
    const int64_t sharedWidth = kShared * kInter;
    linear(
        bf16Linear(tokens, kHidden, sharedWidth, x.data(), w.sharedGate.data(), sharedGate.data()),
        threads, scratch.span());
    linear(bf16Linear(tokens, kHidden, sharedWidth, x.data(), w.sharedUp.data(), sharedUp.data()),
           threads, scratch.span());
    siluMul(threads, DType::BF16, sharedGate.data(), sharedWidth, sharedUp.data(), sharedWidth,
            tokens, sharedWidth, sharedAct.data(), sharedWidth);
    linear(bf16Linear(tokens, sharedWidth, kHidden, sharedAct.data(), w.sharedDown.data(),
                      shared.data()),
           threads, scratch.span());
    add(threads, DType::BF16, routed.data(), shared.data(), out.data(), tokens * kHidden);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["tokens"] = double(tokens);
}

void BM_MoeLayerGrouped(benchmark::State& state) {
  moeLayer(state, true);
}
void BM_MoeLayerPerExpert(benchmark::State& state) {
  moeLayer(state, false);
}

BENCHMARK(BM_MoeLayerGrouped)
    ->Arg(1)
    ->Arg(16)
    ->Arg(256)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MoeLayerPerExpert)
    ->Arg(1)
    ->Arg(16)
    ->Arg(256)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
