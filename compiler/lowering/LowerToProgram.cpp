// One kernel call per fathom op of @forward, in program order. Values become planned buffers
// of max_batch * max_seq_len rows (max_batch rows for the LM head, which only ever sees the
// rows the executor selects); the KV caches are sized here too so the artifact states its
// whole memory footprint.
#include "compiler/lowering/LowerToProgram.h"

#include "compiler/lowering/MemoryPlanner.h"
#include "dialects/fathom/FathomDialect.h"
#include "fathom/executor/ProgramAbi.h"
#include "fathom/runtime/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <string>
#include <unordered_map>

namespace fathom::compiler {
namespace abi = executor::abi;
namespace {

DType dtypeOf(mlir::Type type) {
  if (type.isF32())
    return DType::F32;
  if (type.isBF16())
    return DType::BF16;
  if (type.isF16())
    return DType::F16;
  if (llvm::isa<mlir::Float8E4M3FNType>(type))
    return DType::F8E4M3;
  if (type.isInteger(32))
    return DType::I32;
  if (type.isInteger(64))
    return DType::I64;
  if (type.isInteger(1))
    return DType::Bool;
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  throw Error("lowering: element type " + text + " has no runtime dtype");
}

std::string describe(mlir::Operation* op) {
  return "'" + op->getName().getStringRef().str() + "'";
}

class Lowering {
public:
  Lowering(mlir::ModuleOp module, const ProgramLimits& limits) : module_(module), limits_(limits) {
    if (auto type = module->getAttrOfType<mlir::StringAttr>(kModelTypeAttr))
      modelType_ = type.str();
  }

  LoweredProgram run() {
    for (auto param : module_.getOps<mlir::fathom::ParamOp>()) {
      LoweredWeight weight;
      weight.symbol = param.getSymName().str();
      weight.dtype = dtypeOf(param.getTensorType().getElementType());
      weight.shape.assign(param.getTensorType().getShape().begin(),
                          param.getTensorType().getShape().end());
      weight.source = param.getSource().value_or(param.getSymName()).str();
      if (auto offset = param.getSourceOffsetAttr())
        weight.sourceOffset = offset.getInt();
      if (auto quant = param.getQuantization()) {
        weight.scale = param.getScale()->str();
        weight.blockRows = uint32_t(quant->getRows());
        weight.blockCols = uint32_t(quant->getCols());
      }
      weightIndex_.emplace(weight.symbol, int32_t(program_.weights.size()));
      program_.weights.push_back(std::move(weight));
    }
    auto forward = module_.lookupSymbol<mlir::func::FuncOp>("forward");
    if (!forward)
      throw Error("lowering: the module has no @forward function");
    mlir::Block& body = forward.getBody().front();
    if (body.getNumArguments() < 1)
      throw Error("lowering: @forward takes no token ids");
    tokenIds_ = body.getArgument(0);
    for (mlir::Operation& op : body.getOperations())
      lowerOp(&op);
    plan();
    return std::move(program_);
  }

private:
  int32_t weight(llvm::StringRef symbol) {
    auto found = weightIndex_.find(symbol.str());
    if (found == weightIndex_.end())
      throw Error("lowering: no fathom.param @" + symbol.str());
    return found->second;
  }
  int32_t weight(mlir::FlatSymbolRefAttr symbol) { return symbol ? weight(symbol.getValue()) : -1; }

  int32_t input(mlir::Value value) {
    if (value == tokenIds_)
      return abi::kTokenIds;
    auto found = bufferOf_.find(value.getAsOpaquePointer());
    if (found == bufferOf_.end())
      throw Error("lowering: an operand is neither a token input nor a lowered value");
    lifetimes_[found->second].lastCall = int64_t(program_.calls.size());
    return found->second;
  }

  int32_t output(mlir::Value value, const std::string& name, bool perSequenceRows = false) {
    auto type = llvm::cast<mlir::RankedTensorType>(value.getType());
    artifact::BufferDesc buffer;
    buffer.name = name;
    buffer.dtype = dtypeOf(type.getElementType());
    buffer.rowElements = uint64_t(type.getShape().back());
    buffer.maxRows =
        uint64_t(limits_.maxBatch) * (perSequenceRows ? 1 : uint64_t(limits_.maxSeqLen));
    buffer.size = buffer.rowElements * buffer.maxRows * dtypeSize(buffer.dtype);
    int32_t index = int32_t(program_.buffers.size());
    program_.buffers.push_back(buffer);
    int64_t call = int64_t(program_.calls.size());
    lifetimes_.push_back({buffer.size, call, call});
    bufferOf_.emplace(value.getAsOpaquePointer(), index);
    return index;
  }

  std::string valueName(const std::string& kernel) {
    return "%" + std::to_string(program_.buffers.size()) + "." + kernel;
  }

  void emit(artifact::KernelCallDesc call) { program_.calls.push_back(std::move(call)); }

  void lowerOp(mlir::Operation* op) {
    using namespace mlir::fathom;
    artifact::KernelCallDesc call;
    if (auto embedding = llvm::dyn_cast<EmbeddingOp>(op)) {
      call.kernel = abi::kernel::kEmbedding;
      call.inputs = {input(embedding.getIds())};
      call.weights = {weight(embedding.getTableAttr())};
      call.outputs = {output(embedding.getResult(), valueName("embedding"))};
    } else if (auto norm = llvm::dyn_cast<RmsNormOp>(op)) {
      call.kernel = abi::kernel::kRmsNorm;
      call.inputs = {input(norm.getInput())};
      call.weights = {weight(norm.getWeightAttr())};
      call.floatAttrs = {norm.getEpsilon().convertToDouble()};
      call.outputs = {output(norm.getResult(), valueName("rms_norm"))};
    } else if (auto linear = llvm::dyn_cast<LinearOp>(op)) {
      call.kernel = abi::kernel::kLinear;
      call.inputs = {input(linear.getInput())};
      call.weights = {weight(linear.getWeightAttr()), weight(linear.getBiasAttr())};
      call.outputs = {output(linear.getResult(), valueName("linear"))};
    } else if (llvm::isa<SiluMulOp, AddOp>(op)) {
      bool silu = llvm::isa<SiluMulOp>(op);
      call.kernel = silu ? abi::kernel::kSiluMul : abi::kernel::kAdd;
      call.inputs = {input(op->getOperand(0)), input(op->getOperand(1))};
      call.outputs = {output(op->getResult(0), valueName(call.kernel))};
    } else if (auto head = llvm::dyn_cast<LmHeadOp>(op)) {
      call.kernel = abi::kernel::kLmHead;
      call.inputs = {input(head.getInput())};
      call.weights = {weight(head.getWeightAttr())};
      call.outputs = {output(head.getLogits(), valueName("lm_head"), /*perSequenceRows=*/true)};
    } else if (auto mla = llvm::dyn_cast<MlaAttentionOp>(op)) {
      lowerMla(mla, call);
    } else if (auto router = llvm::dyn_cast<MoeRouterOp>(op)) {
      call.kernel = abi::kernel::kMoeRouter;
      call.inputs = {input(router.getInput())};
      call.weights = {weight(router.getGateAttr()), weight(router.getScoreBiasAttr())};
      bool sigmoid = router.getScoring() == RouterScoring::sigmoid;
      int64_t groups = int64_t(router.getNGroup());
      int64_t method = sigmoid ? abi::kSigmoidGroupTop2
                               : (groups > 1 ? abi::kSoftmaxGroupMax : abi::kSoftmaxGreedy);
      auto gateType = llvm::cast<mlir::RankedTensorType>(
          module_.lookupSymbol<ParamOp>(router.getGateAttr()).getTensorType());
      call.intAttrs.resize(abi::kRouterIntCount);
      call.intAttrs[abi::kMethod] = method;
      call.intAttrs[abi::kNumExperts] = gateType.getShape()[0];
      call.intAttrs[abi::kTopK] = int64_t(router.getTopK());
      call.intAttrs[abi::kNumGroups] = groups;
      call.intAttrs[abi::kTopkGroup] = int64_t(router.getTopkGroup());
      // HF's V2 router never renormalizes, whatever the config says.
      call.intAttrs[abi::kNormTopkProb] = sigmoid && router.getNormTopkProb();
      call.floatAttrs = {router.getRoutedScalingFactor().convertToDouble()};
      call.outputs = {output(router.getWeights(), valueName("router_weights")),
                      output(router.getIndices(), valueName("router_indices"))};
    } else if (auto experts = llvm::dyn_cast<ExpertFfnOp>(op)) {
      call.kernel = abi::kernel::kExpertFfn;
      call.inputs = {input(experts.getInput()), input(experts.getWeights()),
                     input(experts.getIndices())};
      for (size_t e = 0; e < experts.getGateProj().size(); ++e)
        for (mlir::ArrayAttr list :
             {experts.getGateProj(), experts.getUpProj(), experts.getDownProj()})
          call.weights.push_back(weight(llvm::cast<mlir::FlatSymbolRefAttr>(list[e])));
      call.outputs = {output(experts.getResult(), valueName("expert_ffn"))};
    } else if (auto ret = llvm::dyn_cast<mlir::func::ReturnOp>(op)) {
      if (ret.getNumOperands() != 1)
        throw Error("lowering: @forward must return exactly one value");
      program_.output = input(ret.getOperand(0));
      outputBuffer_ = program_.output;
      return;
    } else {
      throw Error("lowering: the CPU runtime has no kernel for " + describe(op));
    }
    emit(std::move(call));
  }

  void lowerMla(mlir::fathom::MlaAttentionOp mla, artifact::KernelCallDesc& call) {
    call.kernel = abi::kernel::kMlaAttention;
    call.inputs = {input(mla.getInput())};
    call.weights.assign(abi::kMlaWeightCount, -1);
    call.weights[abi::kQProj] = weight(mla.getQProjAttr());
    call.weights[abi::kQAProj] = weight(mla.getQAProjAttr());
    call.weights[abi::kQALayernorm] = weight(mla.getQALayernormAttr());
    call.weights[abi::kQBProj] = weight(mla.getQBProjAttr());
    call.weights[abi::kKvAProj] = weight(mla.getKvAProjWithMqaAttr());
    call.weights[abi::kKvALayernorm] = weight(mla.getKvALayernormAttr());
    call.weights[abi::kKvBProj] = weight(mla.getKvBProjAttr());
    call.weights[abi::kOProj] = weight(mla.getOProjAttr());
    call.weights[abi::kQAProjBias] = weight(mla.getQAProjBiasAttr());
    call.weights[abi::kKvAProjBias] = weight(mla.getKvAProjWithMqaBiasAttr());
    call.weights[abi::kOProjBias] = weight(mla.getOProjBiasAttr());

    mlir::fathom::RopeAttr rope = mla.getRope();
    int64_t layout = abi::kRopeHalfSplit;
    if (modelType_ == "deepseek_v2")
      layout = abi::kRopeComplexPairs;
    else if (rope.getInterleaved())
      layout = abi::kRopeInterleaved;
    if (rope.getScaling() == mlir::fathom::RopeScaling::linear)
      throw Error("lowering: layer " + std::to_string(mla.getLayer()) +
                  ": linear RoPE scaling is not supported by the CPU runtime (default or yarn)");
    int64_t qLoraRank = 0;
    if (auto qa = mla.getQAProjAttr())
      qLoraRank = module_.lookupSymbol<mlir::fathom::ParamOp>(qa).getTensorType().getShape()[0];

    int64_t heads = int64_t(mla.getNumHeads());
    int64_t nope = int64_t(mla.getQkNopeHeadDim()), ropeDim = int64_t(mla.getQkRopeHeadDim());
    int64_t vDim = int64_t(mla.getVHeadDim());
    call.intAttrs.resize(abi::kMlaIntCount);
    call.intAttrs[abi::kLayer] = int64_t(mla.getLayer());
    call.intAttrs[abi::kNumHeads] = heads;
    call.intAttrs[abi::kQkNopeHeadDim] = nope;
    call.intAttrs[abi::kQkRopeHeadDim] = ropeDim;
    call.intAttrs[abi::kVHeadDim] = vDim;
    call.intAttrs[abi::kKvLoraRank] = int64_t(mla.getKvLoraRank());
    call.intAttrs[abi::kQLoraRank] = qLoraRank;
    call.intAttrs[abi::kRopeLayout] = layout;
    call.intAttrs[abi::kRopeYarn] = rope.getScaling() == mlir::fathom::RopeScaling::yarn;
    call.intAttrs[abi::kRopeOriginalMaxPositions] = rope.getOriginalMaxPositions();
    call.intAttrs[abi::kCacheSlot] = attentionLayers_++;
    call.floatAttrs.resize(abi::kMlaFloatCount);
    call.floatAttrs[abi::kSoftmaxScale] = mla.getScale().convertToDouble();
    call.floatAttrs[abi::kLoraNormEps] = mla.getLoraNormEpsilon().convertToDouble();
    call.floatAttrs[abi::kRopeTheta] = rope.getTheta().convertToDouble();
    call.floatAttrs[abi::kRopeFactor] = rope.getFactor().convertToDouble();
    call.floatAttrs[abi::kRopeBetaFast] = rope.getBetaFast().convertToDouble();
    call.floatAttrs[abi::kRopeBetaSlow] = rope.getBetaSlow().convertToDouble();
    call.floatAttrs[abi::kRopeAttentionFactor] = rope.getAttentionFactor().convertToDouble();
    call.outputs = {output(mla.getResult(), valueName("mla_attention"))};

    // Per token: every head's k_nope and v (kv_b_proj's output) and the shared rope key.
    DType act = program_.buffers[call.outputs[0]].dtype;
    uint64_t perToken = uint64_t(heads * (nope + vDim) + ropeDim) * dtypeSize(act);
    program_.kvCacheBytes += perToken * uint64_t(limits_.maxBatch) * uint64_t(limits_.maxSeqLen);
  }

  void plan() {
    if (outputBuffer_ < 0)
      throw Error("lowering: @forward has no return");
    lifetimes_[outputBuffer_].lastCall = int64_t(program_.calls.size());
    Placement placement = placeBuffers(lifetimes_);
    for (size_t i = 0; i < program_.buffers.size(); ++i)
      program_.buffers[i].offset = placement.offsets[i];
    program_.arenaSize = placement.arenaSize;
  }

  mlir::ModuleOp module_;
  ProgramLimits limits_;
  std::string modelType_;
  LoweredProgram program_;
  std::unordered_map<std::string, int32_t> weightIndex_;
  std::unordered_map<const void*, int32_t> bufferOf_;
  std::vector<BufferLifetime> lifetimes_;
  mlir::Value tokenIds_;
  int32_t outputBuffer_ = -1;
  int64_t attentionLayers_ = 0;
};

} // namespace

LoweredProgram lowerToProgram(mlir::ModuleOp module, const ProgramLimits& limits) {
  if (limits.maxBatch < 1 || limits.maxSeqLen < 1)
    throw Error("lowering: max batch and max sequence length must be at least 1");
  return Lowering(module, limits).run();
}

} // namespace fathom::compiler
