// The CUDA kernel table's dense entries: embedding, rms_norm, add_rms_norm, add, silu_mul, copy,
// select_rows, last_token_rows. Operands are checked on the host as the CPU's entries check
// them (runtime/backends/cpu/src/backend/DenseKernels.cpp); index data stays on the device, and
// what only the data can show (an id out of range) is reported by the next synchronize().
#include "CudaKernel.h"
#include "Launch.h"

namespace fathom::cuda {
namespace {

using Factory = std::unique_ptr<backend::Kernel>;

void checkNormParams(const char* kernel, float epsilon, const Weight& weight) {
  if (!(epsilon > 0.0f) || weight.shape.size() != 1)
    shapeError(kernel, "needs a positive epsilon and a vector weight, got " + weight.name);
  if (weight.type != DType::F32 && weight.type != DType::BF16)
    shapeError(kernel, "weight " + weight.name + " must be f32 or bf16");
}

// The i64 holding where this rank's vocabulary shard starts, read once at prepare.
int64_t shardStart(const Weight& weight, const char* kernel) {
  if (weight.type != DType::I64 || weight.shape != std::vector<int64_t>{1})
    shapeError(kernel, "shard start " + weight.name + " must be one i64");
  int64_t start = 0;
  check(cudaMemcpy(&start, weight.data, sizeof start, cudaMemcpyDeviceToHost), kernel);
  return start;
}

Factory embedding(CudaResources& gpu, const fb::KernelCall& call,
                  const std::vector<Weight>& weights, const PlanLimits&) {
  const auto* p = call.params_as_EmbeddingCall();
  const Weight& table = weightAt(weights, p->table(), "embedding");
  const fb::View& ids = required(p->ids(), "embedding", "ids");
  const fb::View& out = required(p->out(), "embedding", "out");
  if (table.shape.size() != 2)
    shapeError("embedding", "table " + table.name + " is not a matrix");
  requireActivation("embedding", "table", table.type);
  int64_t firstId = 0, vocabulary = table.shape[0];
  if (p->vocab_start() >= 0) {
    firstId = shardStart(weightAt(weights, p->vocab_start(), "embedding"), "embedding");
    vocabulary = p->vocab_size();
    if (firstId < 0 || vocabulary < table.shape[0] || firstId > vocabulary - table.shape[0])
      shapeError("embedding", "a vocabulary shard of " + std::to_string(table.shape[0]) +
                                  " rows from id " + std::to_string(firstId) +
                                  " does not lie in a vocabulary of " + std::to_string(vocabulary));
  }
  return makeKernel([&gpu, &table, &ids, &out, firstId, vocabulary](const CallContext& c) {
    Tensor idsT = c.tensor(ids), outT = c.tensor(out);
    if (idsT.type != DType::I64 || !idsT.packed() || idsT.width() != 1 || !outT.packed() ||
        outT.rowStride != table.shape[1] || outT.width() != table.shape[1] ||
        outT.rows() != idsT.rows())
      shapeError("embedding", "ids must be packed i64 rows and out packed rows of the table width");
    requireActivation("embedding", "out", outT.type);
    if (c.planning())
      return;
    check(launchEmbedding(table.type, table.data, table.shape[0], table.shape[1],
                          idsT.as<int64_t>(), idsT.rows(), outT.type, outT.data, firstId,
                          vocabulary, gpu.errorWord, gpu.stream),
          "embedding");
  });
}

// rms_norm and add_rms_norm: one entry, the add when the call has one.
Factory norm(CudaResources& gpu, const fb::View& x, const fb::View* b, const fb::View* sum,
             const fb::View& out, const Weight& weight, float epsilon, const char* name) {
  checkNormParams(name, epsilon, weight);
  return makeKernel([&gpu, &x, b, sum, &out, &weight, epsilon, name](const CallContext& c) {
    const Tensor in = c.tensor(x), result = c.tensor(out);
    requireSameRows(name, in, result);
    requireActivation(name, "x", in.type);
    Tensor addend, total;
    if (b) {
      addend = c.tensor(*b);
      total = c.tensor(*sum);
      requireSameRows(name, in, addend);
      requireSameRows(name, in, total);
    }
    if (in.width() != weight.shape[0])
      shapeError(name,
                 "rows of " + std::to_string(in.width()) + " do not fit weight " + weight.name);
    if (in.type == DType::BF16 && weight.type != DType::BF16)
      shapeError(name, "weight " + weight.name + " must be bf16 with bf16 activations");
    if (c.planning())
      return;
    const DeviceRows addendRows = deviceRows(addend), totalRows = deviceRows(total);
    check(launchAddRmsNorm(in.type, deviceRows(in), b ? &addendRows : nullptr,
                           b ? &totalRows : nullptr, weight.type, weight.data, epsilon,
                           deviceRows(result), gpu.stream),
          name);
  });
}

Factory rmsNorm(CudaResources& gpu, const fb::KernelCall& call, const std::vector<Weight>& weights,
                const PlanLimits&) {
  const auto* p = call.params_as_RmsNormCall();
  return norm(gpu, required(p->x(), "rms_norm", "x"), nullptr, nullptr,
              required(p->out(), "rms_norm", "out"), weightAt(weights, p->weight(), "rms_norm"),
              p->epsilon(), "rms_norm");
}

Factory addRmsNorm(CudaResources& gpu, const fb::KernelCall& call,
                   const std::vector<Weight>& weights, const PlanLimits&) {
  const auto* p = call.params_as_AddRmsNormCall();
  return norm(gpu, required(p->a(), "add_rms_norm", "a"), &required(p->b(), "add_rms_norm", "b"),
              &required(p->sum(), "add_rms_norm", "sum"), required(p->out(), "add_rms_norm", "out"),
              weightAt(weights, p->weight(), "add_rms_norm"), p->epsilon(), "add_rms_norm");
}

Factory add(CudaResources& gpu, const fb::KernelCall& call, const std::vector<Weight>&,
            const PlanLimits&) {
  const auto* p = call.params_as_AddCall();
  const fb::View& a = required(p->a(), "add", "a");
  const fb::View& b = required(p->b(), "add", "b");
  const fb::View& out = required(p->out(), "add", "out");
  return makeKernel([&gpu, &a, &b, &out](const CallContext& c) {
    Tensor x = c.tensor(a), y = c.tensor(b), z = c.tensor(out);
    requireSameRows("add", x, y);
    requireSameRows("add", x, z);
    requireActivation("add", "a", x.type);
    if (c.planning())
      return;
    check(launchAdd(x.type, deviceRows(x), deviceRows(y), deviceRows(z), gpu.stream), "add");
  });
}

Factory siluMul(CudaResources& gpu, const fb::KernelCall& call, const std::vector<Weight>&,
                const PlanLimits&) {
  const auto* p = call.params_as_SiluMulCall();
  const fb::View& gate = required(p->gate(), "silu_mul", "gate");
  const fb::View& up = required(p->up(), "silu_mul", "up");
  const fb::View& out = required(p->out(), "silu_mul", "out");
  return makeKernel([&gpu, &gate, &up, &out](const CallContext& c) {
    Tensor g = c.tensor(gate), u = c.tensor(up), o = c.tensor(out);
    requireSameRows("silu_mul", g, u);
    requireSameRows("silu_mul", g, o);
    requireActivation("silu_mul", "gate", g.type);
    if (c.planning())
      return;
    check(launchSiluMul(g.type, deviceRows(g), deviceRows(u), deviceRows(o), gpu.stream),
          "silu_mul");
  });
}

Factory copy(CudaResources& gpu, const fb::KernelCall& call, const std::vector<Weight>&,
             const PlanLimits&) {
  const auto* p = call.params_as_CopyCall();
  const fb::View& x = required(p->x(), "copy", "x");
  const fb::View& out = required(p->out(), "copy", "out");
  return makeKernel([&gpu, &x, &out](const CallContext& c) {
    Tensor in = c.tensor(x), result = c.tensor(out);
    requireSameRows("copy", in, result);
    if (c.planning())
      return;
    check(launchCopy(dtypeSize(in.type), deviceRows(in), deviceRows(result), gpu.stream), "copy");
  });
}

Factory selectRows(CudaResources& gpu, const fb::KernelCall& call, const std::vector<Weight>&,
                   const PlanLimits&) {
  const auto* p = call.params_as_SelectRowsCall();
  const fb::View& x = required(p->x(), "select_rows", "x");
  const fb::View& rows = required(p->rows(), "select_rows", "rows");
  const fb::View& out = required(p->out(), "select_rows", "out");
  return makeKernel([&gpu, &x, &rows, &out](const CallContext& c) {
    Tensor in = c.tensor(x), index = c.tensor(rows), result = c.tensor(out);
    if (index.type != DType::I64 || index.width() != 1 || !index.packed() ||
        index.rows() != result.rows() || in.width() != result.width() || in.type != result.type)
      shapeError("select_rows", "rows must be packed i64, one per output row");
    if (c.planning())
      return;
    check(launchSelectRows(dtypeSize(in.type), deviceRows(in), index.as<int64_t>(),
                           deviceRows(result), gpu.errorWord, gpu.stream),
          "select_rows");
  });
}

Factory lastTokenRows(CudaResources& gpu, const fb::KernelCall& call, const std::vector<Weight>&,
                      const PlanLimits&) {
  const auto* p = call.params_as_LastTokenRowsCall();
  const fb::View& ids = required(p->ids(), "last_token_rows", "ids");
  const fb::View& out = required(p->out(), "last_token_rows", "out");
  const int64_t pad = p->pad_id();
  return makeKernel([&gpu, &ids, &out, pad](const CallContext& c) {
    Tensor tokens = c.tensor(ids), result = c.tensor(out);
    if (tokens.type != DType::I64 || result.type != DType::I64 || tokens.width() != 1 ||
        result.width() != 1 || result.rows() != tokens.batches || !result.packed())
      shapeError("last_token_rows", "needs i64 ids [batch, tokens] and one i64 row per sequence");
    if (c.planning())
      return;
    check(launchLastTokenRows(deviceRows(tokens), pad, result.as<int64_t>(), gpu.stream),
          "last_token_rows");
  });
}

} // namespace

void addDenseKernels(KernelFactory* table) {
  table[size_t(fb::KernelParams::EmbeddingCall)] = embedding;
  table[size_t(fb::KernelParams::RmsNormCall)] = rmsNorm;
  table[size_t(fb::KernelParams::AddRmsNormCall)] = addRmsNorm;
  table[size_t(fb::KernelParams::AddCall)] = add;
  table[size_t(fb::KernelParams::SiluMulCall)] = siluMul;
  table[size_t(fb::KernelParams::CopyCall)] = copy;
  table[size_t(fb::KernelParams::SelectRowsCall)] = selectRows;
  table[size_t(fb::KernelParams::LastTokenRowsCall)] = lastTokenRows;
}

} // namespace fathom::cuda
