// The CPU kernel table's dense entries: embedding, rms_norm, add_rms_norm, linear, head_matmul,
// add, silu_mul, copy, select_rows, last_token_rows.
#include "CpuKernel.h"

#include "fathom/cpu/Elementwise.h"

#include <cstring>

namespace fathom::cpu {
namespace {

using Factory = std::unique_ptr<backend::Kernel>;

// Same rows, width and element type: the elementwise kernels read every operand as one type.
void requireSameRows(const char* name, const Tensor& a, const Tensor& b) {
  if (a.rows() != b.rows() || a.width() != b.width())
    shapeError(name, "operands of " + std::to_string(a.rows()) + "x" + std::to_string(a.width()) +
                         " and " + std::to_string(b.rows()) + "x" + std::to_string(b.width()) +
                         " differ");
  if (a.type != b.type)
    shapeError(name, "operands of types " + std::string(dtypeName(a.type)) + " and " +
                         std::string(dtypeName(b.type)) + " differ");
}

// What rms_norm and add_rms_norm need of their call: a positive epsilon and a vector weight.
void checkNormParams(const char* kernel, float epsilon, const Weight& weight) {
  if (!(epsilon > 0.0f) || weight.shape.size() != 1)
    shapeError(kernel, "needs a positive epsilon and a vector weight, got " + weight.name);
}

void reserveLinearScratch(CpuResources& cpu) {
  LinearArgs large;
  large.rows = kRowwiseMaxRows + 1;
  cpu.reserveScratch(linearScratchBytes(large, *cpu.pool));
}

Factory embedding(CpuResources& cpu, const fb::KernelCall& call, const std::vector<Weight>& weights,
                  const PlanLimits&) {
  const auto* p = call.params_as_EmbeddingCall();
  const Weight& table = weightAt(weights, p->table(), "embedding");
  const fb::View& ids = required(p->ids(), "embedding", "ids");
  const fb::View& out = required(p->out(), "embedding", "out");
  if (table.shape.size() != 2)
    shapeError("embedding", "table " + table.name + " is not a matrix");
  int64_t firstId = 0, vocabulary = table.shape[0];
  if (p->vocab_start() >= 0) {
    firstId = shardStart(weightAt(weights, p->vocab_start(), "embedding"), "embedding");
    vocabulary = p->vocab_size();
    if (firstId < 0 || vocabulary < table.shape[0] || firstId > vocabulary - table.shape[0])
      shapeError("embedding", "a vocabulary shard of " + std::to_string(table.shape[0]) +
                                  " rows from id " + std::to_string(firstId) +
                                  " does not lie in a vocabulary of " + std::to_string(vocabulary));
  }
  return makeKernel([&cpu, &table, &ids, &out, firstId, vocabulary,
                     copy = std::vector<int64_t>()](const CallContext& c) mutable {
    Tensor idsT = c.tensor(ids), outT = c.tensor(out);
    if (idsT.type != DType::I64 || !idsT.packed() || idsT.width() != 1 || !outT.packed() ||
        outT.rowStride != table.shape[1] || outT.width() != table.shape[1] ||
        outT.rows() != idsT.rows())
      shapeError("embedding", "ids must be packed i64 rows and out packed rows of the table width");
    if (c.planning())
      return;
    cpu::embedding(*cpu.pool, table.type, table.data, table.shape[0], table.shape[1],
                   snapshot(copy, idsT), idsT.rows(), outT.type, outT.data, firstId, vocabulary);
  });
}

Factory rmsNorm(CpuResources& cpu, const fb::KernelCall& call, const std::vector<Weight>& weights,
                const PlanLimits&) {
  const auto* p = call.params_as_RmsNormCall();
  const Weight& weight = weightAt(weights, p->weight(), "rms_norm");
  const fb::View& x = required(p->x(), "rms_norm", "x");
  const fb::View& out = required(p->out(), "rms_norm", "out");
  const float epsilon = p->epsilon();
  checkNormParams("rms_norm", epsilon, weight);
  return makeKernel([&cpu, &weight, &x, &out, epsilon](const CallContext& c) {
    Tensor in = c.tensor(x), result = c.tensor(out);
    requireSameRows("rms_norm", in, result);
    if (in.width() != weight.shape[0] || !in.contiguousRows() || !result.contiguousRows())
      shapeError("rms_norm",
                 "rows of " + std::to_string(in.width()) + " do not fit weight " + weight.name);
    if (c.planning())
      return;
    forEachRun(in, result, [&](std::byte* a, std::byte* b, int64_t rows) {
      cpu::rmsNorm(*cpu.pool, in.type, a, in.rowStride, weight.type, weight.data, epsilon, rows,
                   in.width(), b, result.rowStride);
    });
  });
}

Factory addRmsNormKernel(CpuResources& cpu, const fb::KernelCall& call,
                         const std::vector<Weight>& weights, const PlanLimits&) {
  const auto* p = call.params_as_AddRmsNormCall();
  const Weight& weight = weightAt(weights, p->weight(), "add_rms_norm");
  const fb::View& a = required(p->a(), "add_rms_norm", "a");
  const fb::View& b = required(p->b(), "add_rms_norm", "b");
  const fb::View& sum = required(p->sum(), "add_rms_norm", "sum");
  const fb::View& out = required(p->out(), "add_rms_norm", "out");
  const float epsilon = p->epsilon();
  checkNormParams("add_rms_norm", epsilon, weight);
  return makeKernel([&cpu, &weight, &a, &b, &sum, &out, epsilon](const CallContext& c) {
    const Tensor x = c.tensor(a), y = c.tensor(b), s = c.tensor(sum), result = c.tensor(out);
    for (const Tensor* t : {&y, &s, &result})
      requireSameRows("add_rms_norm", x, *t);
    if (x.width() != weight.shape[0])
      shapeError("add_rms_norm",
                 "rows of " + std::to_string(x.width()) + " do not fit weight " + weight.name);
    for (const Tensor* t : {&x, &y, &s, &result})
      if (!t->contiguousRows())
        shapeError("add_rms_norm", "operands must be rows of back-to-back heads");
    if (c.planning())
      return;
    auto run = [&](int64_t g, int64_t r, int64_t rows) {
      cpu::addRmsNorm(*cpu.pool, x.type, x.row(g, r), x.rowStride, y.row(g, r), y.rowStride,
                      weight.type, weight.data, epsilon, rows, x.width(), s.row(g, r), s.rowStride,
                      result.row(g, r), result.rowStride);
    };
    if (x.packed() && y.packed() && s.packed() && result.packed())
      return run(0, 0, x.rows());
    for (int64_t g = 0; g < x.batches; ++g)
      for (int64_t r = 0; r < x.rowsPerBatch; ++r)
        run(g, r, 1);
  });
}

Factory linearKernel(CpuResources& cpu, const fb::KernelCall& call,
                     const std::vector<Weight>& weights, const PlanLimits&) {
  const auto* p = call.params_as_LinearCall();
  const Weight& weight = weightAt(weights, p->weight(), "linear");
  const Weight* bias = optionalWeightAt(weights, p->bias(), "linear");
  const fb::View& x = required(p->x(), "linear", "x");
  const fb::View& out = required(p->out(), "linear", "out");
  if (p->fp8_activations())
    shapeError("linear", "weight " + weight.name +
                             " is called with FP8 activations (kernel linear_fp8), which needs a "
                             "target with FP8 math; the CPU has none (compile with --target cpu)");
  reserveLinearScratch(cpu);
  if (weight.shape.size() != 2 ||
      (bias && (bias->shape != std::vector<int64_t>{weight.shape[0]} ||
                (bias->type != DType::F32 && bias->type != DType::BF16))))
    shapeError("linear", "weight " + weight.name +
                             " must be a matrix and its bias one f32 or bf16 value per output");
  return makeKernel([&cpu, &weight, bias, &x, &out](const CallContext& c) {
    Tensor in = c.tensor(x), result = c.tensor(out);
    checkLinearRows(weight, in, result);
    if (c.planning())
      return;
    linearRows(*cpu.pool, cpu.scratch->span(), weight, bias, in, result);
  });
}

// One projection per head; the heads share the pool (a GEMM inside a head runs on its thread).
Factory headMatmul(CpuResources& cpu, const fb::KernelCall& call,
                   const std::vector<Weight>& weights, const PlanLimits&) {
  const auto* p = call.params_as_HeadMatmulCall();
  const Weight& weight = weightAt(weights, p->weight(), "head_matmul");
  const fb::View& x = required(p->x(), "head_matmul", "x");
  const fb::View& out = required(p->out(), "head_matmul", "out");
  if (weight.shape.size() != 3)
    shapeError("head_matmul", "weight " + weight.name + " must be [heads, out, in]");
  reserveLinearScratch(cpu);
  return makeKernel([&cpu, &weight, &x, &out](const CallContext& c) {
    Tensor in = c.tensor(x), result = c.tensor(out);
    int64_t heads = weight.shape[0], outDim = weight.shape[1], inDim = weight.shape[2];
    if (in.heads != heads || result.heads != heads || in.headDim != inDim ||
        result.headDim != outDim || in.rows() != result.rows())
      shapeError("head_matmul", "operands do not match weight " + weight.name);
    if (c.planning())
      return;
    size_t headBytes = size_t(outDim * inDim) * dtypeSize(weight.type);
    forEachRun(in, result, [&](std::byte* a, std::byte* b, int64_t rows) {
      cpu.pool->parallelFor(0, heads, 1, [&](int64_t first, int64_t last) {
        for (int64_t h = first; h < last; ++h) {
          LinearArgs args;
          args.rows = rows;
          args.inFeatures = inDim;
          args.outFeatures = outDim;
          args.xType = in.type;
          args.x = a + h * in.headStride * int64_t(dtypeSize(in.type));
          args.ldx = in.rowStride;
          args.wType = weight.type;
          args.w = static_cast<const std::byte*>(weight.data) + size_t(h) * headBytes;
          args.yType = result.type;
          args.y = b + h * result.headStride * int64_t(dtypeSize(result.type));
          args.ldy = result.rowStride;
          linear(args, *cpu.pool, cpu.scratch->span());
        }
      });
    });
  });
}

Factory addKernel(CpuResources& cpu, const fb::KernelCall& call, const std::vector<Weight>&,
                  const PlanLimits&) {
  const auto* p = call.params_as_AddCall();
  const fb::View& a = required(p->a(), "add", "a");
  const fb::View& b = required(p->b(), "add", "b");
  const fb::View& out = required(p->out(), "add", "out");
  return makeKernel([&cpu, &a, &b, &out](const CallContext& c) {
    Tensor x = c.tensor(a), y = c.tensor(b), z = c.tensor(out);
    requireSameRows("add", x, y);
    requireSameRows("add", x, z);
    if (!x.contiguousRows() || !y.contiguousRows() || !z.contiguousRows())
      shapeError("add", "operands must be rows of back-to-back heads");
    if (c.planning())
      return;
    bool contiguous = x.packed() && y.packed() && z.packed() && x.rowStride == x.width() &&
                      y.rowStride == y.width() && z.rowStride == z.width();
    if (contiguous) {
      cpu::add(*cpu.pool, x.type, x.data, y.data, z.data, x.rows() * x.width());
      return;
    }
    for (int64_t g = 0; g < x.batches; ++g)
      for (int64_t r = 0; r < x.rowsPerBatch; ++r)
        cpu::add(*cpu.pool, x.type, x.row(g, r), y.row(g, r), z.row(g, r), x.width());
  });
}

Factory siluMulKernel(CpuResources& cpu, const fb::KernelCall& call, const std::vector<Weight>&,
                      const PlanLimits&) {
  const auto* p = call.params_as_SiluMulCall();
  const fb::View& gate = required(p->gate(), "silu_mul", "gate");
  const fb::View& up = required(p->up(), "silu_mul", "up");
  const fb::View& out = required(p->out(), "silu_mul", "out");
  return makeKernel([&cpu, &gate, &up, &out](const CallContext& c) {
    Tensor g = c.tensor(gate), u = c.tensor(up), o = c.tensor(out);
    requireSameRows("silu_mul", g, u);
    requireSameRows("silu_mul", g, o);
    if (!g.packed() || !u.packed() || !o.packed() || !g.contiguousRows() || !u.contiguousRows() ||
        !o.contiguousRows())
      shapeError("silu_mul", "operands must be packed rows");
    if (c.planning())
      return;
    cpu::siluMul(*cpu.pool, g.type, g.data, g.rowStride, u.data, u.rowStride, g.rows(), g.width(),
                 o.data, o.rowStride);
  });
}

// Copies heads into packed rows (merge_heads of strided heads).
Factory copyKernel(CpuResources&, const fb::KernelCall& call, const std::vector<Weight>&,
                   const PlanLimits&) {
  const auto* p = call.params_as_CopyCall();
  const fb::View& x = required(p->x(), "copy", "x");
  const fb::View& out = required(p->out(), "copy", "out");
  return makeKernel([&x, &out](const CallContext& c) {
    Tensor in = c.tensor(x), result = c.tensor(out);
    requireSameRows("copy", in, result);
    if (c.planning())
      return;
    size_t element = dtypeSize(in.type);
    for (int64_t g = 0; g < in.batches; ++g)
      for (int64_t r = 0; r < in.rowsPerBatch; ++r) {
        std::byte* to = result.row(g, r);
        for (int64_t h = 0; h < in.heads; ++h)
          std::memcpy(to + size_t(h * in.headDim) * element,
                      in.row(g, r) + size_t(h * in.headStride) * element,
                      size_t(in.headDim) * element);
      }
  });
}

// out[i] = x[rows[i]] with rows flat indices b * tokens + t.
Factory selectRows(CpuResources&, const fb::KernelCall& call, const std::vector<Weight>&,
                   const PlanLimits&) {
  const auto* p = call.params_as_SelectRowsCall();
  const fb::View& x = required(p->x(), "select_rows", "x");
  const fb::View& rows = required(p->rows(), "select_rows", "rows");
  const fb::View& out = required(p->out(), "select_rows", "out");
  return makeKernel([&x, &rows, &out](const CallContext& c) {
    Tensor in = c.tensor(x), index = c.tensor(rows), result = c.tensor(out);
    if (index.type != DType::I64 || index.width() != 1 || index.rows() != result.rows() ||
        in.width() != result.width() || in.type != result.type || !in.contiguousRows() ||
        !result.contiguousRows())
      shapeError("select_rows", "rows must be i64, one per output row");
    if (c.planning())
      return;
    size_t bytes = size_t(in.width()) * dtypeSize(in.type);
    const int64_t* indices = index.as<int64_t>();
    for (int64_t i = 0; i < index.rows(); ++i) {
      int64_t row = indices[i];
      if (row < 0 || row >= in.rows())
        throw Error("select_rows: row " + std::to_string(row) + " is outside the " +
                    std::to_string(in.rows()) + " rows of this call");
      std::memcpy(result.row(0, i), in.row(row / in.rowsPerBatch, row % in.rowsPerBatch), bytes);
    }
  });
}

// HF's sequence-classification pooling: the last token whose id is not the pad id (position 0
// when there is none).
Factory lastTokenRows(CpuResources&, const fb::KernelCall& call, const std::vector<Weight>&,
                      const PlanLimits&) {
  const auto* p = call.params_as_LastTokenRowsCall();
  const fb::View& ids = required(p->ids(), "last_token_rows", "ids");
  const fb::View& out = required(p->out(), "last_token_rows", "out");
  int64_t pad = p->pad_id();
  return makeKernel([&ids, &out, pad](const CallContext& c) {
    Tensor tokens = c.tensor(ids), result = c.tensor(out);
    if (tokens.type != DType::I64 || result.type != DType::I64 || tokens.width() != 1 ||
        result.width() != 1 || result.rows() != tokens.batches)
      shapeError("last_token_rows", "needs i64 ids [batch, tokens] and one i64 row per sequence");
    if (c.planning())
      return;
    for (int64_t b = 0; b < tokens.batches; ++b) {
      const int64_t* row = reinterpret_cast<const int64_t*>(tokens.row(b, 0));
      int64_t last = 0;
      for (int64_t t = 0; t < tokens.rowsPerBatch; ++t)
        if (row[t] != pad)
          last = t;
      result.as<int64_t>()[b] = b * tokens.rowsPerBatch + last;
    }
  });
}

} // namespace

void addDenseKernels(KernelFactory* table) {
  table[size_t(fb::KernelParams::EmbeddingCall)] = embedding;
  table[size_t(fb::KernelParams::RmsNormCall)] = rmsNorm;
  table[size_t(fb::KernelParams::LinearCall)] = linearKernel;
  table[size_t(fb::KernelParams::HeadMatmulCall)] = headMatmul;
  table[size_t(fb::KernelParams::AddCall)] = addKernel;
  table[size_t(fb::KernelParams::SiluMulCall)] = siluMulKernel;
  table[size_t(fb::KernelParams::AddRmsNormCall)] = addRmsNormKernel;
  table[size_t(fb::KernelParams::CopyCall)] = copyKernel;
  table[size_t(fb::KernelParams::SelectRowsCall)] = selectRows;
  table[size_t(fb::KernelParams::LastTokenRowsCall)] = lastTokenRows;
}

} // namespace fathom::cpu
