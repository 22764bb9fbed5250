// The CPU kernel table's vision-language entries: layer_norm, gelu, patchify, masked_scatter.
#include "CpuKernel.h"

#include "fathom/cpu/Vision.h"
#include "fathom/runtime/Numeric.h"

#include <cstring>

namespace fathom::cpu {
namespace {

using Factory = std::unique_ptr<backend::Kernel>;

Factory layerNormKernel(CpuResources& cpu, const fb::KernelCall& call,
                        const std::vector<Weight>& weights, const PlanLimits&) {
  const auto* p = call.params_as_LayerNormCall();
  const Weight& weight = weightAt(weights, p->weight(), "layer_norm");
  const Weight& bias = weightAt(weights, p->bias(), "layer_norm");
  const fb::View& x = required(p->x(), "layer_norm", "x");
  const fb::View& out = required(p->out(), "layer_norm", "out");
  float epsilon = p->epsilon();
  if (!(epsilon > 0.0f) || weight.shape.size() != 1 || bias.shape != weight.shape ||
      bias.type != weight.type)
    shapeError("layer_norm", "needs a positive epsilon and a weight and bias vector of one type, "
                             "got " +
                                 weight.name + " and " + bias.name);
  return makeKernel([&cpu, &weight, &bias, &x, &out, epsilon](const CallContext& c) {
    Tensor in = c.tensor(x), result = c.tensor(out);
    if (in.rows() != result.rows() || in.width() != result.width() || in.type != result.type ||
        in.width() != weight.shape[0] || !in.contiguousRows() || !result.contiguousRows())
      shapeError("layer_norm",
                 "rows of " + std::to_string(in.width()) + " do not fit weight " + weight.name);
    if (c.planning())
      return;
    forEachRun(in, result, [&](std::byte* a, std::byte* b, int64_t rows) {
      cpu::layerNorm(*cpu.pool, in.type, a, in.rowStride, weight.type, weight.data, bias.data,
                     epsilon, rows, in.width(), b, result.rowStride);
    });
  });
}

Factory geluKernel(CpuResources& cpu, const fb::KernelCall& call, const std::vector<Weight>&,
                   const PlanLimits&) {
  const auto* p = call.params_as_GeluCall();
  const fb::View& x = required(p->x(), "gelu", "x");
  const fb::View& out = required(p->out(), "gelu", "out");
  cpu::GeluApproximation approximation;
  switch (p->approximation()) {
  case fb::GeluApproximation::Erf:
    approximation = cpu::GeluApproximation::Erf;
    break;
  case fb::GeluApproximation::Tanh:
    approximation = cpu::GeluApproximation::Tanh;
    break;
  case fb::GeluApproximation::TanhUnfused:
    approximation = cpu::GeluApproximation::TanhUnfused;
    break;
  default:
    throw Error("gelu: unknown approximation " + std::to_string(int(p->approximation())) +
                " (the artifact is newer than this runtime)");
  }
  return makeKernel([&cpu, &x, &out, approximation](const CallContext& c) {
    Tensor in = c.tensor(x), result = c.tensor(out);
    if (in.rows() != result.rows() || in.width() != result.width() || in.type != result.type ||
        !in.packed() || !result.packed() || in.rowStride != in.width() ||
        result.rowStride != result.width())
      shapeError("gelu", "operands must be packed rows of one shape and type");
    if (c.planning())
      return;
    cpu::gelu(*cpu.pool, in.type, in.data, result.data, in.rows() * in.width(), approximation);
  });
}

Factory patchifyKernel(CpuResources& cpu, const fb::KernelCall& call, const std::vector<Weight>&,
                       const PlanLimits&) {
  const auto* p = call.params_as_PatchifyCall();
  const fb::View& images = required(p->images(), "patchify", "images");
  const fb::View& out = required(p->out(), "patchify", "out");
  int64_t channels = p->channels(), height = p->height(), width = p->width(), patch = p->patch();
  if (channels < 1 || patch < 1 || height < patch || width < patch || height % patch != 0 ||
      width % patch != 0 || channels > 64 || height > 65536 || width > 65536)
    shapeError("patchify", "images of " + std::to_string(channels) + "x" + std::to_string(height) +
                               "x" + std::to_string(width) + " do not split into patches of " +
                               std::to_string(patch));
  return makeKernel([&cpu, &images, &out, channels, height, width, patch](const CallContext& c) {
    Tensor in = c.tensor(images), result = c.tensor(out);
    int64_t patches = (height / patch) * (width / patch);
    if (in.type != DType::F32 || !in.packed() || in.width() != channels * height * width ||
        in.rowStride != in.width() || !result.packed() ||
        result.width() != channels * patch * patch || result.rowStride != result.width() ||
        result.rows() != in.rows() * patches)
      shapeError("patchify", "needs packed f32 images of " + std::to_string(channels) + "x" +
                                 std::to_string(height) + "x" + std::to_string(width) +
                                 " and packed rows of " + std::to_string(patches) +
                                 " patches per image");
    if (c.planning())
      return;
    cpu::patchify(*cpu.pool, in.as<float>(), in.rows(), channels, height, width, patch, result.type,
                  result.data);
  });
}

// The k-th row whose id is token_id takes source row k (DeepSeek-VL's image tokens); a source
// without rows leaves x as it is.
Factory maskedScatterKernel(CpuResources&, const fb::KernelCall& call, const std::vector<Weight>&,
                            const PlanLimits&) {
  const auto* p = call.params_as_MaskedScatterCall();
  const fb::View& x = required(p->x(), "masked_scatter", "x");
  const fb::View& ids = required(p->ids(), "masked_scatter", "ids");
  const fb::View& source = required(p->source(), "masked_scatter", "source");
  const fb::View& out = required(p->out(), "masked_scatter", "out");
  const int64_t tokenId = p->token_id();
  return makeKernel([&x, &ids, &source, &out, tokenId,
                     copy = std::vector<int64_t>()](const CallContext& c) mutable {
    Tensor in = c.tensor(x), index = c.tensor(ids), rows = c.tensor(source), result = c.tensor(out);
    if (index.type != DType::I64 || index.width() != 1 || index.rows() != in.rows() ||
        rows.type != DType::F32 || rows.width() != in.width() || !rows.packed() ||
        in.type != result.type || in.width() != result.width() || in.rows() != result.rows() ||
        !in.contiguousRows() || !result.contiguousRows())
      shapeError("masked_scatter", "needs one i64 id per row and f32 source rows of the width");
    if (c.planning())
      return;
    const int64_t* tokens = snapshot(copy, index);
    if (rows.rows() > 0) {
      int64_t wanted = 0;
      for (int64_t r = 0; r < in.rows(); ++r)
        wanted += tokens[r] == tokenId;
      if (wanted != rows.rows())
        throw Error("the prompts hold " + std::to_string(wanted) + " image tokens (id " +
                    std::to_string(tokenId) + ") but " + std::to_string(rows.rows()) +
                    " image embedding rows were given");
    }
    const size_t element = dtypeSize(in.type), bytes = size_t(in.width()) * element;
    const float* next = rows.as<float>();
    for (int64_t r = 0; r < in.rows(); ++r) {
      const int64_t b = r / in.rowsPerBatch, t = r % in.rowsPerBatch;
      std::byte* to = result.row(b, t);
      if (rows.rows() == 0 || tokens[r] != tokenId) {
        if (to != in.row(b, t))
          std::memcpy(to, in.row(b, t), bytes);
        continue;
      }
      for (int64_t i = 0; i < in.width(); ++i)
        storeFloat(in.type, next[i], to + size_t(i) * element);
      next += rows.width();
    }
  });
}

} // namespace

void addVisionKernels(KernelFactory* table) {
  table[size_t(fb::KernelParams::LayerNormCall)] = layerNormKernel;
  table[size_t(fb::KernelParams::GeluCall)] = geluKernel;
  table[size_t(fb::KernelParams::PatchifyCall)] = patchifyKernel;
  table[size_t(fb::KernelParams::MaskedScatterCall)] = maskedScatterKernel;
}

} // namespace fathom::cpu
