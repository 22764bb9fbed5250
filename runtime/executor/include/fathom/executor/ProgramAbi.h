#pragma once
// The contract between the compiler's lowering (compiler/lowering) and the executor: which
// kernel names an artifact's KernelCall may carry and what its operand and attribute slots mean.
// Operands index MemoryPlan.buffers; the negative ones are the entry point's inputs. Weight
// slots index Artifact.tensors, -1 where an optional weight is absent. Adding a slot at the end
// keeps old artifacts readable; any other change needs a new artifact format version.
#include <cstdint>

namespace fathom::executor::abi {

// Entry-point inputs that are not planned buffers.
inline constexpr int32_t kTokenIds = -1; // [batch, tokens] int64, left-padded

namespace kernel {
// inputs {ids}, outputs {hidden}, weights {table}
inline constexpr const char* kEmbedding = "embedding";
// inputs {x}, outputs {y}, weights {weight}, floats {eps}
inline constexpr const char* kRmsNorm = "rms_norm";
// inputs {x}, outputs {y}, weights {weight, bias or -1}
inline constexpr const char* kLinear = "linear";
// inputs {gate, up}, outputs {y}
inline constexpr const char* kSiluMul = "silu_mul";
// inputs {a, b}, outputs {y}
inline constexpr const char* kAdd = "add";
// inputs {x}, outputs {logits}: only the rows the caller asks for (last position per sequence)
inline constexpr const char* kLmHead = "lm_head";
// inputs {x}, outputs {y}; weights MlaWeight; ints MlaInt; floats MlaFloat
inline constexpr const char* kMlaAttention = "mla_attention";
// inputs {x}, outputs {weights f32 [tokens, topK], indices i32 [tokens, topK]};
// weights {gate, correction bias or -1}; ints RouterInt; floats {routed_scaling_factor}
inline constexpr const char* kMoeRouter = "moe_router";
// inputs {x, weights, indices}, outputs {y}; weights {gate_0, up_0, down_0, gate_1, ...}
inline constexpr const char* kExpertFfn = "expert_ffn";
} // namespace kernel

enum MlaWeight : int {
  kQProj,
  kQAProj,
  kQALayernorm,
  kQBProj,
  kKvAProj,
  kKvALayernorm,
  kKvBProj,
  kOProj,
  kQAProjBias,
  kKvAProjBias,
  kOProjBias,
  kMlaWeightCount
};

enum RopeLayoutCode : int64_t { kRopeHalfSplit = 0, kRopeInterleaved = 1, kRopeComplexPairs = 2 };

enum MlaInt : int {
  kLayer,
  kNumHeads,
  kQkNopeHeadDim,
  kQkRopeHeadDim,
  kVHeadDim,
  kKvLoraRank,
  kQLoraRank, // 0 without a q LoRA
  kRopeLayout,
  kRopeYarn, // 0 default, 1 YaRN
  kRopeOriginalMaxPositions,
  kCacheSlot, // index of this layer's KV cache among the program's attention layers
  kMlaIntCount
};

enum MlaFloat : int {
  kSoftmaxScale,
  kLoraNormEps,
  kRopeTheta,
  kRopeFactor,
  kRopeBetaFast,
  kRopeBetaSlow,
  kRopeAttentionFactor,
  kMlaFloatCount
};

enum RouterMethodCode : int64_t { kSigmoidGroupTop2 = 0, kSoftmaxGreedy = 1, kSoftmaxGroupMax = 2 };

enum RouterInt : int {
  kMethod,
  kNumExperts,
  kTopK,
  kNumGroups,
  kTopkGroup,
  kNormTopkProb,
  kRouterIntCount
};

} // namespace fathom::executor::abi
