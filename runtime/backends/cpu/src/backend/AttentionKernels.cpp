// The CPU kernel table's attention entries: rope, attention, cache_append.
#include "CpuKernel.h"

#include "../RopeRow.h"
#include "fathom/cpu/Attention.h"
#include "fathom/cpu/Rope.h"

#include <cstring>

namespace fathom::cpu {
namespace {

using Factory = std::unique_ptr<backend::Kernel>;

RopeLayout layoutOf(fb::RopeMode mode) {
  switch (mode) {
  case fb::RopeMode::RotateHalf:
    return RopeLayout::HalfSplit;
  case fb::RopeMode::Interleaved:
    return RopeLayout::Interleaved;
  case fb::RopeMode::Complex:
    return RopeLayout::ComplexPairs;
  case fb::RopeMode::ComplexHalves:
    return RopeLayout::ComplexHalves;
  }
  throw Error("cpu rope: unknown rope mode " + std::to_string(int(mode)));
}

// A FusedRope's tables as a rotation of `dim` elements.
RopeRotation rotationOf(const fb::FusedRope& rope, const std::vector<Weight>& weights, int64_t dim,
                        const char* kernel) {
  const Weight& cos = weightAt(weights, rope.cos(), kernel);
  const Weight& sin = weightAt(weights, rope.sin(), kernel);
  if (cos.shape.size() != 2 || cos.shape != sin.shape || cos.type != sin.type ||
      cos.shape[1] != dim / 2)
    shapeError(kernel, "rope tables " + cos.name + " and " + sin.name +
                           " must both be [positions, " + std::to_string(dim / 2) + "]");
  return {layoutOf(rope.mode()), dim, cos.type, cos.data, sin.data, 0, cos.shape[0]};
}

AttentionOperand operandOf(const Tensor& t) {
  return {t.data,       t.batchStride, t.rowStride,     t.headStride,
          t.blockTable, t.blockRows,   t.blocksPerBatch};
}

Factory rope(CpuResources& cpu, const fb::KernelCall& call, const std::vector<Weight>& weights,
             const PlanLimits&) {
  const auto* p = call.params_as_RopeCall();
  const fb::View& x = required(p->x(), "rope", "x");
  const fb::View& out = required(p->out(), "rope", "out");
  if (!p->rope() || !p->rope()->positions())
    shapeError("rope", "the call has no tables or positions");
  const fb::FusedRope& fused = *p->rope();
  RopeRotation rotation = rotationOf(fused, weights, int64_t(x.head_dim()), "rope");
  return makeKernel([&cpu, &x, &out, &fused, rotation](const CallContext& c) {
    Tensor in = c.tensor(x), result = c.tensor(out), positions = c.tensor(*fused.positions());
    if (positions.type != DType::I64 || positions.rows() != in.rows() || positions.width() != 1 ||
        result.rows() != in.rows() || !positions.packed())
      shapeError("rope", "needs one i64 position per row");
    if (result.heads != in.heads || result.headDim != in.headDim || result.type != in.type ||
        result.batches != in.batches)
      shapeError("rope", "out must have the heads, head size and type of x");
    if (in.paged() || result.paged())
      shapeError("rope", "rotates rows of the step, not of a paged cache");
    if (c.planning())
      return;
    for (int64_t g = 0; g < (in.packed() && result.packed() ? 1 : in.batches); ++g) {
      bool whole = in.packed() && result.packed();
      RopeApplyArgs args;
      args.layout = rotation.layout;
      args.type = in.type;
      args.tokens = whole ? in.rows() : in.rowsPerBatch;
      args.heads = in.heads;
      args.dim = in.headDim;
      args.x = in.row(g, 0);
      args.xTokenStride = in.rowStride;
      args.xHeadStride = in.headStride;
      args.out = result.row(g, 0);
      args.outTokenStride = result.rowStride;
      args.outHeadStride = result.headStride;
      args.tableType = rotation.tableType;
      args.cos = rotation.cos;
      args.sin = rotation.sin;
      args.tableRows = rotation.tableRows;
      args.positionRows = positions.as<int64_t>() + (whole ? 0 : g * in.rowsPerBatch);
      applyRope(*cpu.pool, args);
    }
  });
}

Factory attentionKernel(CpuResources& cpu, const fb::KernelCall& call,
                        const std::vector<Weight>& weights, const PlanLimits& limits) {
  const auto* p = call.params_as_AttentionCall();
  const char* name = "attention";
  const fb::View& q = required(p->q(), name, "q");
  const fb::View& k = required(p->k(), name, "k");
  const fb::View& v = required(p->v(), name, "v");
  const fb::View& mask = required(p->key_mask(), name, "key_mask");
  const fb::View& out = required(p->out(), name, "out");
  const fb::View* qRope = p->q_rope();
  const fb::View* kRope = p->k_rope();
  const fb::View* start = p->query_start();
  if (bool(qRope) != bool(kRope))
    shapeError(name, "q_rope and k_rope come together");
  std::optional<RopeRotation> rotation;
  const fb::View* positions = nullptr;
  if (const fb::FusedRope* fused = p->rope()) {
    if (!qRope || !fused->positions())
      shapeError(name, "a fused rope needs q_rope and positions");
    rotation = rotationOf(*fused, weights, int64_t(qRope->head_dim()), name);
    positions = fused->positions();
  }
  AttentionArgs largest; // the biggest call of this entry point, in the widest dtype
  largest.type = DType::F32;
  largest.queryLen = limits.maxTokens;
  largest.keyLen = limits.maxSeqLen;
  largest.keyDim = int64_t(q.head_dim());
  largest.qkDim = largest.keyDim + (qRope ? int64_t(qRope->head_dim()) : 0);
  largest.vDim = int64_t(v.head_dim());
  cpu.reserveScratch(attentionScratchBytes(largest, *cpu.pool));
  float scale = p->scale();
  bool causal = p->causal();
  return makeKernel([&cpu, &q, &k, &v, &mask, &out, qRope, kRope, start, rotation, positions, scale,
                     causal, copy = std::vector<int64_t>()](const CallContext& c) mutable {
    Tensor qt = c.tensor(q), kt = c.tensor(k), vt = c.tensor(v), mt = c.tensor(mask);
    Tensor ot = c.tensor(out);
    AttentionArgs a;
    a.type = kt.type;
    a.qType = qt.type;
    a.outType = ot.type;
    a.batch = qt.batches;
    a.heads = qt.heads;
    a.queryLen = qt.rowsPerBatch;
    a.keyLen = kt.rowsPerBatch;
    a.queryOffset = a.keyLen - a.queryLen;
    a.causal = causal;
    a.keyDim = qt.headDim;
    a.qkDim = qt.headDim;
    a.vDim = vt.headDim;
    a.q = operandOf(qt);
    a.k = operandOf(kt);
    a.v = operandOf(vt);
    a.kHeads = kt.heads;
    a.vHeads = vt.heads;
    if (qRope) {
      Tensor qr = c.tensor(*qRope), kr = c.tensor(*kRope);
      a.qkDim += qr.headDim;
      a.qRope = operandOf(qr);
      a.qRopeType = qr.type;
      a.kRope = operandOf(kr);
      a.kRopeHeads = kr.heads;
    }
    if (kt.headDim != qt.headDim || kt.batches != a.batch || vt.batches != a.batch ||
        ot.batches != a.batch || vt.type != kt.type)
      shapeError("attention", "k must match q's head size and k, v, out q's batch; v k's type");
    if (qRope) {
      Tensor qr = c.tensor(*qRope), kr = c.tensor(*kRope);
      if (qr.heads != a.heads || qr.rowsPerBatch != a.queryLen || qr.batches != a.batch ||
          kr.headDim != qr.headDim || kr.rowsPerBatch != a.keyLen || kr.batches != a.batch ||
          kr.type != kt.type)
        shapeError("attention", "q_rope must match q, and k_rope k, in rows and heads");
    }
    Tensor positionsT;
    if (rotation) {
      positionsT = c.tensor(*positions);
      if (positionsT.type != DType::I64 || positionsT.width() != 1 ||
          positionsT.rows() != a.batch * a.queryLen)
        shapeError("attention", "the fused rope needs one i64 position per query");
      a.qRopeRotation = &*rotation;
      a.positions = positionsT.as<int64_t>();
      a.positionBatchStride = positionsT.batchStride;
    }
    Tensor startT;
    if (start) {
      startT = c.tensor(*start);
      if (startT.type != DType::I64 || startT.rows() != a.batch || startT.width() != 1)
        shapeError("attention", "query_start must be one i64 per sequence");
      a.queryStart = c.planning() ? nullptr : snapshot(copy, startT);
    }
    if (mt.type != DType::Bool || mt.rowsPerBatch != a.keyLen || mt.batches != a.batch ||
        vt.rowsPerBatch != a.keyLen || ot.rowsPerBatch != a.queryLen || ot.heads != a.heads ||
        ot.headDim != a.vDim)
      shapeError("attention", "operands disagree on batch, lengths or heads");
    a.out = ot.data;
    a.outBatchStride = ot.batchStride;
    a.outTokenStride = ot.rowStride;
    a.outHeadStride = ot.headStride;
    a.keyValid = mt.as<uint8_t>();
    a.keyValidBatchStride = mt.batchStride;
    a.scale = scale;
    if (c.planning()) {
      checkAttention(a, /*withData=*/false);
      return;
    }
    attention(*cpu.pool, a, cpu.scratch->span());
  });
}

// Writes each sequence's new rows at its cache_start, pieces side by side, rotating one piece.
Factory cacheAppend(CpuResources& cpu, const fb::KernelCall& call,
                    const std::vector<Weight>& weights, const PlanLimits&) {
  const auto* p = call.params_as_CacheAppendCall();
  const char* name = "cache_append";
  const fb::View& cache = required(p->cache(), name, "cache");
  const fb::View& start = required(p->cache_start(), name, "cache_start");
  if (!p->pieces() || p->pieces()->size() == 0)
    shapeError(name, "the call has no pieces");
  std::vector<const fb::View*> pieces(p->pieces()->begin(), p->pieces()->end());
  int32_t ropePiece = p->rope_piece();
  std::optional<RopeRotation> rotation;
  const fb::View* positions = nullptr;
  if (const fb::FusedRope* fused = p->rope()) {
    if (ropePiece < 0 || size_t(ropePiece) >= pieces.size() || !fused->positions())
      shapeError(name, "a fused rope needs a valid rope_piece and positions");
    rotation = rotationOf(*fused, weights, int64_t(pieces[size_t(ropePiece)]->head_dim()), name);
    positions = fused->positions();
  }
  return makeKernel([&cpu, &cache, &start, pieces, ropePiece, rotation, positions,
                     copy = std::vector<int64_t>()](const CallContext& c) mutable {
    Tensor cacheT = c.tensor(cache), startT = c.tensor(start);
    std::vector<Tensor> in;
    int64_t width = 0;
    for (const fb::View* piece : pieces) {
      in.push_back(c.tensor(*piece));
      width += in.back().width();
    }
    int64_t batch = in.front().batches, tokens = in.front().rowsPerBatch;
    if (width != cacheT.width() || startT.type != DType::I64 || startT.rows() != batch ||
        startT.width() != 1 || !cacheT.contiguousRows() || cacheT.batches != batch)
      shapeError("cache_append", "pieces must fill a cache row and cache_start hold one i64 per "
                                 "sequence");
    for (const Tensor& piece : in)
      if (piece.batches != batch || piece.rowsPerBatch != tokens || piece.type != cacheT.type ||
          !piece.contiguousRows())
        shapeError("cache_append", "pieces must share the cache's type and the first piece's rows");
    if (cacheT.type != DType::F32 && cacheT.type != DType::BF16)
      shapeError("cache_append", "caches hold F32 or BF16");
    if (rotation) {
      Tensor positionsT = c.tensor(*positions);
      if (positionsT.type != DType::I64 || positionsT.width() != 1 ||
          positionsT.rows() != batch * tokens)
        shapeError("cache_append", "the fused rope needs one i64 position per row");
      if (in[size_t(ropePiece)].width() != rotation->dim)
        shapeError("cache_append", "the rotated piece must be one rope-wide row");
    }
    if (c.planning())
      return;
    const int64_t* starts = snapshot(copy, startT);
    for (int64_t b = 0; b < batch; ++b)
      if (starts[b] < 0 || starts[b] + tokens > cacheT.capacityPerBatch)
        throw Error("the KV cache is full: sequence " + std::to_string(b) + " would hold " +
                    std::to_string(starts[b] + tokens) +
                    " tokens, the artifact's max sequence "
                    "length is " +
                    std::to_string(cacheT.capacityPerBatch) + " (recompile with --max-seq-len)");
    Tensor positionsT = rotation ? c.tensor(*positions) : Tensor{};
    size_t element = dtypeSize(cacheT.type);
    cpu.pool->parallelFor(0, batch * tokens, 16, [&](int64_t first, int64_t last) {
      for (int64_t r = first; r < last; ++r) {
        int64_t b = r / tokens, t = r % tokens;
        std::byte* to = cacheT.row(b, starts[b] + t);
        for (size_t i = 0; i < in.size(); ++i) {
          const Tensor& piece = in[i];
          if (int32_t(i) == ropePiece && rotation) {
            int64_t position = positionsT.as<int64_t>()[b * positionsT.batchStride + t];
            if (cacheT.type == DType::BF16)
              detail::rotateRow(*rotation, position,
                                reinterpret_cast<const uint16_t*>(piece.row(b, t)),
                                reinterpret_cast<uint16_t*>(to));
            else
              detail::rotateRow(*rotation, position,
                                reinterpret_cast<const float*>(piece.row(b, t)),
                                reinterpret_cast<float*>(to));
          } else {
            std::memcpy(to, piece.row(b, t), size_t(piece.width()) * element);
          }
          to += size_t(piece.width()) * element;
        }
      }
    });
  });
}

} // namespace

void addAttentionKernels(KernelFactory* table) {
  table[size_t(fb::KernelParams::RopeCall)] = rope;
  table[size_t(fb::KernelParams::AttentionCall)] = attentionKernel;
  table[size_t(fb::KernelParams::CacheAppendCall)] = cacheAppend;
}

} // namespace fathom::cpu
