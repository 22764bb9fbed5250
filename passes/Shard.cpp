#include "dialects/fathom/FathomConventions.h"
#include "passes/DerivedParams.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>

namespace mlir::fathom {

#define GEN_PASS_DEF_SHARDPASS
#include "passes/Passes.h.inc"

namespace {

std::string text(int64_t value) {
  return std::to_string(value);
}

// Declares the per-rank params of a sharded model. Every failure is reported on `at` and turns
// the result into nullptr.
class ShardBuilder {
public:
  ShardBuilder(ModuleOp module, SymbolTable& symbols) : module_(module), symbols_(symbols) {}

  ParamOp param(FlatSymbolRefAttr symbol) { return symbols_.lookup<ParamOp>(symbol.getValue()); }

  // This rank's 1 / parts of `weight` along `dim` (a quantized weight's scale and zero points
  // with it, which needs whole blocks per part).
  FlatSymbolRefAttr shard(Operation* at, FlatSymbolRefAttr weight, int64_t dim, int64_t parts,
                          StringRef what) {
    ParamOp param = symbols_.lookup<ParamOp>(weight.getValue());
    RankedTensorType type = param.getTensorType();
    int64_t extent = type.getDimSize(dim);
    if (extent % parts != 0) {
      at->emitError() << "fathom-shard: " << what << " @" << param.getSymName() << " has " << extent
                      << " " << (dim == 0 ? "rows" : "columns") << ", which do not split into "
                      << parts << " equal parts";
      return nullptr;
    }
    FlatSymbolRefAttr scale, zero;
    if (auto quant = param.getQuantization()) {
      int64_t block = dim == type.getRank() - 1 ? quant->getCols() : quant->getRows();
      if ((extent / parts) % block != 0) {
        at->emitError() << "fathom-shard: " << what << " @" << param.getSymName()
                        << " is block-quantized in blocks of " << block << " along dimension "
                        << dim << ", but a part would hold " << extent / parts << " (" << extent
                        << " / " << parts << "); parts must hold whole blocks";
        return nullptr;
      }
      scale = shardWhole(param.getScaleAttr(), dim, parts);
      if (auto zeroAttr = param.getZeroAttr())
        zero = shardWhole(zeroAttr, dim, parts);
    }
    SmallVector<int64_t> shape(type.getShape());
    shape[dim] /= parts;
    auto shardType = RankedTensorType::get(shape, type.getElementType());
    return getOrCreateDerivedParam(
        symbols_, module_, (param.getSymName() + ".shard" + text(parts)).str(), shardType,
        [&](OpBuilder& b) {
          Value whole = paramValue(b, symbols_, weight);
          return WeightShardOp::create(b, module_.getLoc(), shardType, whole,
                                       b.getI64IntegerAttr(dim), b.getI64IntegerAttr(parts));
        },
        param.getQuantizationAttr(), scale, zero);
  }

  // A bias added once per group: on its first rank, zeros on the others.
  FlatSymbolRefAttr onFirst(FlatSymbolRefAttr bias, int64_t parts) {
    ParamOp param = symbols_.lookup<ParamOp>(bias.getValue());
    RankedTensorType type = param.getTensorType();
    return getOrCreateDerivedParam(
        symbols_, module_, (param.getSymName() + ".first" + text(parts)).str(), type,
        [&](OpBuilder& b) {
          return WeightShardFirstOp::create(
              b, module_.getLoc(), type, paramValue(b, symbols_, bias), b.getI64IntegerAttr(parts));
        },
        nullptr, nullptr);
  }

  // Local expert `k` of every rank: global expert (rank % parts) * local + k of `experts`.
  FlatSymbolRefAttr localExpert(ArrayAttr experts, int64_t k, int64_t parts) {
    int64_t local = int64_t(experts.size()) / parts;
    SmallVector<FlatSymbolRefAttr> candidates;
    for (int64_t i = 0; i < parts; ++i)
      candidates.push_back(cast<FlatSymbolRefAttr>(experts[size_t(i * local + k)]));
    return select(candidates, ".local_expert");
  }

  // A tensor<1xi64> param holding (rank % parts) * stride.
  FlatSymbolRefAttr start(StringRef name, int64_t parts, int64_t stride) {
    auto type = RankedTensorType::get({1}, IntegerType::get(module_.getContext(), 64));
    return getOrCreateDerivedParam(
        symbols_, module_, name, type,
        [&](OpBuilder& b) {
          return ShardStartOp::create(b, module_.getLoc(), type, b.getI64IntegerAttr(parts),
                                      b.getI64IntegerAttr(stride));
        },
        nullptr, nullptr);
  }

private:
  // The scale or zero grid of an already checked shard: whole blocks per part.
  FlatSymbolRefAttr shardWhole(FlatSymbolRefAttr grid, int64_t dim, int64_t parts) {
    ParamOp param = symbols_.lookup<ParamOp>(grid.getValue());
    RankedTensorType type = param.getTensorType();
    SmallVector<int64_t> shape(type.getShape());
    shape[dim] /= parts;
    auto shardType = RankedTensorType::get(shape, type.getElementType());
    return getOrCreateDerivedParam(
        symbols_, module_, (param.getSymName() + ".shard" + text(parts)).str(), shardType,
        [&](OpBuilder& b) {
          return WeightShardOp::create(b, module_.getLoc(), shardType,
                                       paramValue(b, symbols_, grid), b.getI64IntegerAttr(dim),
                                       b.getI64IntegerAttr(parts));
        },
        nullptr, nullptr);
  }

  // One param whose value on a rank is candidates[rank % size], with the candidates' scale and
  // zero points selected alike.
  FlatSymbolRefAttr select(ArrayRef<FlatSymbolRefAttr> candidates, StringRef suffix) {
    ParamOp first = symbols_.lookup<ParamOp>(candidates.front().getValue());
    FlatSymbolRefAttr scale, zero;
    if (first.getQuantization()) {
      SmallVector<FlatSymbolRefAttr> scales, zeros;
      for (FlatSymbolRefAttr candidate : candidates) {
        ParamOp param = symbols_.lookup<ParamOp>(candidate.getValue());
        scales.push_back(param.getScaleAttr());
        if (param.getZeroAttr())
          zeros.push_back(param.getZeroAttr());
      }
      scale = select(scales, suffix);
      if (!zeros.empty())
        zero = select(zeros, suffix);
    }
    RankedTensorType type = first.getTensorType();
    return getOrCreateDerivedParam(
        symbols_, module_, (first.getSymName() + suffix + text(int64_t(candidates.size()))).str(),
        type,
        [&](OpBuilder& b) {
          SmallVector<Value> inputs;
          for (FlatSymbolRefAttr candidate : candidates)
            inputs.push_back(paramValue(b, symbols_, candidate));
          return WeightSelectShardOp::create(b, module_.getLoc(), type, inputs);
        },
        first.getQuantizationAttr(), scale, zero);
  }

  ModuleOp module_;
  SymbolTable& symbols_;
};

// Replaces every use of `value` but the collective's own by `op(value)`.
template <class Collective> Collective insertAfter(Value value, Type resultType, int64_t parts) {
  OpBuilder b(value.getContext());
  b.setInsertionPointAfterValue(value);
  auto collective =
      Collective::create(b, value.getLoc(), resultType, value, b.getI64IntegerAttr(parts));
  value.replaceAllUsesExcept(collective.getResult(), collective);
  return collective;
}

struct ShardPass : impl::ShardPassBase<ShardPass> {
  using ShardPassBase::ShardPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (tp < 1 || ep < 1 || tp > 4096 || ep > 4096) {
      module.emitError() << "fathom-shard: --tp " << int64_t(tp) << " and --ep " << int64_t(ep)
                         << " must lie in [1, 4096]";
      return signalPassFailure();
    }
    int64_t world = std::max<int64_t>(tp, ep);
    if (world % tp != 0 || world % ep != 0) {
      module.emitError() << "fathom-shard: --tp " << int64_t(tp) << " and --ep " << int64_t(ep)
                         << " do not nest: the smaller must divide the larger (the world is "
                         << world << " ranks)";
      return signalPassFailure();
    }
    if (world == 1)
      return;
    // Sharded already: a second run with the same split changes nothing.
    if (auto done = module->getAttrOfType<IntegerAttr>(kWorldSizeAttr)) {
      auto doneTp = module->getAttrOfType<IntegerAttr>(kTensorParallelAttr);
      auto doneEp = module->getAttrOfType<IntegerAttr>(kExpertParallelAttr);
      if (doneTp && doneEp && doneTp.getInt() == tp && doneEp.getInt() == ep)
        return;
      module.emitError() << "fathom-shard: the module is sharded already (world " << done.getInt()
                         << "), not again for --tp " << int64_t(tp) << " --ep " << int64_t(ep);
      return signalPassFailure();
    }
    SymbolTable symbols(module);
    ShardBuilder shards(module, symbols);
    bool failed = false;
    for (auto function : module.getOps<func::FuncOp>()) {
      // DeepSeek-VL's vision tower runs once per image: every rank encodes it whole.
      auto entry = function->getAttrOfType<StringAttr>(kEntryPointAttr);
      if (entry && entry.getValue() == kEncodeImage)
        continue;
      function.walk([&](Operation* op) {
        if (!failed && mlir::failed(shardOp(op, shards)))
          failed = true;
      });
    }
    if (failed)
      return signalPassFailure();
    for (auto function : module.getOps<func::FuncOp>())
      shareAllReduces(function);
    Builder b(module.getContext());
    module->setAttr(kWorldSizeAttr, b.getI64IntegerAttr(world));
    module->setAttr(kTensorParallelAttr, b.getI64IntegerAttr(tp));
    module->setAttr(kExpertParallelAttr, b.getI64IntegerAttr(ep));
  }

  LogicalResult shardOp(Operation* op, ShardBuilder& shards) {
    if (auto mla = dyn_cast<MlaAttentionOp>(op))
      return tp > 1 ? shardAttention(mla, shards) : success();
    if (auto mul = dyn_cast<SiluMulOp>(op))
      return tp > 1 ? shardMlp(mul, shards) : success();
    if (auto embedding = dyn_cast<EmbeddingOp>(op))
      return tp > 1 ? shardEmbedding(embedding, shards) : success();
    if (auto head = dyn_cast<LmHeadOp>(op))
      return tp > 1 ? shardHead(head, shards) : success();
    if (auto experts = dyn_cast<ExpertFfnOp>(op))
      return ep > 1 ? shardExperts(experts, shards) : success();
    if (auto attention = dyn_cast<MultiHeadAttentionOp>(op))
      return tp > 1 ? shardAttention(attention, shards) : success();
    return success();
  }

  // LLaMA's attention: query heads and key/value heads split alike (each rank keeps whole GQA
  // groups), q/k/v (and their biases) by rows, o by columns.
  LogicalResult shardAttention(MultiHeadAttentionOp attention, ShardBuilder& shards) {
    int64_t heads = int64_t(attention.getNumHeads()), kvHeads = int64_t(attention.getNumKvHeads());
    if (heads % tp != 0 || kvHeads % tp != 0)
      return attention.emitError()
             << "fathom-shard: layer " << attention.getLayer() << " has " << heads
             << " attention heads and " << kvHeads
             << " key/value heads, which do not split over --tp " << int64_t(tp);
    const char* what = "the attention projection";
    auto rows = [&](FlatSymbolRefAttr weight) {
      return shards.shard(attention, weight, 0, tp, what);
    };
    FlatSymbolRefAttr q = rows(attention.getQProjAttr());
    FlatSymbolRefAttr k = q ? rows(attention.getKProjAttr()) : nullptr;
    FlatSymbolRefAttr v = k ? rows(attention.getVProjAttr()) : nullptr;
    FlatSymbolRefAttr o =
        v ? shards.shard(attention, attention.getOProjAttr(), 1, tp, what) : nullptr;
    if (!o)
      return failure();
    FlatSymbolRefAttr biases[3] = {attention.getQProjBiasAttr(), attention.getKProjBiasAttr(),
                                   attention.getVProjBiasAttr()};
    for (FlatSymbolRefAttr& bias : biases)
      if (bias && !(bias = shards.shard(attention, bias, 0, tp, "the attention bias")))
        return failure();
    attention.setQProjAttr(q);
    attention.setKProjAttr(k);
    attention.setVProjAttr(v);
    attention.setOProjAttr(o);
    if (biases[0])
      attention.setQProjBiasAttr(biases[0]);
    if (biases[1])
      attention.setKProjBiasAttr(biases[1]);
    if (biases[2])
      attention.setVProjBiasAttr(biases[2]);
    if (auto bias = attention.getOProjBiasAttr())
      attention.setOProjBiasAttr(shards.onFirst(bias, tp));
    attention.setNumHeads(uint64_t(heads / tp));
    attention.setNumKvHeads(uint64_t(kvHeads / tp));
    insertAfter<AllReduceOp>(attention.getResult(), attention.getType(), tp);
    ++numCollectives;
    return success();
  }

  // Heads split: q and kv_b by rows, o by columns; the latent path stays whole.
  LogicalResult shardAttention(MlaAttentionOp mla, ShardBuilder& shards) {
    int64_t heads = int64_t(mla.getNumHeads());
    if (heads % tp != 0)
      return mla.emitError() << "fathom-shard: layer " << mla.getLayer() << " has " << heads
                             << " attention heads, which do not split over --tp " << int64_t(tp);
    const char* what = "the attention projection";
    if (auto q = mla.getQBProjAttr()) {
      FlatSymbolRefAttr part = shards.shard(mla, q, 0, tp, what);
      if (!part)
        return failure();
      mla.setQBProjAttr(part);
    } else if (auto q = mla.getQProjAttr()) {
      FlatSymbolRefAttr part = shards.shard(mla, q, 0, tp, what);
      if (!part)
        return failure();
      mla.setQProjAttr(part);
    }
    FlatSymbolRefAttr kvB = shards.shard(mla, mla.getKvBProjAttr(), 0, tp, what);
    FlatSymbolRefAttr o = kvB ? shards.shard(mla, mla.getOProjAttr(), 1, tp, what) : nullptr;
    if (!o)
      return failure();
    mla.setKvBProjAttr(kvB);
    mla.setOProjAttr(o);
    if (auto bias = mla.getOProjBiasAttr())
      mla.setOProjBiasAttr(shards.onFirst(bias, tp));
    mla.setNumHeads(uint64_t(heads / tp));
    insertAfter<AllReduceOp>(mla.getResult(), mla.getType(), tp);
    ++numCollectives;
    return success();
  }

  // down(silu(gate(x)) * up(x)): gate and up by rows, down by columns (the dense MLPs and the
  // shared experts; routed experts are expert_ffn).
  LogicalResult shardMlp(SiluMulOp mul, ShardBuilder& shards) {
    auto gate = mul.getGate().getDefiningOp<LinearOp>();
    auto up = mul.getUp().getDefiningOp<LinearOp>();
    if (!gate || !up || !mul->hasOneUse() || !gate->hasOneUse() || !up->hasOneUse())
      return success();
    auto down = dyn_cast<LinearOp>(*mul->user_begin());
    if (!down)
      return success();
    const char* what = "the MLP projection";
    FlatSymbolRefAttr gatePart = shards.shard(mul, gate.getWeightAttr(), 0, tp, what);
    FlatSymbolRefAttr upPart =
        gatePart ? shards.shard(mul, up.getWeightAttr(), 0, tp, what) : nullptr;
    FlatSymbolRefAttr downPart =
        upPart ? shards.shard(mul, down.getWeightAttr(), 1, tp, what) : nullptr;
    if (!downPart)
      return failure();
    for (LinearOp linear : {gate, up}) {
      if (auto bias = linear.getBiasAttr()) {
        FlatSymbolRefAttr part = shards.shard(mul, bias, 0, tp, "the MLP bias");
        if (!part)
          return failure();
        linear.setBiasAttr(part);
      }
    }
    gate.setWeightAttr(gatePart);
    up.setWeightAttr(upPart);
    down.setWeightAttr(downPart);
    if (auto bias = down.getBiasAttr())
      down.setBiasAttr(shards.onFirst(bias, tp));
    // The intermediate values are one part wide now.
    auto narrow = [&](Value value) {
      auto type = cast<RankedTensorType>(value.getType());
      SmallVector<int64_t> shape(type.getShape());
      shape.back() /= tp;
      value.setType(RankedTensorType::get(shape, type.getElementType()));
    };
    narrow(gate.getResult());
    narrow(up.getResult());
    narrow(mul.getResult());
    insertAfter<AllReduceOp>(down.getResult(), down.getType(), tp);
    ++numCollectives;
    return success();
  }

  LogicalResult shardEmbedding(EmbeddingOp embedding, ShardBuilder& shards) {
    FlatSymbolRefAttr table = embedding.getTableAttr();
    int64_t vocab = shards.param(table).getTensorType().getDimSize(0);
    FlatSymbolRefAttr part = shards.shard(embedding, table, 0, tp, "the embedding table");
    if (!part)
      return failure();
    OpBuilder b(embedding);
    embedding.setTableAttr(part);
    embedding.setVocabStartAttr(
        shards.start((table.getValue() + ".vocab_start" + text(tp)).str(), tp, vocab / tp));
    embedding.setVocabSizeAttr(b.getI64IntegerAttr(vocab));
    insertAfter<AllReduceOp>(embedding.getResult(), embedding.getType(), tp);
    ++numCollectives;
    return success();
  }

  // Logits of this rank's vocabulary rows, joined in rank order.
  LogicalResult shardHead(LmHeadOp head, ShardBuilder& shards) {
    FlatSymbolRefAttr part = shards.shard(head, head.getWeightAttr(), 0, tp, "the LM head");
    if (!part)
      return failure();
    auto whole = cast<RankedTensorType>(head.getType());
    SmallVector<int64_t> shape(whole.getShape());
    shape.back() /= tp;
    head.setWeightAttr(part);
    head.getLogits().setType(RankedTensorType::get(shape, whole.getElementType()));
    insertAfter<AllGatherOp>(head.getLogits(), whole, tp);
    ++numCollectives;
    return success();
  }

  LogicalResult shardExperts(ExpertFfnOp experts, ShardBuilder& shards) {
    int64_t count = int64_t(experts.getGateProj().size());
    if (count % ep != 0)
      return experts.emitError() << "fathom-shard: " << count
                                 << " routed experts do not split over --ep " << int64_t(ep);
    int64_t local = count / ep;
    SmallVector<Attribute> gate, up, down;
    for (int64_t k = 0; k < local; ++k) {
      gate.push_back(shards.localExpert(experts.getGateProj(), k, ep));
      up.push_back(shards.localExpert(experts.getUpProj(), k, ep));
      down.push_back(shards.localExpert(experts.getDownProj(), k, ep));
    }
    Builder b(experts.getContext());
    auto first = cast<FlatSymbolRefAttr>(experts.getGateProj()[0]);
    experts.setExpertStartAttr(
        shards.start((first.getValue() + ".expert_start" + text(ep)).str(), ep, local));
    experts.setGateProjAttr(b.getArrayAttr(gate));
    experts.setUpProjAttr(b.getArrayAttr(up));
    experts.setDownProjAttr(b.getArrayAttr(down));
    insertAfter<AllReduceOp>(experts.getResult(), experts.getType(), ep);
    ++numCollectives;
    return success();
  }

  // add(all_reduce(a), all_reduce(b)) over one group is all_reduce(add(a, b)): the shared and
  // routed experts' partial sums of a MoE layer travel once.
  void shareAllReduces(func::FuncOp function) {
    SmallVector<AddOp> adds;
    function.walk([&](AddOp add) { adds.push_back(add); });
    for (AddOp add : adds) {
      auto lhs = add.getLhs().getDefiningOp<AllReduceOp>();
      auto rhs = add.getRhs().getDefiningOp<AllReduceOp>();
      if (!lhs || !rhs || lhs == rhs || lhs.getParts() != rhs.getParts() || !lhs->hasOneUse() ||
          !rhs->hasOneUse())
        continue;
      OpBuilder b(add);
      auto sum = AddOp::create(b, add.getLoc(), lhs.getInput(), rhs.getInput());
      auto reduced =
          AllReduceOp::create(b, add.getLoc(), add.getType(), sum.getResult(), lhs.getPartsAttr());
      add.getResult().replaceAllUsesWith(reduced.getResult());
      add.erase();
      lhs.erase();
      rhs.erase();
      --numCollectives;
    }
  }
};

} // namespace
} // namespace mlir::fathom
