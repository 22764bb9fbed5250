// The CPU backend: host memory, weights read in place from the mapped artifact, and the kernel
// table (DenseKernels.cpp, AttentionKernels.cpp, MoeKernels.cpp).
#include "fathom/cpu/CpuBackend.h"

#include "CpuKernel.h"
#include "fathom/artifact/Artifact.h"
#include "fathom/runtime/Error.h"

#include <cstring>
#include <new>

namespace fathom::cpu {
namespace {

constexpr size_t kKernelCount = size_t(fb::KernelParams::MAX) + 1;

class CpuBackend final : public backend::Backend {
public:
  explicit CpuBackend(const backend::BackendOptions& options)
      : pool_(options.threads), resources_{&pool_, &scratch_, options.communicator} {}

  std::string_view name() const override { return "cpu"; }
  int parallelism() const override { return pool_.numThreads(); }

  void* allocate(size_t bytes) override {
    void* memory = ::operator new(std::max<size_t>(bytes, 64), std::align_val_t(64), std::nothrow);
    if (!memory)
      throw Error("cpu backend: cannot allocate " + std::to_string(bytes) + " bytes");
    std::memset(memory, 0, bytes);
    return memory;
  }
  void release(void* memory) override {
    if (memory)
      ::operator delete(memory, std::align_val_t(64));
  }
  void copyToDevice(void* device, const void* host, size_t bytes) override {
    if (bytes)
      std::memcpy(device, host, bytes);
  }
  void copyToHost(void* host, const void* device, size_t bytes) override {
    if (bytes)
      std::memcpy(host, device, bytes);
  }
  void synchronize() override {}

  // Kernels read the weights in place, from the mapped file.
  std::vector<Weight> bindWeights(const artifact::Artifact& file) override {
    return backend::describeWeights(file);
  }

  std::unique_ptr<backend::Kernel> prepare(const fb::KernelCall& call,
                                           const std::vector<Weight>& weights,
                                           const PlanLimits& limits) override {
    size_t index = size_t(call.params_type());
    KernelFactory factory = index < kKernelCount ? cpuKernelTable()[index] : nullptr;
    if (!factory)
      throw Error(
          "cpu backend: no kernel for '" +
          std::string(index < kKernelCount ? fb::EnumNameKernelParams(call.params_type()) : "?") +
          "' (artifact from a newer compiler?)");
    return factory(resources_, call, weights, limits);
  }

private:
  ThreadPool pool_;
  ScratchBuffer scratch_;
  CpuResources resources_;
};

} // namespace

const KernelFactory* cpuKernelTable() {
  static const auto table = [] {
    std::vector<KernelFactory> entries(kKernelCount, nullptr);
    addDenseKernels(entries.data());
    addAttentionKernels(entries.data());
    addMoeKernels(entries.data());
    addVisionKernels(entries.data());
    addCollectiveKernels(entries.data());
    return entries;
  }();
  return table.data();
}

std::unique_ptr<backend::Backend> createCpuBackend(const backend::BackendOptions& options) {
  return std::make_unique<CpuBackend>(options);
}

void shapeError(const char* kernel, const std::string& what) {
  throw Error(std::string("cpu ") + kernel + ": " + what);
}

const fb::View& required(const fb::View* view, const char* kernel, const char* field) {
  if (!view)
    shapeError(kernel, std::string("the call has no '") + field + "' operand");
  return *view;
}

const Weight& weightAt(const std::vector<Weight>& weights, int32_t index, const char* kernel) {
  if (index < 0 || size_t(index) >= weights.size())
    shapeError(kernel, "weight " + std::to_string(index) + " is not in the artifact");
  return weights[size_t(index)];
}

const Weight* optionalWeightAt(const std::vector<Weight>& weights, int32_t index,
                               const char* kernel) {
  return index < 0 ? nullptr : &weightAt(weights, index, kernel);
}

LinearArgs linearArgs(const Weight& weight, const Weight* bias, int64_t rows, DType xType,
                      const void* x, int64_t ldx, DType yType, void* y, int64_t ldy) {
  if (weight.shape.size() != 2)
    shapeError("linear", "weight " + weight.name + " is not a matrix");
  LinearArgs args;
  args.rows = rows;
  args.inFeatures = weight.shape[1];
  args.outFeatures = weight.shape[0];
  args.xType = xType;
  args.x = x;
  args.ldx = ldx;
  args.wType = weight.type;
  args.w = weight.data;
  args.wScales = {weight.scales, weight.blockRows, weight.blockCols, weight.zeros};
  if (bias) {
    args.biasType = bias->type;
    args.bias = bias->data;
  }
  args.yType = yType;
  args.y = y;
  args.ldy = ldy;
  return args;
}

void checkLinearRows(const Weight& weight, const Tensor& x, const Tensor& y) {
  if (weight.shape.size() != 2 || x.width() != weight.shape[1] || y.width() != weight.shape[0] ||
      x.rows() != y.rows() || !x.contiguousRows() || !y.contiguousRows())
    shapeError("linear", "operands [" + std::to_string(x.rows()) + ", " +
                             std::to_string(x.width()) + "] -> [" + std::to_string(y.rows()) +
                             ", " + std::to_string(y.width()) + "] do not fit weight " +
                             weight.name);
}

void linearRows(ThreadPool& pool, Scratch scratch, const Weight& weight, const Weight* bias,
                const Tensor& x, const Tensor& y) {
  forEachRun(x, y, [&](std::byte* in, std::byte* out, int64_t rows) {
    linear(linearArgs(weight, bias, rows, x.type, in, x.rowStride, y.type, out, y.rowStride), pool,
           scratch);
  });
}

} // namespace fathom::cpu
