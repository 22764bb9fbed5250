// MoE router against transformers 5.23's routers, dispatch bookkeeping, and the combine in both
// of transformers' accumulation orders.
#include "fathom/cpu/Moe.h"
#include "TestUtil.h"
#include "fathom/runtime/Error.h"

#include <gtest/gtest.h>

namespace fathom::cpu {
namespace {

// Expected routes come from the HF router modules with an identity gate weight (so the router
// logits are the hidden states):
//   cfg = DeepseekV3Config(hidden_size=E, n_routed_experts=E, num_experts_per_tok=K,
//                          n_group=G, topk_group=TG, routed_scaling_factor=s,
//                          norm_topk_prob=True)
//   r = DeepseekV3TopkRouter(cfg); r.weight.copy_(torch.eye(E))
//   r.e_score_correction_bias.copy_(bias); _, w, idx = r(torch.tensor([logits]))
// and likewise DeepseekV2TopkRouter(DeepseekV2Config(..., num_attention_heads=1,
// topk_method=...)). Indices are in torch.topk(sorted=False) order.
struct Route {
  std::vector<int32_t> index;
  std::vector<float> weight;
};

Route route(const RouterConfig& config, const std::vector<float>& logits,
            const std::vector<float>& bias) {
  ThreadPool pool(2);
  Route r{std::vector<int32_t>(size_t(config.topK)), std::vector<float>(size_t(config.topK))};
  moeRoute(pool, config, logits.data(), bias.empty() ? nullptr : bias.data(), 1, r.index.data(),
           r.weight.data());
  return r;
}

RouterConfig v3(int64_t experts, int64_t k, int64_t groups, int64_t keep) {
  return RouterConfig{RouterMethod::SigmoidGroupTop2, experts, k, groups, keep, true, 2.5};
}

void expectWeights(const Route& got, const std::vector<float>& want) {
  ASSERT_EQ(got.weight.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) // sigmoid/softmax exp may differ from torch's by an ulp
    EXPECT_NEAR(got.weight[i], want[i], 4e-7f * std::fabs(want[i])) << "slot " << i;
}

const std::vector<float> kBase = {0.5f, 0.1f, 0.4f, 0.3f, -0.2f, 0.2f, 1.5f, -1.0f};

TEST(MoeRouter, V3WithoutBiasPicksTheBestKeptGroups) {
  // Groups {0,1} {2,3} {4,5} {6,7}: {0,1} and {2,3} have the best top-2 sums, so expert 6
  // (the best single score) is dropped with its group.
  Route r = route(v3(8, 2, 4, 2), kBase, std::vector<float>(8, 0.0f));
  EXPECT_EQ(r.index, (std::vector<int32_t>{0, 2}));
  expectWeights(r, {1.27433324f, 1.22566652f});
}

TEST(MoeRouter, V3CorrectionBiasChangesTheSelectionButNotTheWeights) {
  std::vector<float> bias(8, 0.0f);
  bias[3] = 0.3f;
  Route r = route(v3(8, 2, 4, 2), kBase, bias);
  EXPECT_EQ(r.index, (std::vector<int32_t>{3, 0}));
  expectWeights(r, {1.19985306f, 1.30014706f}); // from the unbiased sigmoid scores
}

TEST(MoeRouter, V3GroupMaskingDropsTheBestSingleExpert) {
  // Expert 1 has the highest score, but its group's top-2 sum loses.
  Route r = route(v3(8, 2, 4, 2), {-3.0f, 1.0f, 0.6f, 0.6f, 0.5f, 0.5f, -3.0f, -3.0f},
                  std::vector<float>(8, 0.0f));
  EXPECT_EQ(r.index, (std::vector<int32_t>{2, 3}));
  expectWeights(r, {1.25f, 1.25f});
}

TEST(MoeRouter, V3TiesFollowTorchTopk) {
  RouterConfig config = v3(8, 3, 4, 2);
  Route r = route(config, std::vector<float>(8, 0.0f), std::vector<float>(8, 0.0f));
  EXPECT_EQ(r.index, (std::vector<int32_t>{6, 5, 4}));
  expectWeights(r, {0.833333373f, 0.833333373f, 0.833333373f});
}

const std::vector<float> kTinyLogits = {-0.076644294f,  0.35988152f,   -0.782016814f, 0.0715277344f,
                                        0.664839387f,   -0.286780298f, 1.62055075f,   -1.59670806f,
                                        -0.0516809635f, -0.305975705f, 0.248501748f,  -0.222560838f,
                                        0.91315192f,    0.204341114f,  0.573984683f,  0.416331291f};

TEST(MoeRouter, V3TinyCheckpointShape) {
  const std::vector<float> bias = {0.0261501167f, 0.0931124464f, -0.0514461994f, -0.165166542f,
                                   0.104602277f,  0.0522187017f, -0.0166809168f, 0.00530334003f,
                                   0.0563763045f, 0.22565572f,   0.186926007f,   -0.119523428f,
                                   0.0997922421f, 0.0459180437f, 0.243639708f,   -0.0146808177f};
  Route r = route(v3(16, 4, 4, 2), kTinyLogits, bias);
  EXPECT_EQ(r.index, (std::vector<int32_t>{6, 14, 12, 4}));
  expectWeights(r, {0.732717276f, 0.561411321f, 0.626323938f, 0.579547405f});
}

TEST(MoeRouter, V2SoftmaxGreedyAndGroupLimited) {
  RouterConfig greedy{RouterMethod::SoftmaxGreedy, 16, 3, 1, 1, false, 1.0};
  Route r = route(greedy, kTinyLogits, {});
  EXPECT_EQ(r.index, (std::vector<int32_t>{12, 6, 4}));
  expectWeights(r, {0.110158242f, 0.223478839f, 0.0859362185f});

  RouterConfig grouped{RouterMethod::SoftmaxGroupMax, 16, 3, 4, 2, false, 16.0};
  r = route(grouped, kTinyLogits, {});
  EXPECT_EQ(r.index, (std::vector<int32_t>{6, 12, 4}));
  expectWeights(r, {3.57566142f, 1.76253188f, 1.3749795f});

  // More experts requested than the kept groups hold: masked experts come back with weight 0.
  RouterConfig narrow{RouterMethod::SoftmaxGroupMax, 8, 4, 4, 1, false, 1.0};
  r = route(narrow, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f}, {});
  EXPECT_EQ(r.index, (std::vector<int32_t>{6, 7, 4, 5}));
  expectWeights(r, {0.15636678f, 0.17281203f, 0.0f, 0.0f});
}

TEST(MoeRouter, RejectsBadConfigs) {
  EXPECT_THROW(route(v3(8, 9, 4, 2), kBase, std::vector<float>(8)), Error);
  EXPECT_THROW(route(v3(8, 2, 3, 2), kBase, std::vector<float>(8)), Error); // 8 % 3
  EXPECT_THROW(route(v3(8, 2, 4, 2), kBase, {}), Error);                    // no bias
}

TEST(MoeDispatch, GroupsPairsByExpertThenToken) {
  // 3 tokens, top-2.
  std::vector<int32_t> index = {2, 0, 0, 3, 2, 1};
  std::vector<int32_t> offsets(5), rowToken(6), slotRow(6);
  moeDispatch(index.data(), 3, 2, 4, offsets.data(), rowToken.data(), slotRow.data());
  EXPECT_EQ(offsets, (std::vector<int32_t>{0, 2, 3, 5, 6}));
  EXPECT_EQ(rowToken, (std::vector<int32_t>{0, 1, 2, 0, 2, 1}));
  EXPECT_EQ(slotRow, (std::vector<int32_t>{3, 0, 1, 5, 4, 2}));
  index[1] = 4;
  EXPECT_THROW(moeDispatch(index.data(), 3, 2, 4, offsets.data(), rowToken.data(), slotRow.data()),
               Error);
}

struct CombineCase {
  int64_t tokens = 5, topK = 3, hidden = 40;
  std::vector<int32_t> index, offsets, rowToken, slotRow;
  std::vector<float> weight, expertOut;

  CombineCase() {
    index = {5, 1, 3, 0, 2, 7, 6, 4, 1, 2, 3, 4, 7, 0, 5};
    offsets.resize(9);
    rowToken.resize(size_t(tokens * topK));
    slotRow.resize(size_t(tokens * topK));
    moeDispatch(index.data(), tokens, topK, 8, offsets.data(), rowToken.data(), slotRow.data());
    weight = test::randomFloats(size_t(tokens * topK), 1);
    expertOut = test::randomFloats(size_t(tokens * topK * hidden), 2, 2.0f);
  }
};

TEST(MoeCombine, EagerLoopRoundsEachProductAndEachAddInExpertOrder) {
  ThreadPool pool(2);
  CombineCase c;
  auto y = test::toBf16(c.expertOut);
  std::vector<uint16_t> out(size_t(c.tokens * c.hidden));
  moeCombine(pool, MoeCombineOrder::EagerExpertLoop, DType::BF16, y.data(), c.hidden,
             c.slotRow.data(), c.index.data(), c.weight.data(), c.tokens, c.topK, c.hidden,
             out.data(), c.hidden);
  for (int64_t t = 0; t < c.tokens; ++t)
    for (int64_t h = 0; h < c.hidden; ++h) {
      float acc = 0.0f; // torch.zeros_like(hidden_states), bf16
      for (int32_t expert = 0; expert < 8; ++expert)
        for (int64_t k = 0; k < c.topK; ++k)
          if (c.index[size_t(t * c.topK + k)] == expert) {
            int64_t row = c.slotRow[size_t(t * c.topK + k)];
            float weighted = roundToBf16(bf16ToFloat(y[size_t(row * c.hidden + h)]) *
                                         c.weight[size_t(t * c.topK + k)]);
            acc = roundToBf16(acc + weighted);
          }
      ASSERT_EQ(out[size_t(t * c.hidden + h)], floatToBf16(acc)) << t << "," << h;
    }
}

TEST(MoeCombine, GroupedMmSumsSlotsInFp32AndRoundsOnce) {
  ThreadPool pool(2);
  CombineCase c;
  auto y = test::toBf16(c.expertOut);
  std::vector<uint16_t> out(size_t(c.tokens * c.hidden));
  moeCombine(pool, MoeCombineOrder::GroupedMm, DType::BF16, y.data(), c.hidden, c.slotRow.data(),
             c.index.data(), c.weight.data(), c.tokens, c.topK, c.hidden, out.data(), c.hidden);
  for (int64_t t = 0; t < c.tokens; ++t)
    for (int64_t h = 0; h < c.hidden; ++h) {
      float acc = 0.0f;
      for (int64_t k = 0; k < c.topK; ++k) {
        int64_t row = c.slotRow[size_t(t * c.topK + k)];
        acc += bf16ToFloat(y[size_t(row * c.hidden + h)]) * c.weight[size_t(t * c.topK + k)];
      }
      ASSERT_EQ(out[size_t(t * c.hidden + h)], floatToBf16(acc)) << t << "," << h;
    }
}

TEST(MoeCombine, Fp32AccumulatesInExpertOrder) {
  ThreadPool pool(2);
  CombineCase c;
  std::vector<float> out(size_t(c.tokens * c.hidden));
  moeCombine(pool, MoeCombineOrder::EagerExpertLoop, DType::F32, c.expertOut.data(), c.hidden,
             c.slotRow.data(), c.index.data(), c.weight.data(), c.tokens, c.topK, c.hidden,
             out.data(), c.hidden);
  for (int64_t t = 0; t < c.tokens; ++t)
    for (int64_t h = 0; h < c.hidden; ++h) {
      float acc = 0.0f;
      for (int32_t expert = 0; expert < 8; ++expert)
        for (int64_t k = 0; k < c.topK; ++k)
          if (c.index[size_t(t * c.topK + k)] == expert)
            acc += c.expertOut[size_t(c.slotRow[size_t(t * c.topK + k)] * c.hidden + h)] *
                   c.weight[size_t(t * c.topK + k)];
      ASSERT_EQ(out[size_t(t * c.hidden + h)], acc);
    }
}

} // namespace
} // namespace fathom::cpu
