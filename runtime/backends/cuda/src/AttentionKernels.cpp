// The CUDA kernel table's attention entries: rope, attention, cache_append (operands checked
// as the CPU's entries check them; runtime/backends/cpu/src/backend/AttentionKernels.cpp).
#include "CudaKernel.h"
#include "Launch.h"

#include <optional>

namespace fathom::cuda {
namespace {

using Factory = std::unique_ptr<backend::Kernel>;

RopeLayout layoutOf(fb::RopeMode mode) {
  switch (mode) {
  case fb::RopeMode::RotateHalf:
    return RopeLayout::RotateHalf;
  case fb::RopeMode::Interleaved:
    return RopeLayout::Interleaved;
  case fb::RopeMode::Complex:
    return RopeLayout::Complex;
  case fb::RopeMode::ComplexHalves:
    return RopeLayout::ComplexHalves;
  }
  throw Error("cuda rope: unknown rope mode " + std::to_string(int(mode)));
}

struct Rotation {
  DeviceRope rope;
  DType tableType = DType::F32;
};

// A FusedRope's tables as a rotation of `dim` elements (positions bound per step).
Rotation rotationOf(const fb::FusedRope& fused, const std::vector<Weight>& weights, int64_t dim,
                    const char* kernel) {
  const Weight& cos = weightAt(weights, fused.cos(), kernel);
  const Weight& sin = weightAt(weights, fused.sin(), kernel);
  if (cos.shape.size() != 2 || cos.shape != sin.shape || cos.type != sin.type ||
      cos.shape[1] != dim / 2 || dim <= 0 || dim % 2 != 0 || dim > kMaxRopeDim)
    shapeError(kernel, "rope tables " + cos.name + " and " + sin.name +
                           " must both be [positions, " + std::to_string(dim / 2) +
                           "] for an even rotated width of at most " + std::to_string(kMaxRopeDim));
  Rotation r;
  r.rope.layout = layoutOf(fused.mode());
  r.rope.dim = dim;
  r.rope.cos = cos.data;
  r.rope.sin = sin.data;
  r.rope.tableRows = cos.shape[0];
  r.tableType = cos.type;
  return r;
}

// The tables' type must be the activation's (HF casts cos/sin), or F32 for the complex modes.
void checkTables(const Rotation& r, DType activation, const char* kernel) {
  const bool complex =
      r.rope.layout == RopeLayout::Complex || r.rope.layout == RopeLayout::ComplexHalves;
  if (r.tableType != (complex ? DType::F32 : activation))
    shapeError(kernel, std::string("cos/sin tables have dtype ") +
                           std::string(dtypeName(r.tableType)) + ", expected " +
                           (complex ? "F32 for the complex layouts" : "the activation dtype"));
}

// One i64 per (sequence, token) of `rows`.
void bindPositions(DeviceRope& rope, const Tensor& positions, int64_t batch, int64_t tokens,
                   const char* kernel) {
  if (positions.type != DType::I64 || positions.width() != 1 || positions.paged() ||
      positions.rows() != batch * tokens)
    shapeError(kernel, "the rope needs one i64 position per row");
  rope.positions = positions.as<int64_t>();
  rope.positionBatchStride = positions.batches > 1 ? positions.batchStride : tokens;
}

Factory rope(CudaResources& gpu, const fb::KernelCall& call, const std::vector<Weight>& weights,
             const PlanLimits&) {
  const auto* p = call.params_as_RopeCall();
  const fb::View& x = required(p->x(), "rope", "x");
  const fb::View& out = required(p->out(), "rope", "out");
  if (!p->rope() || !p->rope()->positions())
    shapeError("rope", "the call has no tables or positions");
  const fb::FusedRope& fused = *p->rope();
  const Rotation rotation = rotationOf(fused, weights, int64_t(x.head_dim()), "rope");
  return makeKernel([&gpu, &x, &out, &fused, rotation](const CallContext& c) {
    const Tensor in = c.tensor(x), result = c.tensor(out);
    if (result.rows() != in.rows() || result.heads != in.heads || result.headDim != in.headDim ||
        result.type != in.type || result.batches != in.batches)
      shapeError("rope", "out must have the rows, heads, head size and type of x");
    if (in.paged() || result.paged())
      shapeError("rope", "rotates rows of the step, not of a paged cache");
    requireActivation("rope", "x", in.type);
    checkTables(rotation, in.type, "rope");
    DeviceRope bound = rotation.rope;
    bindPositions(bound, c.tensor(*fused.positions()), in.batches, in.rowsPerBatch, "rope");
    if (c.planning())
      return;
    check(launchRope(in.type, deviceRows(in), deviceRows(result), bound, gpu.errorWord, gpu.stream),
          "rope");
  });
}

// Split-KV attention's scratch (Launch.h's SplitScratch): runs for twice the blocks that fill
// the GPU (a row splits only while the call has fewer rows than that).
void ensureSplitScratch(CudaResources& gpu) {
  if (gpu.splitMemory)
    return;
  const int64_t target = 2 * std::max(gpu.multiprocessors, 1), runs = 2 * target;
  gpu.splitMemory =
      std::make_shared<OwnedDeviceMemory>(splitScratchBytes(runs), "split attention scratch");
  gpu.split = carveSplitScratch(gpu.splitMemory->data, runs, target);
}

Factory attention(CudaResources& gpu, const fb::KernelCall& call,
                  const std::vector<Weight>& weights, const PlanLimits&) {
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
  std::optional<Rotation> rotation;
  const fb::View* positions = nullptr;
  if (const fb::FusedRope* fused = p->rope()) {
    if (!qRope || !fused->positions())
      shapeError(name, "a fused rope needs q_rope and positions");
    rotation = rotationOf(*fused, weights, int64_t(qRope->head_dim()), name);
    positions = fused->positions();
  }
  ensureSplitScratch(gpu);
  const float scale = p->scale();
  const bool causal = p->causal();
  return makeKernel([&gpu, &q, &k, &v, &mask, &out, qRope, kRope, start, rotation, positions, scale,
                     causal](const CallContext& c) {
    const Tensor qt = c.tensor(q), kt = c.tensor(k), vt = c.tensor(v), mt = c.tensor(mask),
                 ot = c.tensor(out);
    Attention a;
    a.kvType = kt.type;
    a.qType = qt.type;
    a.qRopeType = qt.type;
    a.outType = ot.type;
    a.batch = qt.batches;
    a.heads = qt.heads;
    a.queryLen = qt.rowsPerBatch;
    a.keyLen = kt.rowsPerBatch;
    a.keyDim = qt.headDim;
    a.valueDim = vt.headDim;
    a.q = deviceRows(qt);
    a.k = deviceRows(kt);
    a.v = deviceRows(vt);
    a.out = deviceRows(ot);
    a.kHeads = kt.heads;
    a.vHeads = vt.heads;
    a.kRopeHeads = 1;
    a.causal = causal;
    a.scale = scale;
    if (kt.headDim != qt.headDim || kt.batches != a.batch || vt.batches != a.batch ||
        ot.batches != a.batch || vt.type != kt.type)
      shapeError("attention", "k must match q's head size and k, v, out q's batch; v k's type");
    if (qRope) {
      const Tensor qr = c.tensor(*qRope), kr = c.tensor(*kRope);
      if (qr.heads != a.heads || qr.rowsPerBatch != a.queryLen || qr.batches != a.batch ||
          kr.headDim != qr.headDim || kr.rowsPerBatch != a.keyLen || kr.batches != a.batch ||
          kr.type != kt.type)
        shapeError("attention", "q_rope must match q, and k_rope k, in rows and heads");
      a.ropeDim = qr.headDim;
      a.qRope = deviceRows(qr);
      a.qRopeType = qr.type;
      a.kRope = deviceRows(kr);
      a.kRopeHeads = kr.heads;
    }
    if (a.keyDim + a.ropeDim > kMaxAttentionDim || a.valueDim > kMaxAttentionDim || a.keyDim < 1 ||
        a.valueDim < 1 || a.heads < 1 || a.keyLen < 1)
      shapeError("attention", "query/key width " + std::to_string(a.keyDim + a.ropeDim) +
                                  " and value width " + std::to_string(a.valueDim) +
                                  " must lie in [1, " + std::to_string(kMaxAttentionDim) + "]");
    for (int64_t operandHeads : {a.kHeads, a.kRopeHeads, a.vHeads})
      if (operandHeads < 1 || a.heads % operandHeads != 0)
        shapeError("attention", "key/value head counts must divide the " + std::to_string(a.heads) +
                                    " query heads");
    for (DType type : {a.qType, a.qRopeType, a.outType, a.kvType})
      requireActivation("attention", "an operand", type);
    if (rotation) {
      if (rotation->rope.dim != a.ropeDim)
        shapeError("attention", "the query rotation's dim must be the rope part");
      checkTables(*rotation, a.qRopeType, "attention");
      a.rotateQuery = true;
      a.rope = rotation->rope;
      bindPositions(a.rope, c.tensor(*positions), a.batch, a.queryLen, "attention");
    }
    if (start) {
      const Tensor startT = c.tensor(*start);
      if (startT.type != DType::I64 || startT.rows() != a.batch || startT.width() != 1 ||
          !startT.packed())
        shapeError("attention", "query_start must be one i64 per sequence");
      a.queryStart = startT.as<int64_t>();
    } else if (a.queryLen > a.keyLen) {
      shapeError("attention", "the " + std::to_string(a.queryLen) + " queries outnumber the " +
                                  std::to_string(a.keyLen) + " keys");
    }
    if (mt.type != DType::Bool || mt.rowsPerBatch != a.keyLen || mt.batches != a.batch ||
        vt.rowsPerBatch != a.keyLen || ot.rowsPerBatch != a.queryLen || ot.heads != a.heads ||
        ot.headDim != a.valueDim || mt.paged())
      shapeError("attention", "operands disagree on batch, lengths or heads");
    a.keyValid = mt.as<uint8_t>();
    a.keyValidBatchStride = mt.batchStride;
    if (c.planning())
      return;
    check(launchAttention(a, gpu.errorWord, gpu.stream, gpu.split), "attention");
  });
}

Factory cacheAppend(CudaResources& gpu, const fb::KernelCall& call,
                    const std::vector<Weight>& weights, const PlanLimits&) {
  const auto* p = call.params_as_CacheAppendCall();
  const char* name = "cache_append";
  const fb::View& cache = required(p->cache(), name, "cache");
  const fb::View& start = required(p->cache_start(), name, "cache_start");
  if (!p->pieces() || p->pieces()->size() == 0 || p->pieces()->size() > size_t(kMaxCachePieces))
    shapeError(name, "the call needs 1 to " + std::to_string(kMaxCachePieces) + " pieces");
  std::vector<const fb::View*> pieces(p->pieces()->begin(), p->pieces()->end());
  const int32_t ropePiece = p->rope_piece();
  std::optional<Rotation> rotation;
  const fb::View* positions = nullptr;
  if (const fb::FusedRope* fused = p->rope()) {
    if (ropePiece < 0 || size_t(ropePiece) >= pieces.size() || !fused->positions())
      shapeError(name, "a fused rope needs a valid rope_piece and positions");
    rotation = rotationOf(*fused, weights, int64_t(pieces[size_t(ropePiece)]->head_dim()), name);
    positions = fused->positions();
  }
  return makeKernel([&gpu, &cache, &start, pieces, ropePiece, rotation,
                     positions](const CallContext& c) {
    const Tensor cacheT = c.tensor(cache), startT = c.tensor(start);
    CacheAppend a;
    a.type = cacheT.type;
    a.pieces = int(pieces.size());
    int64_t width = 0;
    for (size_t i = 0; i < pieces.size(); ++i) {
      const Tensor piece = c.tensor(*pieces[i]);
      a.piece[i] = deviceRows(piece);
      width += piece.width();
      if (piece.batches != cacheT.batches || piece.rowsPerBatch != a.piece[0].rowsPerBatch ||
          piece.type != cacheT.type || !piece.contiguousRows() || piece.paged())
        shapeError("cache_append", "pieces must share the cache's type and the first piece's rows");
    }
    if (width != cacheT.width() || startT.type != DType::I64 || startT.rows() != cacheT.batches ||
        startT.width() != 1 || !startT.packed() || !cacheT.contiguousRows())
      shapeError("cache_append", "pieces must fill a cache row and cache_start hold one i64 per "
                                 "sequence");
    requireActivation("cache_append", "the cache", cacheT.type);
    a.cache = deviceRows(cacheT);
    a.starts = startT.as<int64_t>();
    a.capacity = cacheT.capacityPerBatch;
    if (rotation) {
      if (a.piece[ropePiece].width() != rotation->rope.dim)
        shapeError("cache_append", "the rotated piece must be one rope-wide row");
      checkTables(*rotation, cacheT.type, "cache_append");
      a.ropePiece = ropePiece;
      a.rope = rotation->rope;
      bindPositions(a.rope, c.tensor(*positions), cacheT.batches, a.piece[0].rowsPerBatch,
                    "cache_append");
    }
    if (c.planning())
      return;
    check(launchCacheAppend(a, gpu.errorWord, gpu.stream), "cache_append");
  });
}

} // namespace

void addAttentionKernels(KernelFactory* table) {
  table[size_t(fb::KernelParams::RopeCall)] = rope;
  table[size_t(fb::KernelParams::AttentionCall)] = attention;
  table[size_t(fb::KernelParams::CacheAppendCall)] = cacheAppend;
}

} // namespace fathom::cuda
