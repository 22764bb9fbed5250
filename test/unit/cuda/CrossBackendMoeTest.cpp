// The mixture-of-experts kernels on CUDA against the CPU's (label gpu): the three routers, the
// dispatch (also for an expert shard), row gathers, the grouped GEMM (gated or not; bf16, f32
// and FP8 stacks), the per-expert linear and the combine in both orders.
#include "CrossBackendFixture.h"

#include <algorithm>
#include <cstring>

namespace fathom::testing {
namespace {

HarnessBuffer i32Buffer(const std::vector<int32_t>& values, int64_t rows) {
  HarnessBuffer buffer;
  buffer.type = DType::I32;
  buffer.rowsPerBatch = rows;
  buffer.rowStride = int64_t(values.size()) / rows;
  buffer.host.resize(values.size() * 4);
  std::memcpy(buffer.host.data(), values.data(), buffer.host.size());
  return buffer;
}

HarnessWeight i64Weight(const std::string& name, int64_t value) {
  HarnessWeight weight{name, DType::I64, {1}, std::vector<std::byte>(8), {}, 0, 0};
  std::memcpy(weight.data.data(), &value, 8);
  return weight;
}

// Each token's `topK` distinct experts of `experts`, drawn at random.
std::vector<int32_t> randomRouting(std::mt19937& rng, int64_t tokens, int64_t topK,
                                   int64_t experts) {
  std::vector<int32_t> ids;
  for (int64_t t = 0; t < tokens; ++t) {
    std::vector<int32_t> all(static_cast<size_t>(experts));
    for (int64_t e = 0; e < experts; ++e)
      all[size_t(e)] = int32_t(e);
    std::shuffle(all.begin(), all.end(), rng);
    ids.insert(ids.end(), all.begin(), all.begin() + topK);
  }
  return ids;
}

struct RouterShape {
  fb::RouterMethod method;
  int64_t experts, topK, groups, topkGroup;
  bool norm;
};

// The CPU keeps torch's unsorted slot order and CUDA sorts by score: the chosen experts and
// their weights must agree as sets, per token.
TEST_F(CrossBackend, RoutersChooseTheSameExpertsWithTheSameWeights) {
  const RouterShape shapes[] = {{fb::RouterMethod::SigmoidGroupTop2, 64, 6, 8, 4, true},
                                {fb::RouterMethod::SoftmaxGreedy, 16, 4, 1, 1, false},
                                {fb::RouterMethod::SoftmaxGroupMax, 16, 3, 4, 2, false}};
  for (const RouterShape& s : shapes) {
    const int64_t tokens = 9;
    HarnessCase kase{std::string("moe_route ") + fb::EnumNameRouterMethod(s.method)};
    kase.buffers.push_back(randomBuffer(rng_, DType::F32, 1, tokens, s.experts, 2.0f));
    kase.buffers.push_back(randomBuffer(rng_, DType::F32, 1, tokens, s.topK));
    kase.buffers.push_back(i32Buffer(std::vector<int32_t>(size_t(tokens * s.topK)), tokens));
    kase.weights.push_back(randomWeight(rng_, "bias", DType::F32, {s.experts}, 0.1f));
    fb::MoeRouteCallT call;
    call.logits = view(0, uint64_t(s.experts), uint32_t(s.experts));
    call.weights = view(1, uint64_t(s.topK), uint32_t(s.topK));
    call.indices = view(2, uint64_t(s.topK), uint32_t(s.topK));
    call.score_bias = s.method == fb::RouterMethod::SigmoidGroupTop2 ? 0 : -1;
    call.method = s.method;
    call.top_k = int32_t(s.topK);
    call.num_groups = int32_t(s.groups);
    call.topk_group = int32_t(s.topkGroup);
    call.norm_topk_prob = s.norm;
    call.routed_scaling_factor = 2.5f;
    kase.call.params.Set(std::move(call));
    SCOPED_TRACE(kase.label);
    const auto cpu = runCase(*cpu_, kase), gpu = runCase(*cuda_, kase);
    for (int64_t t = 0; t < tokens; ++t) {
      auto choices = [&](const std::vector<std::vector<std::byte>>& out) {
        std::vector<std::pair<int64_t, double>> pairs;
        for (int64_t k = 0; k < s.topK; ++k)
          pairs.emplace_back(int64_t(elementAt(out[2], DType::I32, size_t(t * s.topK + k))),
                             elementAt(out[1], DType::F32, size_t(t * s.topK + k)));
        std::sort(pairs.begin(), pairs.end());
        return pairs;
      };
      const auto want = choices(cpu), got = choices(gpu);
      for (int64_t k = 0; k < s.topK; ++k) {
        EXPECT_EQ(want[size_t(k)].first, got[size_t(k)].first) << "token " << t;
        EXPECT_NEAR(want[size_t(k)].second, got[size_t(k)].second,
                    1e-6 * std::fabs(want[size_t(k)].second) + 1e-7)
            << "token " << t;
      }
    }
  }
}

TEST_F(CrossBackend, DispatchGroupsPairsByExpertAlsoForAShard) {
  for (bool shard : {false, true}) {
    const int64_t tokens = 5, topK = 2, experts = 8;
    HarnessCase kase{shard ? "moe_dispatch shard" : "moe_dispatch"};
    kase.buffers.push_back(
        i32Buffer(randomRouting(rng_, tokens, topK, shard ? 16 : experts), tokens));
    kase.buffers.push_back(i32Buffer(std::vector<int32_t>(experts + 1, 7), 1));
    kase.buffers.push_back(i32Buffer(std::vector<int32_t>(tokens * topK, 7), tokens * topK));
    kase.buffers.push_back(i32Buffer(std::vector<int32_t>(tokens * topK, 7), tokens * topK));
    kase.weights.push_back(i64Weight("expert_start", 8));
    fb::MoeDispatchCallT call;
    call.indices = view(0, topK, topK);
    call.offsets = view(1, experts + 1, experts + 1);
    call.row_token = view(2, 1, 1);
    call.slot_row = view(3, 1, 1);
    call.num_experts = int32_t(experts);
    call.top_k = int32_t(topK);
    call.expert_start = shard ? 0 : -1;
    kase.call.params.Set(std::move(call));
    expectSame(kase, kExact);
  }
}

TEST_F(CrossBackend, GatherRowsCopiesIndexedRows) {
  HarnessCase kase{"gather_rows"};
  kase.buffers.push_back(randomBuffer(rng_, DType::BF16, 1, 6, 40));
  kase.buffers.push_back(i32Buffer({5, 0, 0, 3, 2, 1, 4, 5}, 8));
  kase.buffers.push_back(randomBuffer(rng_, DType::BF16, 1, 8, 40));
  fb::GatherRowsCallT call;
  call.x = view(0, 40, 40);
  call.rows = view(1, 1, 1);
  call.out = view(2, 40, 40);
  kase.call.params.Set(std::move(call));
  expectSame(kase, kExact);
}

// A stack [experts, (2,) out, in] of random (or FP8-quantized) matrices.
HarnessWeight stackedWeight(std::mt19937& rng, DType type, int64_t experts, bool gated, int64_t out,
                            int64_t in) {
  const int64_t matrices = experts * (gated ? 2 : 1);
  std::vector<int64_t> shape = {experts};
  if (gated)
    shape.push_back(2);
  shape.insert(shape.end(), {out, in});
  if (type != DType::F8E4M3)
    return randomWeight(rng, "stack", type, shape, 0.1f);
  HarnessWeight stack{"stack", DType::F8E4M3, shape, {}, {}, 128, 128};
  for (int64_t m = 0; m < matrices; ++m) {
    HarnessWeight one = randomFp8Weight(rng, "m", out, in);
    stack.data.insert(stack.data.end(), one.data.begin(), one.data.end());
    stack.scales.insert(stack.scales.end(), one.scales.begin(), one.scales.end());
  }
  return stack;
}

TEST_F(CrossBackend, GroupedGemmGatedAndNotOverEveryWeightType) {
  const std::vector<int32_t> offsets = {0, 3, 3, 7, 9}; // 4 experts over 9 of 10 rows
  for (DType type : {DType::F32, DType::BF16})
    for (DType weightType : {type, DType::F8E4M3})
      for (bool gated : {false, true}) {
        const int64_t in = 160, out = 48;
        HarnessCase kase{std::string(gated ? "grouped_gate_up " : "grouped_linear ") +
                         std::string(dtypeName(type)) + " x " + std::string(dtypeName(weightType))};
        kase.buffers.push_back(randomBuffer(rng_, type, 1, 10, in));
        kase.buffers.push_back(i32Buffer(offsets, 1));
        kase.buffers.push_back(randomBuffer(rng_, type, 1, 10, out));
        kase.weights.push_back(stackedWeight(rng_, weightType, 4, gated, out, in));
        fb::GroupedLinearCallT call;
        call.x = view(0, in, in);
        call.offsets = view(1, 5, 5);
        call.out = view(2, out, out);
        call.weight = 0;
        call.gated = gated;
        kase.call.params.Set(std::move(call));
        expectSame(kase, type == DType::F32 ? Tolerance{1e-5, 1e-5} : kBf16Ulp);
      }
}

TEST_F(CrossBackend, PerExpertLinearReadsTheRangesBack) {
  HarnessCase kase{"expert_linear"};
  kase.buffers.push_back(randomBuffer(rng_, DType::BF16, 1, 7, 64));
  kase.buffers.push_back(i32Buffer({0, 2, 2, 6}, 1));
  kase.buffers.push_back(randomBuffer(rng_, DType::BF16, 1, 7, 32));
  fb::ExpertLinearCallT call;
  for (int e = 0; e < 3; ++e) {
    kase.weights.push_back(
        randomWeight(rng_, "expert" + std::to_string(e), DType::BF16, {32, 64}, 0.1f));
    call.weights.push_back(e);
  }
  call.x = view(0, 64, 64);
  call.offsets = view(1, 4, 4);
  call.out = view(2, 32, 32);
  kase.call.params.Set(std::move(call));
  expectSame(kase, kBf16Ulp);
}

TEST_F(CrossBackend, CombineInBothOrders) {
  for (DType type : {DType::F32, DType::BF16})
    for (fb::CombineOrder order :
         {fb::CombineOrder::EagerExpertLoop, fb::CombineOrder::GroupedMm}) {
      const int64_t tokens = 4, topK = 3, hidden = 96;
      HarnessCase kase{std::string("moe_combine ") + fb::EnumNameCombineOrder(order) + " " +
                       std::string(dtypeName(type))};
      kase.buffers.push_back(randomBuffer(rng_, type, 1, tokens * topK, hidden));
      std::vector<int32_t> slots(size_t(tokens * topK));
      for (size_t i = 0; i < slots.size(); ++i)
        slots[i] = i % 5 == 4 ? -1 : int32_t((i * 7) % slots.size()); // some on another rank
      kase.buffers.push_back(i32Buffer(slots, tokens * topK));
      kase.buffers.push_back(i32Buffer(randomRouting(rng_, tokens, topK, 16), tokens));
      kase.buffers.push_back(randomBuffer(rng_, DType::F32, 1, tokens, topK, 0.5f));
      kase.buffers.push_back(randomBuffer(rng_, type, 1, tokens, hidden));
      fb::MoeCombineCallT call;
      call.expert_out = view(0, hidden, hidden);
      call.slot_row = view(1, 1, 1);
      call.indices = view(2, topK, topK);
      call.weights = view(3, topK, topK);
      call.out = view(4, hidden, hidden);
      call.top_k = int32_t(topK);
      call.order = order;
      kase.call.params.Set(std::move(call));
      expectSame(kase, type == DType::F32 ? Tolerance{1e-6, 1e-7} : kExact);
    }
}

} // namespace
} // namespace fathom::testing
