#pragma once
// DeepSeek mixture-of-experts glue around the expert GEMMs: the router (HF
// DeepseekV3TopkRouter / DeepseekV2TopkRouter), grouping (token, slot) pairs by expert, and the
// weighted combine of expert outputs in HF's rounding order.
//
// Executor flow for one MoE layer over T tokens:
//   logits = linear(x as BF16/F32, gate weight, y F32)           router logits in fp32
//   moeRoute -> expertIndex, expertWeight [T, topK]
//   moeDispatch -> per-expert row ranges; gatherRows(x, rowToken) -> grouped inputs
//   per expert e: rows [offsets[e], offsets[e+1]) through gate_up, siluMul, down
//   moeCombine(grouped outputs) -> routed sum; add(routed, shared expert output)
#include "fathom/cpu/ThreadPool.h"
#include "fathom/runtime/DType.h"

#include <cmath>
#include <cstdint>

namespace fathom::cpu {

enum class RouterMethod {
  // V3 (noaux_tc): sigmoid scores; selection on scores + e_score_correction_bias; groups ranked
  // by the sum of their top-2 biased scores; top topkGroup groups kept; weights are the
  // unbiased scores, renormalized (norm_topk_prob, + 1e-20) and times routedScalingFactor.
  SigmoidGroupTop2,
  // V2 greedy: softmax scores, plain top-k, weights = scores * routedScalingFactor.
  SoftmaxGreedy,
  // V2 group_limited_greedy: softmax; groups ranked by their max score; others masked to 0.
  SoftmaxGroupMax,
};

struct RouterConfig {
  RouterMethod method = RouterMethod::SigmoidGroupTop2;
  int64_t numExperts = 0;
  int64_t topK = 0;
  int64_t numGroups = 1;    // n_group
  int64_t topkGroup = 1;    // topk_group
  bool normTopkProb = true; // HF V2 never renormalizes: pass false for the softmax methods
  double routedScalingFactor = 1.0;
  // What SigmoidGroupTop2 writes over experts of dropped groups before the final top-k:
  // transformers 5.x uses -inf; 4.5x used 0.0 (model-spec A6 describes the latter).
  float droppedGroupScore = -INFINITY;
};

// Routes `tokens` rows of fp32 logits [tokens, numExperts]. correctionBias (fp32 [numExperts])
// is required for SigmoidGroupTop2 and ignored otherwise. Writes [tokens, topK] expert ids and
// fp32 weights, slot order as torch.topk(sorted=False) returns them (ties included; see
// TopK.h). Sigmoid and softmax are fp32 (their exp may differ from torch's by an ulp).
void moeRoute(ThreadPool& pool, const RouterConfig& config, const float* logits,
              const float* correctionBias, int64_t tokens, int32_t* expertIndex,
              float* expertWeight);

// Groups the tokens * topK (token, slot) pairs by expert, ascending, tokens ascending within an
// expert. expertOffsets [numExperts + 1]: expert e owns grouped rows [offsets[e], offsets[e+1]);
// rowToken [tokens * topK]: the token of each grouped row; slotRow [tokens * topK]: the grouped
// row of (token t, slot k) at t * topK + k. Throws if an expert id is out of range.
// An expert shard (firstExpert >= 0) holds experts [firstExpert, firstExpert + numExperts) of
// `totalExperts`: pairs routed elsewhere get slotRow -1, and the grouped rows past
// offsets[numExperts] get token 0.
void moeDispatch(const int32_t* expertIndex, int64_t tokens, int64_t topK, int64_t numExperts,
                 int32_t* expertOffsets, int32_t* rowToken, int32_t* slotRow,
                 int64_t firstExpert = -1, int64_t totalExperts = -1);

enum class MoeCombineOrder {
  // transformers' eager experts loop (experts_implementation="eager", what the reference uses):
  // for each expert in ascending id, out[t] = T(out[t] + T(y * w)) — the weighted output is
  // rounded to the activation dtype, then index_add'ed into a zero-initialized T accumulator.
  EagerExpertLoop,
  // transformers' default grouped_mm / batched_mm: y * w in fp32 for each slot, summed over the
  // slots in topk order in fp32, rounded once.
  GroupedMm,
};

// out[t] = sum over slots k of expertWeight[t, k] * expertOut[slotRow[t * topK + k]], in the
// given order and rounding. expertOut: grouped rows [tokens * topK, hidden], same dtype as out.
void moeCombine(ThreadPool& pool, MoeCombineOrder order, DType type, const void* expertOut,
                int64_t ldExpertOut, const int32_t* slotRow, const int32_t* expertIndex,
                const float* expertWeight, int64_t tokens, int64_t topK, int64_t hidden, void* out,
                int64_t ldOut);

} // namespace fathom::cpu
