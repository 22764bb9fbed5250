// DeepSeek MoE: the fp32 router (HF DeepseekV3TopkRouter / DeepseekV2TopkRouter) and the
// routed experts in transformers' eager order (experts ascending, each weighted output rounded
// to the activation dtype and added into a zeroed accumulator).
#include "ExecutionContext.h"

#include "fathom/cpu/Elementwise.h"
#include "fathom/cpu/Moe.h"
#include "fathom/executor/ProgramAbi.h"

namespace fathom::executor {
namespace abi = executor::abi;

size_t moeRouterWorkspaceBytes(const ExecutionContext&, const ProgramCall& call, int64_t rows) {
  return size_t(rows) * size_t(call.ints[abi::kNumExperts]) * 4 + 64;
}

void runMoeRouter(ExecutionContext& context, const ProgramCall& call) {
  const int64_t rows = context.step.rows();
  const int64_t experts = call.ints[abi::kNumExperts];
  BoundBuffer& in = context.buffer(call.inputs[0]);
  BoundBuffer& weightsOut = context.buffer(call.outputs[0]);
  BoundBuffer& indicesOut = context.buffer(call.outputs[1]);
  float* logits = context.workspace.take<float>(rows * experts);
  // HF: F.linear(x.float(), weight.float()): exact widening, fp32 GEMM.
  runLinear(context, context.weight(call.weights[0]), nullptr, rows, context.act, in.data,
            in.rowElements, DType::F32, logits, experts);

  cpu::RouterConfig config;
  switch (call.ints[abi::kMethod]) {
  case abi::kSigmoidGroupTop2:
    config.method = cpu::RouterMethod::SigmoidGroupTop2;
    break;
  case abi::kSoftmaxGreedy:
    config.method = cpu::RouterMethod::SoftmaxGreedy;
    break;
  case abi::kSoftmaxGroupMax:
    config.method = cpu::RouterMethod::SoftmaxGroupMax;
    break;
  default:
    throw Error("artifact: unknown router method " + std::to_string(call.ints[abi::kMethod]));
  }
  config.numExperts = experts;
  config.topK = call.ints[abi::kTopK];
  config.numGroups = call.ints[abi::kNumGroups];
  config.topkGroup = call.ints[abi::kTopkGroup];
  config.normTopkProb = call.ints[abi::kNormTopkProb] != 0;
  config.routedScalingFactor = call.floats.at(0);
  const BoundWeight* bias = context.optionalWeight(call.weights[1]);
  if (config.method == cpu::RouterMethod::SigmoidGroupTop2 && (!bias || bias->type != DType::F32))
    throw Error("artifact: the sigmoid router needs an f32 e_score_correction_bias");
  cpu::moeRoute(
      *context.pool, config, logits, bias ? static_cast<const float*>(bias->data) : nullptr, rows,
      reinterpret_cast<int32_t*>(indicesOut.data), reinterpret_cast<float*>(weightsOut.data));
}

namespace {
struct ExpertShape {
  int64_t experts, topK, hidden, inter;
};
ExpertShape expertShape(const ExecutionContext& context, const ProgramCall& call) {
  const BoundWeight& gate0 = context.weight(call.weights.at(0));
  return {int64_t(call.weights.size() / 3), context.buffers.at(size_t(call.inputs[1])).rowElements,
          gate0.shape.at(1), gate0.shape.at(0)};
}
} // namespace

size_t expertFfnWorkspaceBytes(const ExecutionContext& context, const ProgramCall& call,
                               int64_t rows) {
  ExpertShape s = expertShape(context, call);
  size_t pairs = size_t(rows * s.topK);
  size_t act = dtypeSize(context.act);
  return (size_t(s.experts + 1) + 2 * pairs) * 4 + pairs * size_t(s.hidden) * act * 2 +
         pairs * size_t(s.inter) * act * 2 + 8 * 64;
}

void runExpertFfn(ExecutionContext& context, const ProgramCall& call) {
  ExpertShape s = expertShape(context, call);
  const int64_t rows = context.step.rows();
  const int64_t pairs = rows * s.topK;
  const DType act = context.act;
  const int64_t actSize = int64_t(dtypeSize(act));
  Workspace& ws = context.workspace;
  BoundBuffer& in = context.buffer(call.inputs[0]);
  const auto* weights = reinterpret_cast<const float*>(context.buffer(call.inputs[1]).data);
  const auto* indices = reinterpret_cast<const int32_t*>(context.buffer(call.inputs[2]).data);
  BoundBuffer& out = context.buffer(call.outputs[0]);

  int32_t* offsets = ws.take<int32_t>(s.experts + 1);
  int32_t* rowToken = ws.take<int32_t>(pairs);
  int32_t* slotRow = ws.take<int32_t>(pairs);
  cpu::moeDispatch(indices, rows, s.topK, s.experts, offsets, rowToken, slotRow);

  std::byte* grouped = ws.take<std::byte>(pairs * s.hidden * actSize);
  cpu::gatherRows(*context.pool, act, in.data, in.rowElements, rowToken, pairs, s.hidden, grouped,
                  s.hidden);
  std::byte* gate = ws.take<std::byte>(pairs * s.inter * actSize);
  std::byte* up = ws.take<std::byte>(pairs * s.inter * actSize);
  std::byte* expertOut = ws.take<std::byte>(pairs * s.hidden * actSize);
  for (int64_t e = 0; e < s.experts; ++e) {
    int64_t begin = offsets[e], count = offsets[e + 1] - offsets[e];
    if (count == 0)
      continue;
    std::byte* x = grouped + begin * s.hidden * actSize;
    std::byte* g = gate + begin * s.inter * actSize;
    std::byte* u = up + begin * s.inter * actSize;
    runLinear(context, context.weight(call.weights[size_t(3 * e)]), nullptr, count, act, x,
              s.hidden, act, g, s.inter);
    runLinear(context, context.weight(call.weights[size_t(3 * e + 1)]), nullptr, count, act, x,
              s.hidden, act, u, s.inter);
    cpu::siluMul(*context.pool, act, g, s.inter, u, s.inter, count, s.inter, g, s.inter);
    runLinear(context, context.weight(call.weights[size_t(3 * e + 2)]), nullptr, count, act, g,
              s.inter, act, expertOut + begin * s.hidden * actSize, s.hidden);
  }
  cpu::moeCombine(*context.pool, cpu::MoeCombineOrder::EagerExpertLoop, act, expertOut, s.hidden,
                  slotRow, indices, weights, rows, s.topK, s.hidden, out.data, out.rowElements);
}

} // namespace fathom::executor
