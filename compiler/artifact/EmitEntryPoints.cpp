#include "compiler/artifact/EmitEntryPoints.h"

#include "dialects/fathom/FathomConventions.h"
#include "fathom/runtime/Error.h"
#include "passes/Layout.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <set>

namespace fathom::compiler {
namespace fb = artifact::fb;
namespace fm = mlir::fathom;
namespace {

std::string describe(mlir::Operation* op) {
  return "'" + op->getName().getStringRef().str() + "'";
}

fb::Extent extentOf(fm::RowExtent extent) {
  switch (extent) {
  case fm::RowExtent::Tokens:
    return fb::Extent::Tokens;
  case fm::RowExtent::Keys:
    return fb::Extent::Keys;
  case fm::RowExtent::HeadRows:
    return fb::Extent::HeadRows;
  case fm::RowExtent::ImageRows:
    return fb::Extent::ImageRows;
  case fm::RowExtent::Batch:
    return fb::Extent::Batch;
  case fm::RowExtent::Fixed:
    return fb::Extent::Fixed;
  }
  return fb::Extent::Tokens;
}

fb::RopeMode ropeModeOf(fm::RopeMode mode) {
  switch (mode) {
  case fm::RopeMode::rotate_half:
    return fb::RopeMode::RotateHalf;
  case fm::RopeMode::interleaved:
    return fb::RopeMode::Interleaved;
  case fm::RopeMode::complex:
    return fb::RopeMode::Complex;
  case fm::RopeMode::complex_halves:
    return fb::RopeMode::ComplexHalves;
  }
  return fb::RopeMode::RotateHalf;
}

fb::GeluApproximation geluApproximationOf(fm::GeluApproximation approximation) {
  switch (approximation) {
  case fm::GeluApproximation::erf:
    return fb::GeluApproximation::Erf;
  case fm::GeluApproximation::tanh:
    return fb::GeluApproximation::Tanh;
  case fm::GeluApproximation::tanh_unfused:
    return fb::GeluApproximation::TanhUnfused;
  }
  return fb::GeluApproximation::Erf;
}

std::optional<fb::InputKind> inputKindOf(llvm::StringRef name) {
  if (name == fm::kIdsInput)
    return fb::InputKind::Ids;
  if (name == fm::kPositionsInput)
    return fb::InputKind::Positions;
  if (name == fm::kKeyMaskInput)
    return fb::InputKind::KeyMask;
  if (name == fm::kCacheStartInput)
    return fb::InputKind::CacheStart;
  if (name == fm::kHeadRowsInput)
    return fb::InputKind::HeadRows;
  if (name == fm::kPixelValuesInput)
    return fb::InputKind::PixelValues;
  if (name == fm::kImageEmbeddingsInput)
    return fb::InputKind::ImageEmbeddings;
  return std::nullopt;
}

std::optional<fb::EntryKind> entryKindOf(llvm::StringRef name) {
  if (name == fm::kPrefill)
    return fb::EntryKind::Prefill;
  if (name == fm::kDecode)
    return fb::EntryKind::Decode;
  if (name == fm::kClassify)
    return fb::EntryKind::Classify;
  if (name == fm::kEncodeImage)
    return fb::EntryKind::EncodeImage;
  return std::nullopt;
}

int64_t moduleLimit(mlir::ModuleOp module, const char* name) {
  auto limit = module->getAttrOfType<mlir::IntegerAttr>(name);
  if (!limit)
    throw Error("emitter: the module has no " + std::string(name));
  return limit.getInt();
}

class EntryEmitter {
public:
  EntryEmitter(mlir::ModuleOp module, mlir::func::FuncOp function,
               const std::function<int32_t(llvm::StringRef)>& weightIndex,
               const std::function<int32_t(llvm::StringRef)>& cacheIndex,
               const fm::LayoutAnalysis& layouts)
      : module_(module), function_(function), weightIndex_(weightIndex), cacheIndex_(cacheIndex),
        layouts_(layouts), maxBatch_(moduleLimit(module, fm::kMaxBatchAttr)),
        maxSeqLen_(moduleLimit(module, fm::kMaxSeqLenAttr)) {
    auto tokens = function->getAttrOfType<mlir::IntegerAttr>(fm::kMaxTokensAttr);
    maxTokens_ = tokens ? tokens.getInt() : maxSeqLen_;
  }

  std::unique_ptr<fb::EntryPointT> emit() {
    auto entry = std::make_unique<fb::EntryPointT>();
    entry_ = entry.get();
    std::string name = function_->getAttrOfType<mlir::StringAttr>(fm::kEntryPointAttr).str();
    std::optional<fb::EntryKind> kind = entryKindOf(name);
    if (!kind)
      throw Error("emitter: unknown entry point '" + name + "'");
    entry->name = name;
    entry->kind = *kind;
    entry->max_tokens = uint32_t(maxTokens_);
    auto arena = function_->getAttrOfType<mlir::IntegerAttr>(fm::kArenaSizeAttr);
    if (!arena)
      throw Error("emitter: @" + name + " has no memory plan (run fathom-plan-memory)");
    entry->arena_size = uint64_t(arena.getInt());
    mlir::Block& body = function_.getBody().front();
    auto returned = llvm::cast<mlir::func::ReturnOp>(body.getTerminator());
    if (returned.getNumOperands() != 1)
      throw Error("emitter: @" + name + " must return exactly one value");
    output_ = returned.getOperand(0);

    for (mlir::BlockArgument argument : function_.getArguments()) {
      auto input =
          function_.getArgAttrOfType<mlir::StringAttr>(argument.getArgNumber(), fm::kInputAttr);
      std::optional<fb::InputKind> inputKind = inputKindOf(input.getValue());
      if (!inputKind)
        throw Error("emitter: unknown entry input '" + input.str() + "'");
      auto entryInput = std::make_unique<fb::EntryInputT>();
      entryInput->kind = *inputKind;
      entryInput->buffer = bufferOf(argument);
      if (*inputKind == fb::InputKind::Ids)
        entryInput->upper_bound = vocabularyOf(argument);
      entry->inputs.push_back(std::move(entryInput));
    }
    for (mlir::Operation& op : body.without_terminator()) {
      auto kernel = op.getAttrOfType<mlir::StringAttr>(fm::kKernelAttr);
      if (!kernel)
        throw Error("emitter: " + describe(&op) + " has no kernel (run fathom-lower-to-kernels)");
      if (kernel.getValue() == fm::kViewKernel)
        continue;
      auto call = std::make_unique<fb::KernelCallT>();
      call->name = op.getName().getStringRef().str();
      call->params = paramsOf(&op, kernel.getValue());
      entry->calls.push_back(std::move(call));
    }
    entry->output = std::make_unique<fb::View>(view(output_));
    return entry;
  }

private:
  // The token ids' range: the embedding table's rows.
  int64_t vocabularyOf(mlir::Value ids) {
    for (mlir::Operation* user : ids.getUsers())
      if (auto embedding = llvm::dyn_cast<fm::EmbeddingOp>(user))
        return embedding.getVocabSize()
                   ? int64_t(*embedding.getVocabSize())
                   : module_.lookupSymbol<fm::ParamOp>(embedding.getTableAttr())
                         .getTensorType()
                         .getDimSize(0);
    return -1;
  }

  int32_t bufferOf(mlir::Value owner) {
    auto found = buffers_.find(owner);
    if (found != buffers_.end())
      return found->second;
    const fm::ValueLayout& layout = layouts_.of(owner);
    auto buffer = std::make_unique<fb::BufferT>();
    buffer->name = "%" + std::to_string(entry_->buffers.size());
    if (auto* op = owner.getDefiningOp())
      buffer->name += "." + op->getName().getStringRef().drop_front(7).str(); // drop "fathom."
    buffer->dtype = static_cast<fb::ElementType>(layout.storage);
    buffer->row_elements = uint64_t(layout.rowStride);
    buffer->max_rows = uint64_t(fm::maxRows(layout.rows, maxBatch_, maxSeqLen_, maxTokens_));
    buffer->size = buffer->row_elements * buffer->max_rows * dtypeSize(layout.storage);
    if (owner == output_) {
      buffer->kind = fb::BufferKind::Output;
    } else {
      buffer->kind = fb::BufferKind::Arena;
      buffer->offset = uint64_t(arenaOffset(owner));
    }
    int32_t index = int32_t(entry_->buffers.size());
    entry_->buffers.push_back(std::move(buffer));
    buffers_[owner] = index;
    return index;
  }

  int64_t arenaOffset(mlir::Value owner) {
    int64_t offset = -1;
    if (auto argument = llvm::dyn_cast<mlir::BlockArgument>(owner)) {
      if (auto attr = function_.getArgAttrOfType<mlir::IntegerAttr>(argument.getArgNumber(),
                                                                    fm::kArenaOffsetsAttr))
        offset = attr.getInt();
    } else if (auto attr = owner.getDefiningOp()->getAttrOfType<mlir::DenseI64ArrayAttr>(
                   fm::kArenaOffsetsAttr)) {
      offset = attr[llvm::cast<mlir::OpResult>(owner).getResultNumber()];
    }
    if (offset < 0)
      throw Error("emitter: a value of @" + function_.getSymName().str() +
                  " has no arena offset (run fathom-plan-memory)");
    return offset;
  }

  int32_t cacheBuffer(mlir::FlatSymbolRefAttr cache) {
    auto found = caches_.find(cache.getValue());
    if (found != caches_.end())
      return found->second;
    auto op = module_.lookupSymbol<fm::CacheOp>(cache);
    auto buffer = std::make_unique<fb::BufferT>();
    buffer->name = cache.getValue().str();
    buffer->kind = fb::BufferKind::Cache;
    buffer->dtype =
        static_cast<fb::ElementType>(*fm::storageDType(op.getRowType().getElementType()));
    buffer->row_elements = uint64_t(op.getRowType().getDimSize(0));
    buffer->max_rows = uint64_t(maxBatch_ * maxSeqLen_);
    buffer->size =
        buffer->row_elements * buffer->max_rows * dtypeSize(static_cast<DType>(buffer->dtype));
    buffer->cache = cacheIndex_(cache.getValue());
    int32_t index = int32_t(entry_->buffers.size());
    entry_->buffers.push_back(std::move(buffer));
    caches_[cache.getValue()] = index;
    return index;
  }

  fb::View view(mlir::Value value) {
    const fm::ValueLayout& layout = layouts_.of(value);
    int32_t buffer = layout.cache ? cacheBuffer(layout.cache) : bufferOf(layout.base);
    uint64_t batchStride = layout.cache ? uint64_t(maxSeqLen_ * layout.rowStride) : 0;
    return fb::View(buffer, extentOf(layout.rows.extent), uint32_t(layout.rows.multiplier),
                    uint64_t(layout.offset), uint64_t(layout.rowStride), batchStride,
                    uint32_t(layout.heads), uint32_t(layout.headDim), uint64_t(layout.headStride));
  }
  std::unique_ptr<fb::View> viewPtr(mlir::Value value) {
    return value ? std::make_unique<fb::View>(view(value)) : nullptr;
  }

  int32_t weight(mlir::FlatSymbolRefAttr symbol) {
    return symbol ? weightIndex_(symbol.getValue()) : -1;
  }

  std::unique_ptr<fb::FusedRopeT> fusedRope(mlir::Value positions, mlir::FlatSymbolRefAttr cos,
                                            mlir::FlatSymbolRefAttr sin,
                                            std::optional<fm::RopeMode> mode) {
    if (!positions)
      return nullptr;
    auto rope = std::make_unique<fb::FusedRopeT>();
    rope->positions = viewPtr(positions);
    rope->cos = weight(cos);
    rope->sin = weight(sin);
    rope->mode = ropeModeOf(*mode);
    return rope;
  }

  fb::KernelParamsUnion paramsOf(mlir::Operation* op, llvm::StringRef kernel) {
    fb::KernelParamsUnion params;
    auto out = [&](unsigned i = 0) { return viewPtr(op->getResult(i)); };
    if (kernel == "embedding") {
      auto e = llvm::cast<fm::EmbeddingOp>(op);
      fb::EmbeddingCallT call;
      call.ids = viewPtr(e.getIds());
      call.table = weight(e.getTableAttr());
      call.out = out();
      if (auto start = e.getVocabStartAttr()) {
        call.vocab_start = weight(start);
        call.vocab_size = int64_t(*e.getVocabSize());
      }
      params.Set(std::move(call));
    } else if (kernel == "rms_norm") {
      auto norm = llvm::cast<fm::RmsNormOp>(op);
      fb::RmsNormCallT call;
      call.x = viewPtr(norm.getInput());
      call.weight = weight(norm.getWeightAttr());
      call.epsilon = norm.getEpsilon().convertToFloat();
      call.out = out();
      params.Set(std::move(call));
    } else if (kernel == "add_rms_norm") {
      auto fused = llvm::cast<fm::AddRmsNormOp>(op);
      fb::AddRmsNormCallT call;
      call.a = viewPtr(fused.getLhs());
      call.b = viewPtr(fused.getRhs());
      call.weight = weight(fused.getWeightAttr());
      call.epsilon = fused.getEpsilon().convertToFloat();
      call.sum = out(0);
      call.out = out(1);
      params.Set(std::move(call));
    } else if (kernel == "linear" || kernel == "linear_fp8") {
      fb::LinearCallT call;
      call.fp8_activations = kernel == "linear_fp8";
      call.x = viewPtr(op->getOperand(0));
      if (auto linear = llvm::dyn_cast<fm::LinearOp>(op)) {
        call.weight = weight(linear.getWeightAttr());
        call.bias = weight(linear.getBiasAttr());
      } else {
        call.weight = weight(llvm::cast<fm::LmHeadOp>(op).getWeightAttr());
      }
      call.out = out();
      params.Set(std::move(call));
    } else if (kernel == "head_matmul") {
      auto matmul = llvm::cast<fm::HeadMatmulOp>(op);
      fb::HeadMatmulCallT call;
      call.x = viewPtr(matmul.getInput());
      call.weight = weight(matmul.getWeightAttr());
      call.out = out();
      params.Set(std::move(call));
    } else if (kernel == "layer_norm") {
      auto norm = llvm::cast<fm::LayerNormOp>(op);
      fb::LayerNormCallT call;
      call.x = viewPtr(norm.getInput());
      call.weight = weight(norm.getWeightAttr());
      call.bias = weight(norm.getBiasAttr());
      call.epsilon = norm.getEpsilon().convertToFloat();
      call.out = out();
      params.Set(std::move(call));
    } else if (kernel == "gelu") {
      fb::GeluCallT call;
      call.x = viewPtr(op->getOperand(0));
      call.approximation = geluApproximationOf(llvm::cast<fm::GeluOp>(op).getApproximation());
      call.out = out();
      params.Set(std::move(call));
    } else if (kernel == "masked_scatter") {
      auto scatter = llvm::cast<fm::MaskedScatterOp>(op);
      fb::MaskedScatterCallT call;
      call.x = viewPtr(scatter.getInput());
      call.ids = viewPtr(scatter.getIds());
      call.source = viewPtr(scatter.getSource());
      call.token_id = scatter.getTokenId();
      call.out = out();
      params.Set(std::move(call));
    } else if (kernel == "patchify") {
      auto patchify = llvm::cast<fm::PatchifyOp>(op);
      fb::PatchifyCallT call;
      call.images = viewPtr(patchify.getInput());
      call.channels = int32_t(patchify.getChannels());
      call.height = int32_t(patchify.getHeight());
      call.width = int32_t(patchify.getWidth());
      call.patch = int32_t(patchify.getPatchSize());
      call.out = out();
      params.Set(std::move(call));
    } else if (kernel == "add") {
      fb::AddCallT call;
      call.a = viewPtr(op->getOperand(0));
      call.b = viewPtr(op->getOperand(1));
      call.out = out();
      params.Set(std::move(call));
    } else if (kernel == "silu_mul") {
      fb::SiluMulCallT call;
      call.gate = viewPtr(op->getOperand(0));
      call.up = viewPtr(op->getOperand(1));
      call.out = out();
      params.Set(std::move(call));
    } else if (kernel == "copy") {
      fb::CopyCallT call;
      call.x = viewPtr(op->getOperand(0));
      call.out = out();
      params.Set(std::move(call));
    } else if (kernel == "rope") {
      auto rope = llvm::cast<fm::RopeOp>(op);
      fb::RopeCallT call;
      call.x = viewPtr(rope.getInput());
      call.out = out();
      call.rope =
          fusedRope(rope.getPositions(), rope.getCosAttr(), rope.getSinAttr(), rope.getMode());
      params.Set(std::move(call));
    } else if (kernel == "attention") {
      auto a = llvm::cast<fm::AttentionOp>(op);
      fb::AttentionCallT call;
      call.q = viewPtr(a.getQuery());
      call.q_rope = viewPtr(a.getQueryRope());
      call.k = viewPtr(a.getKey());
      call.k_rope = viewPtr(a.getKeyRope());
      call.v = viewPtr(a.getValue());
      call.key_mask = viewPtr(a.getKeyMask());
      call.query_start = viewPtr(a.getQueryStart());
      call.out = out();
      call.scale = a.getScale().convertToFloat();
      call.causal = a.getCausal();
      call.rope =
          fusedRope(a.getRopePositions(), a.getRopeCosAttr(), a.getRopeSinAttr(), a.getRopeMode());
      params.Set(std::move(call));
    } else if (kernel == "cache_append") {
      auto append = llvm::cast<fm::CacheAppendOp>(op);
      fb::CacheAppendCallT call;
      for (mlir::Value piece : append.getPieces())
        call.pieces.push_back(view(piece));
      call.cache = out();
      call.cache_start = viewPtr(append.getCacheStart());
      call.rope_piece = append.getRopePiece() ? int32_t(*append.getRopePiece()) : -1;
      call.rope = fusedRope(append.getRopePositions(), append.getRopeCosAttr(),
                            append.getRopeSinAttr(), append.getRopeMode());
      params.Set(std::move(call));
    } else if (kernel == "select_rows") {
      auto select = llvm::cast<fm::SelectRowsOp>(op);
      fb::SelectRowsCallT call;
      call.x = viewPtr(select.getInput());
      call.rows = viewPtr(select.getRows());
      call.out = out();
      params.Set(std::move(call));
    } else if (kernel == "last_token_rows") {
      auto last = llvm::cast<fm::LastTokenRowsOp>(op);
      fb::LastTokenRowsCallT call;
      call.ids = viewPtr(last.getIds());
      call.pad_id = last.getPadId();
      call.out = out();
      params.Set(std::move(call));
    } else if (kernel == "moe_route") {
      auto route = llvm::cast<fm::MoeRouteOp>(op);
      fb::MoeRouteCallT call;
      call.logits = viewPtr(route.getLogits());
      call.score_bias = weight(route.getScoreBiasAttr());
      bool sigmoid = route.getScoring() == fm::RouterScoring::sigmoid;
      call.method = sigmoid                 ? fb::RouterMethod::SigmoidGroupTop2
                    : route.getNGroup() > 1 ? fb::RouterMethod::SoftmaxGroupMax
                                            : fb::RouterMethod::SoftmaxGreedy;
      call.top_k = int32_t(route.getTopK());
      call.num_groups = int32_t(route.getNGroup());
      call.topk_group = int32_t(route.getTopkGroup());
      call.norm_topk_prob = route.getNormTopkProb();
      call.routed_scaling_factor = route.getRoutedScalingFactor().convertToFloat();
      call.weights = out(0);
      call.indices = out(1);
      params.Set(std::move(call));
    } else if (kernel == "moe_dispatch") {
      auto dispatch = llvm::cast<fm::MoeDispatchOp>(op);
      fb::MoeDispatchCallT call;
      call.indices = viewPtr(dispatch.getIndices());
      call.num_experts = int32_t(dispatch.getNumExperts());
      call.top_k = int32_t(
          llvm::cast<mlir::RankedTensorType>(dispatch.getIndices().getType()).getShape().back());
      call.offsets = out(0);
      call.row_token = out(1);
      call.slot_row = out(2);
      call.expert_start = weight(dispatch.getExpertStartAttr());
      params.Set(std::move(call));
    } else if (kernel == "all_reduce" || kernel == "all_gather") {
      auto parts = uint32_t(op->getAttrOfType<mlir::IntegerAttr>("parts").getInt());
      if (kernel == "all_reduce") {
        fb::AllReduceCallT call;
        call.x = viewPtr(op->getOperand(0));
        call.out = out();
        call.parts = parts;
        params.Set(std::move(call));
      } else {
        fb::AllGatherCallT call;
        call.x = viewPtr(op->getOperand(0));
        call.out = out();
        call.parts = parts;
        params.Set(std::move(call));
      }
    } else if (kernel == "gather_rows") {
      auto gather = llvm::cast<fm::GatherRowsOp>(op);
      fb::GatherRowsCallT call;
      call.x = viewPtr(gather.getInput());
      call.rows = viewPtr(gather.getRows());
      call.out = out();
      params.Set(std::move(call));
    } else if (kernel == "expert_linear") {
      auto experts = llvm::cast<fm::ExpertLinearOp>(op);
      fb::ExpertLinearCallT call;
      call.x = viewPtr(experts.getInput());
      call.offsets = viewPtr(experts.getOffsets());
      for (mlir::Attribute w : experts.getWeights())
        call.weights.push_back(weight(llvm::cast<mlir::FlatSymbolRefAttr>(w)));
      call.out = out();
      params.Set(std::move(call));
    } else if (kernel == "grouped_gate_up" || kernel == "grouped_linear") {
      // Both ops are (input, offsets, @weight); the gated one stacks gate and up.
      fb::GroupedLinearCallT call;
      call.x = viewPtr(op->getOperand(0));
      call.offsets = viewPtr(op->getOperand(1));
      call.weight = weight(op->getAttrOfType<mlir::FlatSymbolRefAttr>("weight"));
      call.gated = kernel == "grouped_gate_up";
      call.out = out();
      params.Set(std::move(call));
    } else if (kernel == "moe_combine") {
      auto combine = llvm::cast<fm::MoeCombineOp>(op);
      fb::MoeCombineCallT call;
      call.expert_out = viewPtr(combine.getExpertOut());
      call.slot_row = viewPtr(combine.getSlotRow());
      call.indices = viewPtr(combine.getIndices());
      call.weights = viewPtr(combine.getWeights());
      call.top_k = int32_t(
          llvm::cast<mlir::RankedTensorType>(combine.getIndices().getType()).getShape().back());
      call.order = combine.getOrder() == fm::CombineOrder::eager ? fb::CombineOrder::EagerExpertLoop
                                                                 : fb::CombineOrder::GroupedMm;
      call.out = out();
      params.Set(std::move(call));
    } else {
      throw Error("emitter: no kernel ABI entry for kernel '" + kernel.str() + "' of " +
                  describe(op));
    }
    return params;
  }

  mlir::ModuleOp module_;
  mlir::func::FuncOp function_;
  const std::function<int32_t(llvm::StringRef)>& weightIndex_;
  const std::function<int32_t(llvm::StringRef)>& cacheIndex_;
  const fm::LayoutAnalysis& layouts_;
  int64_t maxBatch_, maxSeqLen_, maxTokens_;
  fb::EntryPointT* entry_ = nullptr;
  mlir::Value output_;
  llvm::DenseMap<mlir::Value, int32_t> buffers_;
  llvm::StringMap<int32_t> caches_;
};

} // namespace

std::vector<std::string> storedParams(mlir::ModuleOp module) {
  mlir::SymbolTable symbols(module);
  std::set<std::string> used;
  for (auto function : module.getOps<mlir::func::FuncOp>()) {
    if (!function->hasAttr(fm::kEntryPointAttr))
      continue;
    function.walk([&](mlir::Operation* op) {
      for (mlir::NamedAttribute attr : op->getAttrs()) {
        attr.getValue().walk([&](mlir::FlatSymbolRefAttr symbol) {
          if (symbols.lookup<fm::ParamOp>(symbol.getValue()))
            used.insert(symbol.getValue().str());
        });
      }
    });
  }
  // A quantized param brings its scale (and INT4 zero points) along.
  for (fm::ParamOp param : module.getOps<fm::ParamOp>())
    if (param.getScaleAttr() && used.count(param.getSymName().str())) {
      used.insert(param.getScaleAttr().getValue().str());
      if (auto zero = param.getZeroAttr())
        used.insert(zero.getValue().str());
    }
  std::vector<std::string> stored;
  for (fm::ParamOp param : module.getOps<fm::ParamOp>())
    if (used.count(param.getSymName().str()))
      stored.push_back(param.getSymName().str());
  return stored;
}

EmittedProgram emitEntryPoints(mlir::ModuleOp module,
                               const std::function<int32_t(llvm::StringRef)>& weightIndex) {
  EmittedProgram program;
  int64_t maxBatch = moduleLimit(module, fm::kMaxBatchAttr);
  int64_t maxSeqLen = moduleLimit(module, fm::kMaxSeqLenAttr);
  llvm::StringMap<int32_t> cacheIndices;
  for (fm::CacheOp cache : module.getOps<fm::CacheOp>()) {
    auto desc = std::make_unique<fb::CacheT>();
    desc->name = cache.getSymName().str();
    DType dtype = *fm::storageDType(cache.getRowType().getElementType());
    desc->dtype = static_cast<fb::ElementType>(dtype);
    desc->row_elements = uint64_t(cache.getRowType().getDimSize(0));
    program.cacheBytesPerToken += desc->row_elements * dtypeSize(dtype);
    cacheIndices[desc->name] = int32_t(program.caches.size());
    program.caches.push_back(std::move(desc));
  }
  program.kvCacheBytes = program.cacheBytesPerToken * uint64_t(maxBatch * maxSeqLen);
  std::function<int32_t(llvm::StringRef)> cacheIndex = [&](llvm::StringRef name) {
    return cacheIndices.lookup(name);
  };
  for (auto function : module.getOps<mlir::func::FuncOp>()) {
    if (!function->hasAttr(fm::kEntryPointAttr))
      continue;
    mlir::FailureOr<fm::LayoutAnalysis> layouts = fm::LayoutAnalysis::compute(function);
    if (mlir::failed(layouts))
      throw Error("emitter: @" + function.getSymName().str() + " has no runtime layout");
    EntryEmitter emitter(module, function, weightIndex, cacheIndex, *layouts);
    program.entryPoints.push_back(emitter.emit());
    program.arenaSize = std::max(program.arenaSize, program.entryPoints.back()->arena_size);
  }
  if (program.entryPoints.empty())
    throw Error("emitter: the module has no entry points (run fathom-specialize-entry-points)");
  return program;
}

} // namespace fathom::compiler
