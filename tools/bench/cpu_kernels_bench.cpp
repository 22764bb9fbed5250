// Throughput of the CPU backend's GEMM (and attention) at DeepSeek-like decode and prefill shapes.
//   build-cpu/bin/cpu_kernels_bench [--benchmark_filter=...]
// Reports GFLOP/s (GEMM: 2 * rows * in * out per call), and the machine's DRAM read bandwidth
// (BM_ReadBandwidth: the pool's threads sum a 1 GiB buffer), the ceiling decode runs against.
// Environment: FATHOM_BENCH_THREADS sets the
// pool size (default: all hardware threads); FATHOM_BENCH_ISA=avx2|baseline pins the tiled GEMM.
#include "fathom/cpu/Attention.h"
#include "fathom/cpu/Isa.h"
#include "fathom/cpu/Linear.h"
#include "fathom/runtime/BlockQuant.h"
#include "fathom/runtime/Numeric.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
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
      v = uint8_t(rng() & 0xff); // INT4 codes, two per byte (FP8 comes from quantizedFp8)
  }
  return data;
}

// Gaussian weights quantized as DeepSeek does (per 128 x 128 block scale = amax / 448): the
// codes a real FP8 checkpoint holds, whose rare zero and subnormal codes take the FP8 decode's
// slow path (uniformly random codes would take it in nearly every group).
void quantizedFp8(const std::vector<float>& w, int64_t out, int64_t in, std::vector<uint8_t>& codes,
                  std::vector<float>& scales) {
  const int64_t scaleCols = (in + 127) / 128;
  codes.resize(w.size());
  scales.assign(size_t(((out + 127) / 128) * scaleCols), 0.0f);
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < in; ++i) {
      float& amax = scales[size_t(o / 128 * scaleCols + i / 128)];
      amax = std::max(amax, std::fabs(w[size_t(o * in + i)]));
    }
  for (float& s : scales)
    s = s > 0 ? s / 448.0f : 1.0f;
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < in; ++i)
      codes[size_t(o * in + i)] =
          floatToF8e4m3(w[size_t(o * in + i)] / scales[size_t(o / 128 * scaleCols + i / 128)]);
}

// Arguments: rows, in, out, activation dtype, weight dtype.
void BM_Linear(benchmark::State& state) {
  const int64_t rows = state.range(0), in = state.range(1), out = state.range(2);
  const DType act = DType(state.range(3)), weight = DType(state.range(4));
  auto xF32 = randomData<float>(size_t(rows * in), 1);
  auto xBf16 = randomData<uint16_t>(size_t(rows * in), 1);
  auto wF32 = randomData<float>(size_t(out * in), 2);
  auto wBf16 = randomData<uint16_t>(size_t(out * in), 2);
  std::vector<uint8_t> wF8;
  std::vector<float> scales;
  if (weight == DType::F8E4M3)
    quantizedFp8(wF32, out, in, wF8, scales);
  // INT4: codes two per byte, one scale and zero point per row and 128 inputs.
  auto wU4 = randomData<uint8_t>(size_t(out * u4RowBytes(in)), 2);
  std::vector<float> groupScales(size_t(out * ((in + 127) / 128)), 0.01f);
  std::vector<uint8_t> zeros(size_t(out * u4RowBytes((in + 127) / 128)), 0x88);
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
           : weight == DType::U4   ? static_cast<const void*>(wU4.data())
                                   : static_cast<const void*>(wF8.data());
  args.wScales = weight == DType::U4 ? BlockScales{groupScales.data(), 1, 128, zeros.data()}
                                     : BlockScales{scales.data(), 128, 128};
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
  const int64_t u4 = int64_t(DType::U4);
  for (int64_t rows : {1, 128})
    for (auto [act, weight] :
         {std::pair{f32, f32}, std::pair{bf16, bf16}, std::pair{bf16, f8}, std::pair{bf16, u4}})
      b->Args({rows, 1024, 4096, act, weight});
  // Decode against weights far larger than the caches (the LM head of a 32K vocabulary).
  for (int64_t weight : {bf16, f8, u4})
    b->Args({1, 1024, 32768, bf16, weight});
  // One routed expert's gate at decode (1024 -> 512): half of it per thread stays in L2, so this
  // times the kernel's instructions rather than the memory.
  for (int64_t weight : {bf16, f8, u4})
    b->Args({1, 1024, 512, bf16, weight});
  // One head of MLA's absorbed per-head matmuls (q_nope into the latent, the latent out to v).
  b->Args({1, 64, 256, bf16, bf16});
  b->Args({1, 256, 64, bf16, bf16});
  b->Args({4, 1024, 4096, bf16, bf16});
  b->Args({8, 1024, 4096, bf16, bf16});
  b->Args({16, 1024, 4096, bf16, bf16});
  b->ArgNames({"rows", "in", "out", "act", "w"});
}

BENCHMARK(BM_Linear)->Apply(shapes)->UseRealTime()->Unit(benchmark::kMicrosecond);

// MLA-shaped bf16 attention over `keys` cached keys for `queries` new tokens. Arguments: heads,
// queries, keys, form:
//   form 0, per-head (naive MLA, HF's shape): qk 192 = 128 k_nope + a shared 64 rope key, v 128;
//   form 1, latent (absorbed decode): one shared key of 576 = 512 latent + 64 rope, whose first
//           512 are also the value; fp32 queries and output (multi-query attention).
void BM_Attention(benchmark::State& state) {
  const int64_t heads = state.range(0), queries = state.range(1), keys = state.range(2);
  const bool latent = state.range(3) == 1;
  const int64_t keyDim = latent ? 512 : 128, ropeDim = 64, vDim = keyDim;
  const int64_t qkDim = keyDim + ropeDim;
  const int64_t kvRow = latent ? keyDim : heads * 2 * keyDim; // per-head: [k_nope | v] per head
  auto qF32 = randomData<float>(size_t(queries * heads * qkDim), 3);
  auto qBf16 = randomData<uint16_t>(size_t(queries * heads * qkDim), 3);
  auto kv = randomData<uint16_t>(size_t(keys * kvRow), 4);
  auto kRope = randomData<uint16_t>(size_t(keys * ropeDim), 5);
  std::vector<float> out(size_t(queries * heads * vDim)); // fp32: large enough for bf16 too
  AttentionArgs a;
  a.type = DType::BF16;
  a.heads = heads;
  a.queryLen = queries;
  a.keyLen = keys;
  a.queryOffset = keys - queries;
  a.qkDim = qkDim;
  a.keyDim = keyDim;
  a.vDim = vDim;
  if (latent) {
    a.qType = a.outType = DType::F32;
    a.q = {qF32.data(), 0, heads * qkDim, qkDim};
    a.k = {kv.data(), 0, kvRow, 0};
    a.v = {kv.data(), 0, kvRow, 0};
    a.kHeads = a.vHeads = 1;
  } else {
    a.q = {qBf16.data(), 0, heads * qkDim, qkDim};
    a.k = {kv.data(), 0, kvRow, 2 * keyDim};
    a.v = {kv.data() + keyDim, 0, kvRow, 2 * keyDim};
  }
  a.kRope = {kRope.data(), 0, ropeDim, 0};
  a.kRopeHeads = 1;
  a.out = out.data();
  a.outTokenStride = heads * vDim;
  a.outHeadStride = vDim;
  a.scale = 0.1352f;
  ScratchBuffer scratch(attentionScratchBytes(keys, pool()));
  for (auto _ : state) {
    attention(pool(), a, scratch.span());
    benchmark::ClobberMemory();
  }
  // Causal: query i sees keys - queries + i + 1 keys; 2 * (qk + v) flops per (query, key).
  double pairs =
      double(queries) * double(keys - queries) + double(queries) * double(queries + 1) / 2;
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(qkDim + vDim) * double(heads) * pairs,
                                                 benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
  state.SetLabel(latent ? "latent (absorbed)" : "per-head");
}

BENCHMARK(BM_Attention)
    ->Args({16, 1, 1024, 0})
    ->Args({16, 1, 4096, 0})
    ->Args({16, 1, 4096, 1})
    ->Args({128, 1, 4096, 1})
    ->Args({16, 128, 128, 0})
    ->ArgNames({"heads", "queries", "keys", "form"})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Every thread of the pool sums its share of a buffer far larger than the caches: the bandwidth
// that bounds a decode step, which streams every active weight once.
void BM_ReadBandwidth(benchmark::State& state) {
  const size_t bytes = size_t(state.range(0)) << 20;
  std::vector<float> buffer(bytes / sizeof(float), 1.0f);
  const int64_t chunks = 1024, perChunk = int64_t(buffer.size()) / chunks;
  std::vector<float> partial(static_cast<size_t>(chunks));
  for (auto _ : state) {
    pool().parallelFor(0, chunks, 1, [&](int64_t begin, int64_t end) {
      for (int64_t chunk = begin; chunk < end; ++chunk) {
        const float* p = buffer.data() + chunk * perChunk;
        float lanes[16] = {};
        for (int64_t i = 0; i < perChunk; i += 16)
          for (int lane = 0; lane < 16; ++lane)
            lanes[lane] += p[i + lane];
        float sum = 0;
        for (float lane : lanes)
          sum += lane;
        partial[size_t(chunk)] = sum;
      }
    });
    benchmark::DoNotOptimize(partial.data());
    benchmark::ClobberMemory();
  }
  state.counters["GB/s"] = benchmark::Counter(
      double(bytes), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  state.counters["threads"] = pool().numThreads();
}

BENCHMARK(BM_ReadBandwidth)
    ->Arg(1024)
    ->ArgName("MiB")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Decode as a model runs it: one-row GEMVs of a bf16 model, each over its own weights, one after
// another through 256 MiB of them (so every call reads DRAM, not the cache the repeated
// BM_Linear calls hit); the matrices are copies of one. GB/s next to BM_ReadBandwidth shows
// what a call of this size loses to its start, its end and the hand-off between calls.
// Arguments: in, out, weight dtype (bf16, or FP8 quantized from Gaussian weights).
void BM_ColdGemvSequence(benchmark::State& state) {
  const int64_t in = state.range(0), out = state.range(1);
  const DType weight = DType(state.range(2));
  std::vector<uint8_t> one; // one matrix's bytes
  std::vector<float> scales;
  if (weight == DType::F8E4M3) {
    quantizedFp8(randomData<float>(size_t(in * out), 3), out, in, one, scales);
  } else {
    const std::vector<uint16_t> w = randomData<uint16_t>(size_t(in * out), 3);
    one.resize(w.size() * 2);
    std::memcpy(one.data(), w.data(), one.size());
  }
  const int64_t matrixBytes = int64_t(one.size());
  const int64_t count = std::max<int64_t>(2, (int64_t(256) << 20) / matrixBytes);
  std::vector<uint8_t> weights(size_t(count * matrixBytes));
  for (int64_t m = 0; m < count; ++m)
    std::memcpy(weights.data() + m * matrixBytes, one.data(), one.size());
  auto x = randomData<uint16_t>(size_t(in), 1);
  std::vector<uint16_t> y(static_cast<size_t>(out));
  LinearArgs args;
  args.rows = 1;
  args.inFeatures = in;
  args.outFeatures = out;
  args.xType = args.yType = DType::BF16;
  args.wType = weight;
  args.wScales = BlockScales{scales.data(), 128, 128};
  args.x = x.data();
  args.y = y.data();
  ScratchBuffer scratch(linearScratchBytes(args, pool()));
  for (auto _ : state)
    for (int64_t m = 0; m < count; ++m) {
      args.w = weights.data() + m * matrixBytes;
      linear(args, pool(), scratch.span());
      benchmark::ClobberMemory();
    }
  state.counters["GB/s"] =
      benchmark::Counter(double(count * matrixBytes), benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
  state.counters["us/call"] =
      benchmark::Counter(double(count) * 1e-6, benchmark::Counter::kIsIterationInvariantRate |
                                                   benchmark::Counter::kInvert);
  state.counters["threads"] = pool().numThreads();
  state.SetLabel(std::string(dtypeName(weight)) + ", ISA " + isaName(gemmIsa()));
}

// The 460M benchmark model's decode shapes: q_a (1024 -> 384), an expert's gate or up (1024 ->
// 512), o_proj (1024 -> 1024), the dense MLP's gate or up (1024 -> 2816), the LM head (bf16
// in every artifact).
void coldShapes(benchmark::internal::Benchmark* b) {
  for (int64_t weight : {int64_t(DType::BF16), int64_t(DType::F8E4M3)})
    for (int64_t out : {384, 512, 1024, 2816})
      b->Args({1024, out, weight});
  b->Args({1024, 32000, int64_t(DType::BF16)});
}
BENCHMARK(BM_ColdGemvSequence)
    ->Apply(coldShapes)
    ->ArgNames({"in", "out", "w"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
