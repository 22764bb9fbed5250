// DeepSeek MLA in HF's naive form (modeling_deepseek_v3 DeepseekV3Attention), one layer:
// q (through the q LoRA or q_proj), the compressed KV and its norm, kv_b_proj written straight
// into the cache, RoPE on the query's and the shared key's rope halves, causal attention over
// the cache, o_proj. Every op rounds to the activation dtype where HF's does.
#include "ExecutionContext.h"

#include "fathom/cpu/Attention.h"
#include "fathom/cpu/Elementwise.h"
#include "fathom/cpu/Rope.h"
#include "fathom/executor/ProgramAbi.h"

namespace fathom::executor {
namespace abi = executor::abi;
namespace {

struct MlaShape {
  int64_t heads, nope, rope, v, kvLora, qLora;
  int64_t qkDim() const { return nope + rope; }
  int64_t kvWidth() const { return heads * (nope + v); }
};

MlaShape shapeOf(const ProgramCall& call) {
  const auto& i = call.ints;
  return {i[abi::kNumHeads], i[abi::kQkNopeHeadDim], i[abi::kQkRopeHeadDim],
          i[abi::kVHeadDim], i[abi::kKvLoraRank],    i[abi::kQLoraRank]};
}

cpu::RopeLayout ropeLayout(int64_t code) {
  switch (code) {
  case abi::kRopeHalfSplit:
    return cpu::RopeLayout::HalfSplit;
  case abi::kRopeInterleaved:
    return cpu::RopeLayout::Interleaved;
  case abi::kRopeComplexPairs:
    return cpu::RopeLayout::ComplexPairs;
  }
  throw Error("artifact: unknown RoPE layout code " + std::to_string(code));
}

cpu::RopeConfig ropeConfig(const ProgramCall& call) {
  cpu::RopeConfig config;
  config.dim = call.ints[abi::kQkRopeHeadDim];
  config.theta = call.floats[abi::kRopeTheta];
  config.yarn = call.ints[abi::kRopeYarn] != 0;
  config.factor = call.floats[abi::kRopeFactor];
  config.originalMaxPositions = double(call.ints[abi::kRopeOriginalMaxPositions]);
  config.betaFast = call.floats[abi::kRopeBetaFast];
  config.betaSlow = call.floats[abi::kRopeBetaSlow];
  config.attentionFactor = call.floats[abi::kRopeAttentionFactor];
  return config;
}

} // namespace

size_t mlaWorkspaceBytes(const ExecutionContext& context, const ProgramCall& call, int64_t rows) {
  MlaShape s = shapeOf(call);
  size_t act = dtypeSize(context.act);
  size_t elements = size_t(rows) * size_t(s.qLora + s.heads * s.qkDim() + s.kvLora + s.rope +
                                          s.kvLora + s.heads * s.v);
  size_t tables = 2 * size_t(rows) * size_t(s.rope / 2) * 4;
  return elements * act + tables + 16 * 64;
}

void runMlaAttention(ExecutionContext& context, const ProgramCall& call) {
  MlaShape s = shapeOf(call);
  const Step& step = context.step;
  const int64_t rows = step.rows();
  const DType act = context.act;
  const size_t actSize = dtypeSize(act);
  const auto& w = call.weights;
  Workspace& ws = context.workspace;
  BoundBuffer& in = context.buffer(call.inputs[0]);
  BoundBuffer& out = context.buffer(call.outputs[0]);
  LayerCache& cache = context.caches.at(size_t(call.ints[abi::kCacheSlot]));

  // Queries [rows, heads, nope + rope].
  std::byte* q = ws.take<std::byte>(rows * s.heads * s.qkDim() * int64_t(actSize));
  if (s.qLora > 0) {
    std::byte* qa = ws.take<std::byte>(rows * s.qLora * int64_t(actSize));
    runLinear(context, context.weight(w[abi::kQAProj]), context.optionalWeight(w[abi::kQAProjBias]),
              rows, act, in.data, in.rowElements, act, qa, s.qLora);
    const BoundWeight& norm = context.weight(w[abi::kQALayernorm]);
    cpu::rmsNorm(*context.pool, act, qa, s.qLora, norm.type, norm.data,
                 float(call.floats[abi::kLoraNormEps]), rows, s.qLora, qa, s.qLora);
    runLinear(context, context.weight(w[abi::kQBProj]), nullptr, rows, act, qa, s.qLora, act, q,
              s.heads * s.qkDim());
  } else {
    runLinear(context, context.weight(w[abi::kQProj]), nullptr, rows, act, in.data, in.rowElements,
              act, q, s.heads * s.qkDim());
  }

  // Compressed KV [rows, kvLora | rope], its norm, and kv_b_proj into the cache.
  const int64_t kvaWidth = s.kvLora + s.rope;
  std::byte* kva = ws.take<std::byte>(rows * kvaWidth * int64_t(actSize));
  runLinear(context, context.weight(w[abi::kKvAProj]), context.optionalWeight(w[abi::kKvAProjBias]),
            rows, act, in.data, in.rowElements, act, kva, kvaWidth);
  std::byte* kvNormed = ws.take<std::byte>(rows * s.kvLora * int64_t(actSize));
  const BoundWeight& kvNorm = context.weight(w[abi::kKvALayernorm]);
  cpu::rmsNorm(*context.pool, act, kva, kvaWidth, kvNorm.type, kvNorm.data,
               float(call.floats[abi::kLoraNormEps]), rows, s.kvLora, kvNormed, s.kvLora);
  const int64_t kvRowBytes = s.kvWidth() * int64_t(actSize);
  const int64_t ropeRowBytes = s.rope * int64_t(actSize);
  for (int64_t b = 0; b < step.batch; ++b) {
    std::byte* destination = cache.kv.data() + (b * context.maxSeq + step.cacheOffset) * kvRowBytes;
    runLinear(context, context.weight(w[abi::kKvBProj]), nullptr, step.tokens, act,
              kvNormed + b * step.tokens * s.kvLora * int64_t(actSize), s.kvLora, act, destination,
              s.kvWidth());
  }

  // RoPE tables for this step's positions, then the query's and the key's rope halves.
  cpu::RopeLayout layout = ropeLayout(call.ints[abi::kRopeLayout]);
  DType tableType = layout == cpu::RopeLayout::ComplexPairs ? DType::F32 : act;
  size_t tableBytes = size_t(rows) * size_t(s.rope / 2) * dtypeSize(tableType);
  std::byte* cosTable = ws.take<std::byte>(int64_t(tableBytes));
  std::byte* sinTable = ws.take<std::byte>(int64_t(tableBytes));
  // Frequencies depend only on the config; computing them per call keeps the executor
  // stateless across layers and costs dim/2 values.
  cpu::RopeFrequencies frequencies = cpu::ropeFrequencies(ropeConfig(call));
  cpu::ropeTables(*context.pool, frequencies, step.positions, rows, tableType, cosTable, sinTable);

  cpu::RopeApplyArgs queryRope;
  queryRope.layout = layout;
  queryRope.type = act;
  queryRope.tokens = rows;
  queryRope.heads = s.heads;
  queryRope.dim = s.rope;
  queryRope.x = q + s.nope * int64_t(actSize);
  queryRope.xTokenStride = s.heads * s.qkDim();
  queryRope.xHeadStride = s.qkDim();
  queryRope.out = q + s.nope * int64_t(actSize);
  queryRope.outTokenStride = queryRope.xTokenStride;
  queryRope.outHeadStride = queryRope.xHeadStride;
  queryRope.tableType = tableType;
  queryRope.cos = cosTable;
  queryRope.sin = sinTable;
  cpu::applyRope(*context.pool, queryRope);

  size_t tableRowBytes = size_t(s.rope / 2) * dtypeSize(tableType);
  for (int64_t b = 0; b < step.batch; ++b) {
    cpu::RopeApplyArgs keyRope = queryRope;
    keyRope.tokens = step.tokens;
    keyRope.heads = 1;
    keyRope.x = kva + (b * step.tokens * kvaWidth + s.kvLora) * int64_t(actSize);
    keyRope.xTokenStride = kvaWidth;
    keyRope.xHeadStride = 0;
    keyRope.out = cache.rope.data() + (b * context.maxSeq + step.cacheOffset) * ropeRowBytes;
    keyRope.outTokenStride = s.rope;
    keyRope.outHeadStride = 0;
    keyRope.cos = cosTable + size_t(b * step.tokens) * tableRowBytes;
    keyRope.sin = sinTable + size_t(b * step.tokens) * tableRowBytes;
    cpu::applyRope(*context.pool, keyRope);
  }

  // Attention over the cache, then o_proj into the output buffer.
  std::byte* attended = ws.take<std::byte>(rows * s.heads * s.v * int64_t(actSize));
  cpu::AttentionArgs attention;
  attention.type = act;
  attention.batch = step.batch;
  attention.heads = s.heads;
  attention.queryLen = step.tokens;
  attention.keyLen = step.cacheOffset + step.tokens;
  attention.queryOffset = step.cacheOffset;
  attention.qkDim = s.qkDim();
  attention.keyDim = s.nope;
  attention.vDim = s.v;
  attention.q = {q, step.tokens * s.heads * s.qkDim(), s.heads * s.qkDim(), s.qkDim()};
  attention.k = {cache.kv.data(), context.maxSeq * s.kvWidth(), s.kvWidth(), s.nope + s.v};
  attention.kRope = {cache.rope.data(), context.maxSeq * s.rope, s.rope, 0};
  attention.v = {cache.kv.data() + s.nope * int64_t(actSize), context.maxSeq * s.kvWidth(),
                 s.kvWidth(), s.nope + s.v};
  attention.out = attended;
  attention.outBatchStride = step.tokens * s.heads * s.v;
  attention.outTokenStride = s.heads * s.v;
  attention.outHeadStride = s.v;
  attention.keyValid = context.keyValid.data();
  attention.keyValidBatchStride = context.maxSeq;
  attention.scale = float(call.floats[abi::kSoftmaxScale]);
  cpu::attention(*context.pool, attention, context.kernelScratch.span());

  runLinear(context, context.weight(w[abi::kOProj]), context.optionalWeight(w[abi::kOProjBias]),
            rows, act, attended, s.heads * s.v, out.type, out.data, out.rowElements);
}

} // namespace fathom::executor
