// The CPU kernel table's mixture-of-experts entries: moe_route, moe_dispatch, gather_rows,
// expert_linear, grouped_gate_up / grouped_linear, moe_combine.
#include "CpuKernel.h"

#include "fathom/cpu/Elementwise.h"
#include "fathom/cpu/GroupedLinear.h"
#include "fathom/cpu/Moe.h"

#include <cmath>

namespace fathom::cpu {
namespace {

using Factory = std::unique_ptr<backend::Kernel>;

// Rows of one value laid out one after another (what the routing kernels read and write).
void requirePacked(const char* kernel, const Tensor& t, int64_t width, DType type) {
  if (!t.packed() || t.rowStride != width || t.width() != width || t.type != type ||
      !t.contiguousRows())
    shapeError(kernel, "an operand must be packed rows of " + std::to_string(width) + " " +
                           std::string(dtypeName(type)) + " values");
}

Factory moeRoute(CpuResources& cpu, const fb::KernelCall& call, const std::vector<Weight>& weights,
                 const PlanLimits&) {
  const auto* p = call.params_as_MoeRouteCall();
  const char* name = "moe_route";
  const fb::View& logits = required(p->logits(), name, "logits");
  const fb::View& weightsOut = required(p->weights(), name, "weights");
  const fb::View& indicesOut = required(p->indices(), name, "indices");
  const Weight* bias = optionalWeightAt(weights, p->score_bias(), name);
  RouterConfig config;
  switch (p->method()) {
  case fb::RouterMethod::SigmoidGroupTop2:
    config.method = RouterMethod::SigmoidGroupTop2;
    break;
  case fb::RouterMethod::SoftmaxGreedy:
    config.method = RouterMethod::SoftmaxGreedy;
    break;
  case fb::RouterMethod::SoftmaxGroupMax:
    config.method = RouterMethod::SoftmaxGroupMax;
    break;
  default:
    shapeError(name, "unknown router method");
  }
  config.numExperts = int64_t(logits.head_dim());
  config.topK = p->top_k();
  config.numGroups = p->num_groups();
  config.topkGroup = p->topk_group();
  config.normTopkProb = p->norm_topk_prob();
  config.routedScalingFactor = p->routed_scaling_factor();
  const bool grouped = config.method != RouterMethod::SoftmaxGreedy;
  if (config.numExperts < 1 || config.topK < 1 || config.topK > config.numExperts ||
      (grouped && (config.numGroups < 1 || config.numExperts % config.numGroups != 0 ||
                   config.topkGroup < 1 || config.topkGroup > config.numGroups)) ||
      !std::isfinite(config.routedScalingFactor))
    shapeError(name, "top_k " + std::to_string(config.topK) + " of " +
                         std::to_string(config.numExperts) + " experts in " +
                         std::to_string(config.numGroups) + " groups (keeping " +
                         std::to_string(config.topkGroup) + ") is not a routing");
  if (config.method == RouterMethod::SigmoidGroupTop2 &&
      (!bias || bias->type != DType::F32 || bias->shape != std::vector<int64_t>{config.numExperts}))
    shapeError(name, "the sigmoid router needs an f32 e_score_correction_bias per expert");
  return makeKernel([&cpu, &logits, &weightsOut, &indicesOut, bias, config](const CallContext& c) {
    Tensor in = c.tensor(logits), w = c.tensor(weightsOut), i = c.tensor(indicesOut);
    requirePacked("moe_route", in, config.numExperts, DType::F32);
    requirePacked("moe_route", w, config.topK, DType::F32);
    requirePacked("moe_route", i, config.topK, DType::I32);
    if (w.rows() != in.rows() || i.rows() != in.rows())
      shapeError("moe_route", "weights and indices need one row per token");
    if (c.planning())
      return;
    cpu::moeRoute(*cpu.pool, config, in.as<float>(),
                  bias ? static_cast<const float*>(bias->data) : nullptr, in.rows(),
                  i.as<int32_t>(), w.as<float>());
  });
}

Factory moeDispatch(CpuResources&, const fb::KernelCall& call, const std::vector<Weight>& weights,
                    const PlanLimits&) {
  const auto* p = call.params_as_MoeDispatchCall();
  const char* name = "moe_dispatch";
  const fb::View& indices = required(p->indices(), name, "indices");
  const fb::View& offsets = required(p->offsets(), name, "offsets");
  const fb::View& rowToken = required(p->row_token(), name, "row_token");
  const fb::View& slotRow = required(p->slot_row(), name, "slot_row");
  int64_t experts = p->num_experts(), topK = p->top_k();
  // An expert shard: its first global expert; the routing picks among at most 2^31 experts.
  const int64_t firstExpert =
      p->expert_start() >= 0 ? shardStart(weightAt(weights, p->expert_start(), name), name) : -1;
  const int64_t totalExperts = firstExpert >= 0 ? int64_t(INT32_MAX) : experts;
  if (experts < 1 || topK < 1 || (firstExpert < 0 && topK > experts) ||
      (firstExpert >= 0 && firstExpert > totalExperts - experts))
    shapeError(name, "top_k " + std::to_string(topK) + " of " + std::to_string(experts) +
                         " experts is not a routing");
  return makeKernel([&indices, &offsets, &rowToken, &slotRow, experts, topK, firstExpert,
                     totalExperts, copy = std::vector<int32_t>()](const CallContext& c) mutable {
    Tensor in = c.tensor(indices), o = c.tensor(offsets), rt = c.tensor(rowToken),
           sr = c.tensor(slotRow);
    requirePacked("moe_dispatch", in, topK, DType::I32);
    requirePacked("moe_dispatch", o, experts + 1, DType::I32);
    requirePacked("moe_dispatch", rt, 1, DType::I32);
    requirePacked("moe_dispatch", sr, 1, DType::I32);
    if (rt.rows() != in.rows() * topK || sr.rows() != rt.rows() || o.rows() != 1)
      shapeError("moe_dispatch", "row_token and slot_row need tokens x top_k rows");
    if (c.planning())
      return;
    cpu::moeDispatch(snapshot(copy, in), in.rows(), topK, experts, o.as<int32_t>(),
                     rt.as<int32_t>(), sr.as<int32_t>(), firstExpert, totalExperts);
  });
}

Factory gatherRowsKernel(CpuResources& cpu, const fb::KernelCall& call, const std::vector<Weight>&,
                         const PlanLimits&) {
  const auto* p = call.params_as_GatherRowsCall();
  const fb::View& x = required(p->x(), "gather_rows", "x");
  const fb::View& rows = required(p->rows(), "gather_rows", "rows");
  const fb::View& out = required(p->out(), "gather_rows", "out");
  return makeKernel(
      [&cpu, &x, &rows, &out, copy = std::vector<int32_t>()](const CallContext& c) mutable {
        Tensor in = c.tensor(x), index = c.tensor(rows), result = c.tensor(out);
        if (!in.packed() || !result.packed() || index.type != DType::I32 || index.width() != 1 ||
            index.rows() != result.rows() || in.width() != result.width() ||
            in.type != result.type || !in.contiguousRows() || !result.contiguousRows())
          shapeError("gather_rows", "needs packed rows and one i32 index per output row");
        if (c.planning())
          return;
        const int32_t* indices = snapshot(copy, index);
        for (int64_t i = 0; i < index.rows(); ++i)
          if (indices[i] < 0 || indices[i] >= in.rows())
            throw Error("gather_rows: row " + std::to_string(indices[i]) + " is outside the " +
                        std::to_string(in.rows()) + " rows of this call");
        cpu::gatherRows(*cpu.pool, in.type, in.data, in.rowStride, indices, index.rows(),
                        in.width(), result.data, result.rowStride);
      });
}

Factory expertLinear(CpuResources& cpu, const fb::KernelCall& call,
                     const std::vector<Weight>& weights, const PlanLimits&) {
  const auto* p = call.params_as_ExpertLinearCall();
  const char* name = "expert_linear";
  const fb::View& x = required(p->x(), name, "x");
  const fb::View& offsets = required(p->offsets(), name, "offsets");
  const fb::View& out = required(p->out(), name, "out");
  if (!p->weights() || p->weights()->size() == 0)
    shapeError(name, "the call lists no expert weights");
  std::vector<const Weight*> experts;
  for (int32_t index : *p->weights()) {
    experts.push_back(&weightAt(weights, index, name));
    if (experts.back()->shape.size() != 2 || experts.back()->shape != experts.front()->shape)
      shapeError(name, "expert weight " + experts.back()->name +
                           " is not a matrix of the first expert's shape");
  }
  LinearArgs large;
  large.rows = kRowwiseMaxRows + 1;
  cpu.reserveScratch(linearScratchBytes(large, *cpu.pool));
  return makeKernel([&cpu, &x, &offsets, &out, experts,
                     copy = std::vector<int32_t>()](const CallContext& c) mutable {
    Tensor in = c.tensor(x), ranges = c.tensor(offsets), result = c.tensor(out);
    int64_t count = int64_t(experts.size());
    requirePacked("expert_linear", ranges, count + 1, DType::I32);
    if (!in.packed() || !result.packed() || ranges.rows() != 1)
      shapeError("expert_linear", "grouped rows in and out must be packed and equal in number");
    checkLinearRows(*experts.front(), in, result);
    if (c.planning())
      return;
    const int32_t* bounds = snapshot(copy, ranges);
    // An expert shard's rows end before the grouped rows do (the rest went to other ranks).
    if (bounds[0] != 0 || bounds[count] > in.rows())
      shapeError("expert_linear", "expert row ranges do not lie in the grouped rows");
    size_t inRow = size_t(in.rowStride) * dtypeSize(in.type);
    size_t outRow = size_t(result.rowStride) * dtypeSize(result.type);
    for (int64_t e = 0; e < count; ++e) {
      int64_t begin = bounds[e], rows = bounds[e + 1] - bounds[e];
      if (begin < 0 || rows < 0 || begin + rows > in.rows())
        shapeError("expert_linear", "expert row ranges are not ascending");
      if (rows == 0)
        continue;
      linear(linearArgs(*experts[size_t(e)], nullptr, rows, in.type,
                        in.data + size_t(begin) * inRow, in.rowStride, result.type,
                        result.data + size_t(begin) * outRow, result.rowStride),
             *cpu.pool, cpu.scratch->span());
    }
  });
}

Factory groupedLinearKernel(CpuResources& cpu, const fb::KernelCall& call,
                            const std::vector<Weight>& weights, const PlanLimits&) {
  const auto* p = call.params_as_GroupedLinearCall();
  const char* name = p->gated() ? "grouped_gate_up" : "grouped_linear";
  const fb::View& x = required(p->x(), name, "x");
  const fb::View& offsets = required(p->offsets(), name, "offsets");
  const fb::View& out = required(p->out(), name, "out");
  const Weight& w = weightAt(weights, p->weight(), name);
  const size_t halves = p->gated() ? 2 : 1;
  if (w.shape.size() != 2 + halves || (p->gated() && w.shape[1] != 2))
    shapeError(name, "weight " + w.name + " is not a stack of expert matrices [experts, " +
                         (p->gated() ? "2, " : "") + "out, in]");
  GroupedLinearArgs args;
  args.groups = w.shape[0];
  args.gated = p->gated();
  args.outFeatures = w.shape[halves];
  args.inFeatures = w.shape[halves + 1];
  args.wType = w.type;
  args.w = w.data;
  args.wScales = {w.scales, w.blockRows, w.blockCols, w.zeros};
  cpu.reserveScratch(groupedLinearScratchBytes(*cpu.pool));
  auto tasks = std::make_shared<std::vector<GroupedLinearTask>>();
  tasks->reserve(size_t(args.groups) * 8);
  return makeKernel([&cpu, &x, &offsets, &out, args, tasks, name,
                     copy = std::vector<int32_t>()](const CallContext& c) mutable {
    Tensor in = c.tensor(x), ranges = c.tensor(offsets), result = c.tensor(out);
    requirePacked(name, ranges, args.groups + 1, DType::I32);
    if (!in.packed() || !result.packed() || in.rows() != result.rows() ||
        in.width() != args.inFeatures || result.width() != args.outFeatures || ranges.rows() != 1 ||
        !in.contiguousRows() || !result.contiguousRows())
      shapeError(name, "grouped rows in and out must be packed, equal in number and fit the "
                       "stacked weight");
    if (c.planning())
      return;
    args.offsets = snapshot(copy, ranges);
    // An expert shard's rows end before the grouped rows do (the rest went to other ranks).
    bool ascending = args.offsets[0] == 0 && args.offsets[args.groups] <= in.rows();
    for (int64_t e = 0; ascending && e < args.groups; ++e)
      ascending = args.offsets[e] <= args.offsets[e + 1];
    if (!ascending)
      shapeError(name, "expert row ranges do not cover the grouped rows in ascending order");
    args.xType = in.type;
    args.x = in.data;
    args.ldx = in.rowStride;
    args.yType = result.type;
    args.y = result.data;
    args.ldy = result.rowStride;
    groupedLinear(args, *cpu.pool, cpu.scratch->span(), *tasks);
  });
}

Factory moeCombineKernel(CpuResources& cpu, const fb::KernelCall& call, const std::vector<Weight>&,
                         const PlanLimits&) {
  const auto* p = call.params_as_MoeCombineCall();
  const char* name = "moe_combine";
  const fb::View& expertOut = required(p->expert_out(), name, "expert_out");
  const fb::View& slotRow = required(p->slot_row(), name, "slot_row");
  const fb::View& indices = required(p->indices(), name, "indices");
  const fb::View& weightsIn = required(p->weights(), name, "weights");
  const fb::View& out = required(p->out(), name, "out");
  int64_t topK = p->top_k();
  MoeCombineOrder order = p->order() == fb::CombineOrder::EagerExpertLoop
                              ? MoeCombineOrder::EagerExpertLoop
                              : MoeCombineOrder::GroupedMm;
  return makeKernel([&cpu, &expertOut, &slotRow, &indices, &weightsIn, &out, topK, order,
                     copy = std::vector<int32_t>()](const CallContext& c) mutable {
    Tensor y = c.tensor(expertOut), sr = c.tensor(slotRow), ix = c.tensor(indices),
           w = c.tensor(weightsIn), result = c.tensor(out);
    requirePacked("moe_combine", ix, topK, DType::I32);
    requirePacked("moe_combine", w, topK, DType::F32);
    requirePacked("moe_combine", sr, 1, DType::I32);
    if (!y.packed() || !result.packed() || sr.rows() != ix.rows() * topK ||
        result.rows() != ix.rows() || y.width() != result.width() || y.type != result.type ||
        !y.contiguousRows() || !result.contiguousRows())
      shapeError("moe_combine", "operands disagree on rows or width");
    if (c.planning())
      return;
    const int32_t* slots = snapshot(copy, sr);
    for (int64_t s = 0; s < sr.rows(); ++s)
      if (slots[s] < -1 || slots[s] >= y.rows())
        throw Error("moe_combine: slot row " + std::to_string(slots[s]) + " is outside the " +
                    std::to_string(y.rows()) + " expert rows");
    cpu::moeCombine(*cpu.pool, order, y.type, y.data, y.rowStride, slots, ix.as<int32_t>(),
                    w.as<float>(), ix.rows(), topK, y.width(), result.data, result.rowStride);
  });
}

} // namespace

void addMoeKernels(KernelFactory* table) {
  table[size_t(fb::KernelParams::MoeRouteCall)] = moeRoute;
  table[size_t(fb::KernelParams::MoeDispatchCall)] = moeDispatch;
  table[size_t(fb::KernelParams::GatherRowsCall)] = gatherRowsKernel;
  table[size_t(fb::KernelParams::ExpertLinearCall)] = expertLinear;
  table[size_t(fb::KernelParams::MoeCombineCall)] = moeCombineKernel;
  table[size_t(fb::KernelParams::GroupedLinearCall)] = groupedLinearKernel;
}

} // namespace fathom::cpu
