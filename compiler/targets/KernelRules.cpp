#include "compiler/targets/KernelRules.h"

#include "dialects/fathom/FathomDialect.h"

namespace mlir::fathom {
namespace {

bool isActivation(Type type, const KernelLimits& limits) {
  return type.isF32() || (limits.bf16Activations && type.isBF16());
}

Type elementOf(Value value) {
  return cast<ShapedType>(value.getType()).getElementType();
}
int64_t lastDim(Value value) {
  return cast<ShapedType>(value.getType()).getShape().back();
}

// Checks every op of one kernel-level function against one target's limits.
class Rules {
public:
  Rules(const Target& target, const KernelLimits& limits) : target_(target), limits_(limits) {}

  FailureOr<StringRef> unsupported(Operation* op, const Twine& why) const {
    return unsupportedOn(op, target_, why);
  }

  // Activations in and out must be f32 (or bf16 where the target has it).
  FailureOr<StringRef> activationKernel(Operation* op, StringRef kernel) const {
    for (Value value : llvm::concat<Value>(op->getOperands(), op->getResults())) {
      Type element = elementOf(value);
      if (isa<FloatType>(element) && !isActivation(element, limits_))
        return unsupported(op, Twine("activations must be f32") +
                                   (limits_.bf16Activations ? " or bf16" : "") + ", got " + kernel);
    }
    return kernel;
  }

  FailureOr<StringRef> weightKernel(Operation* op, SymbolTableCollection& symbols,
                                    FlatSymbolRefAttr weight, StringRef kernel,
                                    bool quantizedAllowed) const {
    auto param = symbols.lookupNearestSymbolFrom<ParamOp>(op, weight);
    if (!param)
      return unsupported(op, "its weight is not a fathom.param");
    Type element = param.getTensorType().getElementType();
    bool blocked = bool(param.getQuantization());
    bool fp8 = isa<Float8E4M3FNType>(element) && blocked && limits_.fp8Weights;
    bool int4 = element.isUnsignedInteger(4) && blocked && limits_.int4Weights;
    if (isActivation(element, limits_) || (quantizedAllowed && (fp8 || int4)))
      return activationKernel(op, kernel);
    std::string accepted = limits_.bf16Activations ? "f32, bf16" : "f32";
    if (quantizedAllowed && limits_.fp8Weights)
      accepted += ", block-quantized f8E4M3FN";
    if (quantizedAllowed && limits_.int4Weights)
      accepted += ", block-quantized ui4";
    return unsupported(op, Twine("weight @") + param.getSymName() + " is " + typeName(element) +
                               "; its kernel takes " + accepted);
  }

  FailureOr<StringRef> kernelFor(Operation* op, SymbolTableCollection& symbols) const;

private:
  static std::string typeName(Type type) {
    std::string text;
    llvm::raw_string_ostream stream(text);
    type.print(stream);
    return text;
  }

  const Target& target_;
  const KernelLimits& limits_;
};

FailureOr<StringRef> Rules::kernelFor(Operation* op, SymbolTableCollection& symbols) const {
  if (isa<MlaAttentionOp, MultiHeadAttentionOp, MoeRouterOp, ExpertFfnOp>(op))
    return unsupported(op, "model-level blocks must be decomposed first (fathom-decompose)");
  if (isa<SliceOp, SplitHeadsOp>(op))
    return StringRef("view");
  if (isa<MergeHeadsOp>(op))
    return StringRef("copy");
  if (auto embedding = dyn_cast<EmbeddingOp>(op))
    return weightKernel(op, symbols, embedding.getTableAttr(), "embedding", false);
  if (auto norm = dyn_cast<RmsNormOp>(op))
    return weightKernel(op, symbols, norm.getWeightAttr(), "rms_norm", false);
  if (auto fused = dyn_cast<AddRmsNormOp>(op))
    return weightKernel(op, symbols, fused.getWeightAttr(), "add_rms_norm", false);
  if (auto linear = dyn_cast<LinearOp>(op))
    return weightKernel(op, symbols, linear.getWeightAttr(), "linear", true);
  if (auto head = dyn_cast<LmHeadOp>(op))
    return weightKernel(op, symbols, head.getWeightAttr(), "linear", true);
  if (auto matmul = dyn_cast<HeadMatmulOp>(op))
    return weightKernel(op, symbols, matmul.getWeightAttr(), "head_matmul", false);
  if (isa<AddOp>(op))
    return activationKernel(op, "add");
  if (auto norm = dyn_cast<LayerNormOp>(op))
    return weightKernel(op, symbols, norm.getWeightAttr(), "layer_norm", false);
  if (isa<GeluOp>(op))
    return activationKernel(op, "gelu");
  if (isa<PatchifyOp>(op))
    return activationKernel(op, "patchify");
  if (isa<MaskedScatterOp>(op))
    return activationKernel(op, "masked_scatter");
  if (isa<SiluMulOp>(op))
    return activationKernel(op, "silu_mul");
  if (auto rope = dyn_cast<RopeOp>(op)) {
    if (lastDim(rope.getInput()) > limits_.maxRopeDim)
      return unsupported(op, "rotary dims above " + Twine(limits_.maxRopeDim));
    return activationKernel(op, "rope");
  }
  if (auto attention = dyn_cast<AttentionOp>(op)) {
    int64_t qk = lastDim(attention.getQuery()) +
                 (attention.getQueryRope() ? lastDim(attention.getQueryRope()) : 0);
    if (qk > limits_.maxQueryKeyDim)
      return unsupported(op, "query/key width " + Twine(qk) + " above " +
                                 Twine(limits_.maxQueryKeyDim));
    if (int64_t value = lastDim(attention.getValue()); value > limits_.maxValueDim)
      return unsupported(op,
                         "value width " + Twine(value) + " above " + Twine(limits_.maxValueDim));
    if (attention.getRopePositions() && lastDim(attention.getQueryRope()) > limits_.maxRopeDim)
      return unsupported(op, "rotary dims above " + Twine(limits_.maxRopeDim));
    return activationKernel(op, "attention");
  }
  if (isa<CacheAppendOp>(op))
    return activationKernel(op, "cache_append");
  if (isa<SelectRowsOp>(op))
    return activationKernel(op, "select_rows");
  if (isa<LastTokenRowsOp>(op))
    return StringRef("last_token_rows");
  if (auto route = dyn_cast<MoeRouteOp>(op)) {
    if (route.getScoring() == RouterScoring::sigmoid && !route.getScoreBiasAttr())
      return unsupported(op, "the sigmoid router needs its e_score_correction_bias");
    return StringRef("moe_route");
  }
  if (isa<MoeDispatchOp>(op))
    return StringRef("moe_dispatch");
  if (isa<GatherRowsOp>(op))
    return activationKernel(op, "gather_rows");
  if (auto experts = dyn_cast<ExpertLinearOp>(op)) {
    for (Attribute weight : experts.getWeights())
      if (failed(weightKernel(op, symbols, cast<FlatSymbolRefAttr>(weight), "expert_linear", true)))
        return failure();
    return StringRef("expert_linear");
  }
  if (auto grouped = dyn_cast<GroupedGateUpOp>(op))
    return weightKernel(op, symbols, grouped.getWeightAttr(), "grouped_gate_up", true);
  if (auto grouped = dyn_cast<GroupedLinearOp>(op))
    return weightKernel(op, symbols, grouped.getWeightAttr(), "grouped_linear", true);
  if (isa<MoeCombineOp>(op))
    return activationKernel(op, "moe_combine");
  if (isa<AllReduceOp>(op))
    return activationKernel(op, "all_reduce");
  if (isa<AllGatherOp>(op))
    return activationKernel(op, "all_gather");
  return unsupported(op, "no kernel for this op");
}

} // namespace

FailureOr<StringRef> unsupportedOn(Operation* op, const Target& target, const Twine& why) {
  op->emitOpError() << "cannot run on the " << target.spelling() << " target: " << why;
  return failure();
}

FailureOr<StringRef> standardKernelFor(Operation* op, SymbolTableCollection& symbols,
                                       const Target& target, const KernelLimits& limits) {
  return Rules(target, limits).kernelFor(op, symbols);
}

} // namespace mlir::fathom
