// The CUDA kernel table's vision-language entries: layer_norm, gelu, patchify, masked_scatter,
// with the CPU entries' operand checks (runtime/backends/cpu/src/backend/VisionKernels.cpp).
#include "CudaKernel.h"
#include "Launch.h"

#include <algorithm>
#include <memory>

namespace fathom::cuda {
namespace {

using Factory = std::unique_ptr<backend::Kernel>;

Factory layerNorm(CudaResources& gpu, const fb::KernelCall& call,
                  const std::vector<Weight>& weights, const PlanLimits&) {
  const auto* p = call.params_as_LayerNormCall();
  const Weight& weight = weightAt(weights, p->weight(), "layer_norm");
  const Weight& bias = weightAt(weights, p->bias(), "layer_norm");
  const fb::View& x = required(p->x(), "layer_norm", "x");
  const fb::View& out = required(p->out(), "layer_norm", "out");
  const float epsilon = p->epsilon();
  if (!(epsilon > 0.0f) || weight.shape.size() != 1 || bias.shape != weight.shape ||
      bias.type != weight.type || (weight.type != DType::F32 && weight.type != DType::BF16))
    shapeError("layer_norm", "needs a positive epsilon and an F32 or BF16 weight and bias vector "
                             "of one type, got " +
                                 weight.name + " and " + bias.name);
  return makeKernel([&gpu, &weight, &bias, &x, &out, epsilon](const CallContext& c) {
    const Tensor in = c.tensor(x), result = c.tensor(out);
    requireSameRows("layer_norm", in, result);
    requireActivation("layer_norm", "x", in.type);
    if (in.width() != weight.shape[0])
      shapeError("layer_norm",
                 "rows of " + std::to_string(in.width()) + " do not fit weight " + weight.name);
    if (in.type == DType::BF16 && weight.type != DType::BF16)
      shapeError("layer_norm", "bf16 activations need a bf16 weight and bias, got " + weight.name);
    if (c.planning())
      return;
    check(launchLayerNorm(in.type, deviceRows(in), weight.type, weight.data, bias.data, epsilon,
                          deviceRows(result), gpu.stream),
          "layer_norm");
  });
}

Factory gelu(CudaResources& gpu, const fb::KernelCall& call, const std::vector<Weight>&,
             const PlanLimits&) {
  const auto* p = call.params_as_GeluCall();
  const fb::View& x = required(p->x(), "gelu", "x");
  const fb::View& out = required(p->out(), "gelu", "out");
  GeluForm form;
  switch (p->approximation()) {
  case fb::GeluApproximation::Erf:
    form = GeluForm::Erf;
    break;
  case fb::GeluApproximation::Tanh:
    form = GeluForm::Tanh;
    break;
  case fb::GeluApproximation::TanhUnfused:
    form = GeluForm::TanhUnfused;
    break;
  default:
    throw Error("cuda gelu: unknown approximation " + std::to_string(int(p->approximation())) +
                " (the artifact is newer than this runtime)");
  }
  return makeKernel([&gpu, &x, &out, form](const CallContext& c) {
    const Tensor in = c.tensor(x), result = c.tensor(out);
    requireSameRows("gelu", in, result);
    requireActivation("gelu", "x", in.type);
    if (!in.packed() || !result.packed() || in.rowStride != in.width() ||
        result.rowStride != result.width())
      shapeError("gelu", "operands must be packed rows of one shape and type");
    if (c.planning())
      return;
    check(launchGelu(in.type, in.data, result.data, in.rows() * in.width(), form, gpu.stream),
          "gelu");
  });
}

Factory patchify(CudaResources& gpu, const fb::KernelCall& call, const std::vector<Weight>&,
                 const PlanLimits&) {
  const auto* p = call.params_as_PatchifyCall();
  const fb::View& images = required(p->images(), "patchify", "images");
  const fb::View& out = required(p->out(), "patchify", "out");
  const int64_t channels = p->channels(), height = p->height(), width = p->width(),
                patch = p->patch();
  if (channels < 1 || patch < 1 || height < patch || width < patch || height % patch != 0 ||
      width % patch != 0 || channels > 64 || height > 65536 || width > 65536)
    shapeError("patchify", "images of " + std::to_string(channels) + "x" + std::to_string(height) +
                               "x" + std::to_string(width) + " do not split into patches of " +
                               std::to_string(patch));
  return makeKernel([&gpu, &images, &out, channels, height, width, patch](const CallContext& c) {
    const Tensor in = c.tensor(images), result = c.tensor(out);
    const int64_t patches = (height / patch) * (width / patch);
    if (in.type != DType::F32 || !in.packed() || in.width() != channels * height * width ||
        in.rowStride != in.width() || !result.packed() ||
        result.width() != channels * patch * patch || result.rowStride != result.width() ||
        result.rows() != in.rows() * patches)
      shapeError("patchify", "needs packed f32 images of " + std::to_string(channels) + "x" +
                                 std::to_string(height) + "x" + std::to_string(width) +
                                 " and packed rows of " + std::to_string(patches) +
                                 " patches per image");
    requireActivation("patchify", "out", result.type);
    if (c.planning())
      return;
    check(launchPatchify(in.as<float>(), in.rows(), channels, height, width, patch, result.type,
                         result.data, gpu.stream),
          "patchify");
  });
}

Factory maskedScatter(CudaResources& gpu, const fb::KernelCall& call, const std::vector<Weight>&,
                      const PlanLimits& limits) {
  const auto* p = call.params_as_MaskedScatterCall();
  const fb::View& x = required(p->x(), "masked_scatter", "x");
  const fb::View& ids = required(p->ids(), "masked_scatter", "ids");
  const fb::View& source = required(p->source(), "masked_scatter", "source");
  const fb::View& out = required(p->out(), "masked_scatter", "out");
  const int64_t tokenId = p->token_id();
  // Each row's image-token number, for the planned rows (one id per token).
  const int64_t maxRows = std::max<int64_t>(1, limits.maxBatch * limits.maxTokens);
  auto slots = std::make_shared<OwnedDeviceMemory>(size_t(maxRows) * sizeof(int64_t),
                                                   "masked_scatter scratch");
  return makeKernel([&gpu, &x, &ids, &source, &out, tokenId, slots, maxRows](const CallContext& c) {
    const Tensor in = c.tensor(x), index = c.tensor(ids), rows = c.tensor(source),
                 result = c.tensor(out);
    if (index.type != DType::I64 || index.width() != 1 || index.rows() != in.rows() ||
        rows.type != DType::F32 || rows.width() != in.width() || !rows.packed() ||
        in.type != result.type || in.width() != result.width() || in.rows() != result.rows() ||
        !in.contiguousRows() || !result.contiguousRows() || in.rows() > maxRows)
      shapeError("masked_scatter", "needs one i64 id per row and f32 source rows of the width");
    requireActivation("masked_scatter", "x", in.type);
    if (c.planning())
      return;
    MaskedScatter args;
    args.type = in.type;
    args.x = deviceRows(in);
    args.ids = deviceRows(index);
    args.out = deviceRows(result);
    args.tokenId = tokenId;
    args.source = rows.as<float>();
    args.sourceRows = rows.rows();
    args.sourceStride = rows.rowStride;
    args.slots = static_cast<int64_t*>(slots->data);
    check(launchMaskedScatter(args, gpu.errorWord, gpu.stream), "masked_scatter");
  });
}

} // namespace

void addVisionKernels(KernelFactory* table) {
  table[size_t(fb::KernelParams::LayerNormCall)] = layerNorm;
  table[size_t(fb::KernelParams::GeluCall)] = gelu;
  table[size_t(fb::KernelParams::PatchifyCall)] = patchify;
  table[size_t(fb::KernelParams::MaskedScatterCall)] = maskedScatter;
}

} // namespace fathom::cuda
