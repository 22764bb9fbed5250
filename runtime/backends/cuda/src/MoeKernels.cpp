// The CUDA kernel table's mixture-of-experts entries: moe_route, moe_dispatch, gather_rows,
// grouped_gate_up / grouped_linear, expert_linear, moe_combine (operands checked as the CPU's
// entries check them; runtime/backends/cpu/src/backend/MoeKernels.cpp).
#include "CudaKernel.h"
#include "Launch.h"

#include <cmath>

namespace fathom::cuda {
namespace {

using Factory = std::unique_ptr<backend::Kernel>;

void requirePacked(const char* kernel, const Tensor& t, int64_t width, DType type) {
  if (!t.packed() || t.rowStride != width || t.width() != width || t.type != type ||
      !t.contiguousRows() || t.paged())
    shapeError(kernel, "an operand must be packed rows of " + std::to_string(width) + " " +
                           std::string(dtypeName(type)) + " values");
}

int64_t shardStartOf(const Weight& weight, const char* kernel) {
  if (weight.type != DType::I64 || weight.shape != std::vector<int64_t>{1})
    shapeError(kernel, "shard start " + weight.name + " must be one i64");
  int64_t start = 0;
  check(cudaMemcpy(&start, weight.data, sizeof start, cudaMemcpyDeviceToHost), kernel);
  return start;
}

Factory moeRoute(CudaResources& gpu, const fb::KernelCall& call, const std::vector<Weight>& weights,
                 const PlanLimits&) {
  const auto* p = call.params_as_MoeRouteCall();
  const char* name = "moe_route";
  const fb::View& logits = required(p->logits(), name, "logits");
  const fb::View& weightsOut = required(p->weights(), name, "weights");
  const fb::View& indicesOut = required(p->indices(), name, "indices");
  const Weight* bias = optionalWeightAt(weights, p->score_bias(), name);
  MoeRoute route;
  switch (p->method()) {
  case fb::RouterMethod::SigmoidGroupTop2:
    route.method = RouterMethod::SigmoidGroupTop2;
    break;
  case fb::RouterMethod::SoftmaxGreedy:
    route.method = RouterMethod::SoftmaxGreedy;
    break;
  case fb::RouterMethod::SoftmaxGroupMax:
    route.method = RouterMethod::SoftmaxGroupMax;
    break;
  default:
    shapeError(name, "unknown router method");
  }
  route.experts = int64_t(logits.head_dim());
  route.topK = p->top_k();
  route.groups = p->num_groups();
  route.topkGroup = p->topk_group();
  route.normTopkProb = p->norm_topk_prob();
  route.scaling = p->routed_scaling_factor();
  const bool grouped = route.method != RouterMethod::SoftmaxGreedy;
  if (route.experts < 1 || route.experts > kMaxRoutedExperts || route.topK < 1 ||
      route.topK > route.experts ||
      (grouped && (route.groups < 1 || route.experts % route.groups != 0 || route.topkGroup < 1 ||
                   route.topkGroup > route.groups)) ||
      (route.method == RouterMethod::SigmoidGroupTop2 && route.experts / route.groups < 2) ||
      !std::isfinite(route.scaling))
    shapeError(name, "top_k " + std::to_string(route.topK) + " of " +
                         std::to_string(route.experts) + " experts in " +
                         std::to_string(route.groups) + " groups (keeping " +
                         std::to_string(route.topkGroup) + ") is not a routing (at most " +
                         std::to_string(kMaxRoutedExperts) + " experts)");
  if (route.method == RouterMethod::SigmoidGroupTop2 &&
      (!bias || bias->type != DType::F32 || bias->shape != std::vector<int64_t>{route.experts}))
    shapeError(name, "the sigmoid router needs an f32 e_score_correction_bias per expert");
  route.bias = bias ? static_cast<const float*>(bias->data) : nullptr;
  return makeKernel([&gpu, &logits, &weightsOut, &indicesOut, route](const CallContext& c) {
    const Tensor in = c.tensor(logits), w = c.tensor(weightsOut), i = c.tensor(indicesOut);
    requirePacked("moe_route", in, route.experts, DType::F32);
    requirePacked("moe_route", w, route.topK, DType::F32);
    requirePacked("moe_route", i, route.topK, DType::I32);
    if (w.rows() != in.rows() || i.rows() != in.rows())
      shapeError("moe_route", "weights and indices need one row per token");
    if (c.planning())
      return;
    MoeRoute bound = route;
    bound.tokens = in.rows();
    bound.logits = in.as<float>();
    bound.indices = i.as<int32_t>();
    bound.weights = w.as<float>();
    check(launchMoeRoute(bound, gpu.stream), "moe_route");
  });
}

Factory moeDispatch(CudaResources& gpu, const fb::KernelCall& call,
                    const std::vector<Weight>& weights, const PlanLimits&) {
  const auto* p = call.params_as_MoeDispatchCall();
  const char* name = "moe_dispatch";
  const fb::View& indices = required(p->indices(), name, "indices");
  const fb::View& offsets = required(p->offsets(), name, "offsets");
  const fb::View& rowToken = required(p->row_token(), name, "row_token");
  const fb::View& slotRow = required(p->slot_row(), name, "slot_row");
  MoeDispatch d;
  d.experts = p->num_experts();
  d.topK = p->top_k();
  const bool shard = p->expert_start() >= 0;
  d.firstExpert = shard ? shardStartOf(weightAt(weights, p->expert_start(), name), name) : 0;
  d.totalExperts = shard ? int64_t(INT32_MAX) : d.experts;
  if (d.experts < 1 || d.experts > 4096 || d.topK < 1 || (!shard && d.topK > d.experts) ||
      (shard && (d.firstExpert < 0 || d.firstExpert > d.totalExperts - d.experts)))
    shapeError(name, "top_k " + std::to_string(d.topK) + " of " + std::to_string(d.experts) +
                         " experts is not a routing (at most 4096 experts per rank)");
  return makeKernel([&gpu, &indices, &offsets, &rowToken, &slotRow, d](const CallContext& c) {
    const Tensor in = c.tensor(indices), o = c.tensor(offsets), rt = c.tensor(rowToken),
                 sr = c.tensor(slotRow);
    requirePacked("moe_dispatch", in, d.topK, DType::I32);
    requirePacked("moe_dispatch", o, d.experts + 1, DType::I32);
    requirePacked("moe_dispatch", rt, 1, DType::I32);
    requirePacked("moe_dispatch", sr, 1, DType::I32);
    if (rt.rows() != in.rows() * d.topK || sr.rows() != rt.rows() || o.rows() != 1)
      shapeError("moe_dispatch", "row_token and slot_row need tokens x top_k rows");
    if (c.planning())
      return;
    MoeDispatch bound = d;
    bound.pairs = in.rows() * d.topK;
    bound.indices = in.as<int32_t>();
    bound.offsets = o.as<int32_t>();
    bound.rowToken = rt.as<int32_t>();
    bound.slotRow = sr.as<int32_t>();
    check(launchMoeDispatch(bound, gpu.errorWord, gpu.stream), "moe_dispatch");
  });
}

Factory gatherRows(CudaResources& gpu, const fb::KernelCall& call, const std::vector<Weight>&,
                   const PlanLimits&) {
  const auto* p = call.params_as_GatherRowsCall();
  const fb::View& x = required(p->x(), "gather_rows", "x");
  const fb::View& rows = required(p->rows(), "gather_rows", "rows");
  const fb::View& out = required(p->out(), "gather_rows", "out");
  return makeKernel([&gpu, &x, &rows, &out](const CallContext& c) {
    const Tensor in = c.tensor(x), index = c.tensor(rows), result = c.tensor(out);
    if (!in.packed() || !result.packed() || index.type != DType::I32 || index.width() != 1 ||
        !index.packed() || index.rows() != result.rows() || in.width() != result.width() ||
        in.type != result.type || !in.contiguousRows() || !result.contiguousRows())
      shapeError("gather_rows", "needs packed rows and one i32 index per output row");
    if (c.planning())
      return;
    check(launchGatherRows(dtypeSize(in.type), in.data, in.rowStride, in.rows(),
                           index.as<int32_t>(), index.rows(), in.width(), result.data,
                           result.rowStride, gpu.errorWord, gpu.stream),
          "gather_rows");
  });
}

Factory groupedLinear(CudaResources& gpu, const fb::KernelCall& call,
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
  if (w.type != DType::F32 && w.type != DType::BF16 && w.type != DType::F8E4M3)
    shapeError(name, "weight " + w.name + " is " + std::string(dtypeName(w.type)) +
                         "; the CUDA grouped GEMM takes f32, bf16 or block-quantized FP8");
  if (w.type == DType::F8E4M3 && (!w.scales || w.blockRows < 1 || w.blockCols < 1))
    shapeError(name, "FP8 weight " + w.name + " has no block scales");
  GroupedLinear g;
  g.weightType = w.type;
  g.experts = w.shape[0];
  g.gated = p->gated();
  g.out = w.shape[halves];
  g.in = w.shape[halves + 1];
  g.weight = w.data;
  g.scales = w.scales;
  g.blockRows = w.blockRows;
  g.blockCols = w.blockCols;
  return makeKernel([&gpu, &x, &offsets, &out, g, name](const CallContext& c) {
    const Tensor in = c.tensor(x), ranges = c.tensor(offsets), result = c.tensor(out);
    requirePacked(name, ranges, g.experts + 1, DType::I32);
    if (!in.packed() || !result.packed() || in.rows() != result.rows() || in.width() != g.in ||
        result.width() != g.out || ranges.rows() != 1 || !in.contiguousRows() ||
        !result.contiguousRows() || in.type != result.type)
      shapeError(name, "grouped rows in and out must be packed, equal in number and fit the "
                       "stacked weight");
    requireActivation(name, "x", in.type);
    if (g.weightType != DType::F8E4M3 && g.weightType != in.type)
      shapeError(name, "x and the stacked weight must share one type on CUDA");
    if (c.planning())
      return;
    GroupedLinear bound = g;
    bound.type = in.type;
    bound.rows = in.rows();
    bound.offsets = ranges.as<int32_t>();
    bound.x = in.data;
    bound.ldx = in.rowStride;
    bound.y = result.data;
    bound.ldy = result.rowStride;
    check(launchGroupedLinear(bound, gpu.errorWord, gpu.stream), name);
  });
}

// The per-expert form (expert grouping disabled): the row ranges are read back (one sync per
// call), then each expert's rows go through its own linear.
Factory expertLinear(CudaResources& gpu, const fb::KernelCall& call,
                     const std::vector<Weight>& weights, const PlanLimits& limits) {
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
    if (experts.back()->shape.size() != 2 || experts.back()->shape != experts.front()->shape ||
        experts.back()->type != experts.front()->type)
      shapeError(name, "expert weight " + experts.back()->name +
                           " is not a matrix of the first expert's shape and type");
  }
  const Weight& first = *experts.front();
  if (first.type == DType::F8E4M3 && (!first.scales || first.blockRows < 1))
    shapeError(name, "FP8 weight " + first.name + " has no block scales");
  return makeHostSyncingKernel([&gpu, &x, &offsets, &out, experts,
                                bounds = std::vector<int32_t>()](const CallContext& c) mutable {
    const Tensor in = c.tensor(x), ranges = c.tensor(offsets), result = c.tensor(out);
    const int64_t count = int64_t(experts.size());
    requirePacked("expert_linear", ranges, count + 1, DType::I32);
    const Weight& w = *experts.front();
    if (!in.packed() || !result.packed() || ranges.rows() != 1 || in.rows() != result.rows() ||
        in.width() != w.shape[1] || result.width() != w.shape[0] || in.type != result.type)
      shapeError("expert_linear", "grouped rows in and out must be packed and fit the experts");
    requireActivation("expert_linear", "x", in.type);
    if (w.type != DType::F8E4M3 && w.type != in.type)
      shapeError("expert_linear", "x and the expert weights must share one type on CUDA");
    if (c.planning())
      return;
    bounds.resize(size_t(count + 1));
    check(cudaMemcpyAsync(bounds.data(), ranges.data, bounds.size() * sizeof(int32_t),
                          cudaMemcpyDeviceToHost, gpu.stream),
          "expert_linear");
    check(cudaStreamSynchronize(gpu.stream), "expert_linear");
    if (bounds[0] != 0 || bounds[size_t(count)] > in.rows())
      shapeError("expert_linear", "expert row ranges do not lie in the grouped rows");
    const size_t element = dtypeSize(in.type);
    for (int64_t e = 0; e < count; ++e) {
      const int64_t begin = bounds[size_t(e)], rows = bounds[size_t(e) + 1] - begin;
      if (begin < 0 || rows < 0 || begin + rows > in.rows())
        shapeError("expert_linear", "expert row ranges are not ascending");
      if (rows == 0)
        continue;
      const Weight& expert = *experts[size_t(e)];
      linearRows(gpu, expert, nullptr, in.type, in.data + size_t(begin * in.rowStride) * element,
                 in.rowStride, result.data + size_t(begin * result.rowStride) * element,
                 result.rowStride, rows);
    }
  });
}

Factory moeCombine(CudaResources& gpu, const fb::KernelCall& call, const std::vector<Weight>&,
                   const PlanLimits&) {
  const auto* p = call.params_as_MoeCombineCall();
  const char* name = "moe_combine";
  const fb::View& expertOut = required(p->expert_out(), name, "expert_out");
  const fb::View& slotRow = required(p->slot_row(), name, "slot_row");
  const fb::View& indices = required(p->indices(), name, "indices");
  const fb::View& weightsIn = required(p->weights(), name, "weights");
  const fb::View& out = required(p->out(), name, "out");
  const int64_t topK = p->top_k();
  if (topK < 1 || topK > kMaxCombineTopK)
    shapeError(name, "top_k " + std::to_string(topK) + " must be in [1, " +
                         std::to_string(kMaxCombineTopK) + "]");
  const bool eager = p->order() == fb::CombineOrder::EagerExpertLoop;
  return makeKernel(
      [&gpu, &expertOut, &slotRow, &indices, &weightsIn, &out, topK, eager](const CallContext& c) {
        const Tensor y = c.tensor(expertOut), sr = c.tensor(slotRow), ix = c.tensor(indices),
                     w = c.tensor(weightsIn), result = c.tensor(out);
        requirePacked("moe_combine", ix, topK, DType::I32);
        requirePacked("moe_combine", w, topK, DType::F32);
        requirePacked("moe_combine", sr, 1, DType::I32);
        if (!y.packed() || !result.packed() || sr.rows() != ix.rows() * topK ||
            result.rows() != ix.rows() || y.width() != result.width() || y.type != result.type ||
            !y.contiguousRows() || !result.contiguousRows())
          shapeError("moe_combine", "operands disagree on rows or width");
        requireActivation("moe_combine", "expert_out", y.type);
        if (c.planning())
          return;
        MoeCombine m;
        m.type = y.type;
        m.eagerOrder = eager;
        m.tokens = ix.rows();
        m.topK = topK;
        m.hidden = y.width();
        m.expertRows = y.rows();
        m.expertOut = y.data;
        m.ldExpertOut = y.rowStride;
        m.slotRow = sr.as<int32_t>();
        m.indices = ix.as<int32_t>();
        m.weights = w.as<float>();
        m.out = result.data;
        m.ldOut = result.rowStride;
        check(launchMoeCombine(m, gpu.errorWord, gpu.stream), "moe_combine");
      });
}

} // namespace

void addMoeKernels(KernelFactory* table) {
  table[size_t(fb::KernelParams::MoeRouteCall)] = moeRoute;
  table[size_t(fb::KernelParams::MoeDispatchCall)] = moeDispatch;
  table[size_t(fb::KernelParams::GatherRowsCall)] = gatherRows;
  table[size_t(fb::KernelParams::GroupedLinearCall)] = groupedLinear;
  table[size_t(fb::KernelParams::ExpertLinearCall)] = expertLinear;
  table[size_t(fb::KernelParams::MoeCombineCall)] = moeCombine;
}

} // namespace fathom::cuda
