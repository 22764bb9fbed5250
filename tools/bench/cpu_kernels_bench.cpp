// Throughput of the CPU backend's GEMM (and attention) at DeepSeek-like decode and prefill shapes.
//   build-cpu/bin/cpu_kernels_bench [--benchmark_filter=...]
// Reports GFLOP/s (GEMM: 2 * rows * in * out per call). Environment: FATHOM_BENCH_THREADS sets the
// pool size (default: all hardware threads); FATHOM_BENCH_ISA=avx2|baseline pins the tiled GEMM.
#include "fathom/cpu/Attention.h"
#include "fathom/cpu/Isa.h"
#include "fathom/cpu/Linear.h"
#include "fathom/runtime/Numeric.h"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace fathom;
using namespace fathom::cpu;

ThreadPool& pool() {
  static ThreadPool instance([] {
    const char* threads = std::getenv("FATHOM_BENCH_THREADS");
    return threads ? std::atoi(threads) : 0;
  }());
  static const bool pinned = [] {
    const char* isa = std::getenv("FATHOM_BENCH_ISA");
    if (isa && std::string(isa) == "avx2")
      setGemmIsa(Isa::Avx2);
    else if (isa && std::string(isa) == "baseline")
      setGemmIsa(Isa::Baseline);
    return true;
  }();
  (void)pinned;
  return instance;
}

template <class T> std::vector<T> randomData(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<T> data(n);
  for (T& v : data) {
    if constexpr (std::is_same_v<T, float>)
      v = normal(rng);
    else if constexpr (std::is_same_v<T, uint16_t>)
      v = floatToBf16(normal(rng));
    else
      v = uint8_t(rng() & 0x77); // finite FP8 e4m3 codes
  }
  return data;
}

// Arguments: rows, in, out, activation dtype, weight dtype.
void BM_Linear(benchmark::State& state) {
  const int64_t rows = state.range(0), in = state.range(1), out = state.range(2);
  const DType act = DType(state.range(3)), weight = DType(state.range(4));
  auto xF32 = randomData<float>(size_t(rows * in), 1);
  auto xBf16 = randomData<uint16_t>(size_t(rows * in), 1);
  auto wF32 = randomData<float>(size_t(out * in), 2);
  auto wBf16 = randomData<uint16_t>(size_t(out * in), 2);
  auto wF8 = randomData<uint8_t>(size_t(out * in), 2);
  std::vector<float> scales(size_t(((out + 127) / 128) * ((in + 127) / 128)), 0.01f);
  std::vector<float> y(size_t(rows * out));

  LinearArgs args;
  args.rows = rows;
  args.inFeatures = in;
  args.outFeatures = out;
  args.xType = act;
  args.x = act == DType::F32 ? static_cast<const void*>(xF32.data()) : xBf16.data();
  args.wType = weight;
  args.w = weight == DType::F32    ? static_cast<const void*>(wF32.data())
           : weight == DType::BF16 ? static_cast<const void*>(wBf16.data())
                                   : static_cast<const void*>(wF8.data());
  args.wScales = {scales.data(), 128, 128};
  args.yType = act;
  args.y = y.data();
  ScratchBuffer scratch(linearScratchBytes(args, pool()));
  for (auto _ : state) {
    linear(args, pool(), scratch.span());
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * double(rows) * double(in) * double(out);
  state.counters["GFLOP/s"] = benchmark::Counter(
      flops, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  state.counters["threads"] = pool().numThreads();
  state.SetLabel(std::string(dtypeName(act)) + " x " + std::string(dtypeName(weight)) + ", ISA " +
                 isaName(gemmIsa()));
}

void shapes(benchmark::internal::Benchmark* b) {
  const int64_t f32 = int64_t(DType::F32), bf16 = int64_t(DType::BF16), f8 = int64_t(DType::F8E4M3);
  for (int64_t rows : {1, 128})
    for (auto [act, weight] : {std::pair{f32, f32}, std::pair{bf16, bf16}, std::pair{bf16, f8}})
      b->Args({rows, 1024, 4096, act, weight});
  b->Args({8, 1024, 4096, bf16, bf16});
  b->Args({16, 1024, 4096, bf16, bf16});
  b->ArgNames({"rows", "in", "out", "act", "w"});
}

BENCHMARK(BM_Linear)->Apply(shapes)->UseRealTime()->Unit(benchmark::kMicrosecond);

// bf16 MLA-shaped attention (qk 192 = 128 + shared 64 rope key, v 128) over `keys` cached keys
// for `queries` new tokens. Arguments: heads, queries, keys.
void BM_Attention(benchmark::State& state) {
  const int64_t heads = state.range(0), queries = state.range(1), keys = state.range(2);
  auto q = randomData<uint16_t>(size_t(queries * heads * 192), 3);
  auto kv = randomData<uint16_t>(size_t(keys * heads * 256), 4); // [k_nope 128 | v 128] per head
  auto kRope = randomData<uint16_t>(size_t(keys * 64), 5);
  std::vector<uint16_t> out(size_t(queries * heads * 128));
  AttentionArgs a;
  a.type = DType::BF16;
  a.heads = heads;
  a.queryLen = queries;
  a.keyLen = keys;
  a.queryOffset = keys - queries;
  a.qkDim = 192;
  a.keyDim = 128;
  a.vDim = 128;
  a.q = {q.data(), 0, heads * 192, 192};
  a.k = {kv.data(), 0, heads * 256, 256};
  a.kRope = {kRope.data(), 0, 64, 0};
  a.v = {kv.data() + 128, 0, heads * 256, 256};
  a.out = out.data();
  a.outTokenStride = heads * 128;
  a.outHeadStride = 128;
  a.scale = 0.1352f;
  ScratchBuffer scratch(attentionScratchBytes(keys, pool()));
  for (auto _ : state) {
    attention(pool(), a, scratch.span());
    benchmark::ClobberMemory();
  }
  // Causal: query i sees keys - queries + i + 1 keys; 2 * (192 + 128) flops per (query, key).
  double pairs =
      double(queries) * double(keys - queries) + double(queries) * double(queries + 1) / 2;
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * 320.0 * double(heads) * pairs,
                                                 benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}

BENCHMARK(BM_Attention)
    ->Args({16, 1, 1024})
    ->Args({16, 128, 128})
    ->ArgNames({"heads", "queries", "keys"})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

} // namespace

BENCHMARK_MAIN();
