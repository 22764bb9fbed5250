// The CUDA backend: device memory on one stream, the weights uploaded once (progress on stderr
// for large artifacts), the artifact's arch checked against the device, and the kernel table.
#include "fathom/cuda/CudaBackend.h"

#include "CudaKernel.h"
#include "fathom/artifact/Artifact.h"
#include "fathom/cuda/Kernels.h"

#include <cstdio>
#include <map>

namespace fathom::cuda {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw Error(std::string("cuda ") + what + ": " + cudaGetErrorName(status) + " (" +
                cudaGetErrorString(status) + ")");
}

void shapeError(const char* kernel, const std::string& what) {
  throw Error(std::string("cuda ") + kernel + ": " + what);
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

void requireActivation(const char* kernel, const char* operand, DType type) {
  if (type != DType::F32 && type != DType::BF16)
    shapeError(kernel, std::string(operand) + " has dtype " + std::string(dtypeName(type)) +
                           ", expected F32 or BF16");
}

void requireSameRows(const char* kernel, const Tensor& a, const Tensor& b) {
  if (a.rows() != b.rows() || a.width() != b.width())
    shapeError(kernel, "operands of " + std::to_string(a.rows()) + "x" + std::to_string(a.width()) +
                           " and " + std::to_string(b.rows()) + "x" + std::to_string(b.width()) +
                           " differ");
  if (a.type != b.type)
    shapeError(kernel, "operands of types " + std::string(dtypeName(a.type)) + " and " +
                           std::string(dtypeName(b.type)) + " differ");
}

namespace {

constexpr size_t kKernelCount = size_t(fb::KernelParams::MAX) + 1;
constexpr size_t kWorkspaceBytes = 32u << 20;
constexpr size_t kWeightAlignment = 256;
constexpr size_t kProgressBytes = size_t(1) << 30; // show upload progress above 1 GiB

const KernelFactory* cudaKernelTable() {
  static const auto table = [] {
    std::vector<KernelFactory> entries(kKernelCount, nullptr);
    addDenseKernels(entries.data());
    addLinearKernels(entries.data());
    addAttentionKernels(entries.data());
    addMoeKernels(entries.data());
    addVisionKernels(entries.data());
    addCollectiveKernels(entries.data());
    return entries;
  }();
  return table.data();
}

// What an artifact compiled for `arch` needs of the device: sm_90a kernels run on compute
// capability 9.0 only; sm_80 ones on 8.0 and later.
void checkArch(const std::string& path, const std::string& arch, int capability) {
  const std::string device = "this GPU has compute capability " + std::to_string(capability / 10) +
                             "." + std::to_string(capability % 10);
  if (arch == "sm_90a" && capability != 90)
    throw Error(path + ": compiled for cuda:sm_90a (Hopper), but " + device +
                "; recompile with --target cuda:sm_80");
  if (arch == "sm_80" && capability < 80)
    throw Error(path + ": compiled for cuda:sm_80, but " + device + " (8.0 or later needed)");
  if (arch != "sm_90a" && arch != "sm_80")
    throw Error(path + ": compiled for CUDA arch '" + arch +
                "', which this runtime does not "
                "know (it runs sm_90a and sm_80)");
}

class CudaBackend final : public backend::Backend {
public:
  explicit CudaBackend(const backend::BackendOptions& options) {
    std::string reason;
    if (!deviceAvailable(reason))
      throw Error("cuda backend: no usable GPU: " + reason);
    int device = 0;
    check(cudaGetDevice(&device), "cudaGetDevice");
    cudaDeviceProp properties{};
    check(cudaGetDeviceProperties(&properties, device), "cudaGetDeviceProperties");
    resources_.computeCapability = properties.major * 10 + properties.minor;
    multiprocessors_ = properties.multiProcessorCount;
    resources_.multiprocessors = multiprocessors_;
    check(cudaStreamCreateWithFlags(&resources_.stream, cudaStreamNonBlocking), "stream");
    if (cublasLtCreate(&resources_.blas) != CUBLAS_STATUS_SUCCESS)
      throw Error("cuda backend: cublasLtCreate failed");
    resources_.workspace = allocate(kWorkspaceBytes);
    resources_.workspaceBytes = kWorkspaceBytes;
    resources_.errorWord = static_cast<unsigned*>(allocate(sizeof(unsigned)));
    // Under NCCL this rank's device is current already (ncclWorld picked it by local rank), so
    // the stream above is on it; collectives join the stream, ordered with the kernels.
    resources_.communicator = options.communicator;
    resources_.deviceCommunicator = dynamic_cast<comm::DeviceCommunicator*>(options.communicator);
    if (resources_.deviceCommunicator)
      resources_.deviceCommunicator->setStream(resources_.stream);
  }
  ~CudaBackend() override {
    cudaStreamSynchronize(resources_.stream);
    if (weights_)
      cudaFree(weights_);
    cudaFree(resources_.workspace);
    cudaFree(resources_.errorWord);
    if (resources_.blas)
      cublasLtDestroy(resources_.blas);
    cudaStreamDestroy(resources_.stream);
  }

  std::string_view name() const override { return "cuda"; }
  int parallelism() const override { return multiprocessors_; }

  void* allocate(size_t bytes) override {
    void* memory = nullptr;
    cudaError_t status = cudaMalloc(&memory, std::max<size_t>(bytes, kWeightAlignment));
    if (status != cudaSuccess)
      throw Error("cuda backend: cannot allocate " + std::to_string(bytes) +
                  " bytes of device memory: " + cudaGetErrorString(status));
    check(cudaMemset(memory, 0, std::max<size_t>(bytes, kWeightAlignment)), "cudaMemset");
    return memory;
  }
  void release(void* memory) override {
    if (memory)
      cudaFree(memory);
  }
  void copyToDevice(void* device, const void* host, size_t bytes) override {
    if (bytes)
      check(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, resources_.stream),
            "copy to device");
  }
  void copyToHost(void* host, const void* device, size_t bytes) override {
    if (bytes)
      check(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, resources_.stream),
            "copy to host");
    synchronize();
  }
  // Waits for the stream, then reports what kernels found in the data.
  void synchronize() override {
    check(cudaStreamSynchronize(resources_.stream), "synchronize");
    unsigned errors = 0;
    check(cudaMemcpy(&errors, resources_.errorWord, sizeof errors, cudaMemcpyDeviceToHost),
          "error word");
    if (errors == 0)
      return;
    check(cudaMemset(resources_.errorWord, 0, sizeof errors), "error word");
    std::string what;
    if (errors & kIdOutOfRange)
      what += "a token id outside the vocabulary";
    auto add = [&what](const char* text) { what += std::string(what.empty() ? "" : "; ") + text; };
    if (errors & kRowOutOfRange)
      add("a row index outside this call's rows");
    if (errors & kPositionOutOfRange)
      add("a position outside the RoPE tables (the artifact's max sequence length)");
    if (errors & kCacheFull)
      add("a KV cache that is full (a sequence would pass the artifact's max sequence length; "
          "recompile with --max-seq-len)");
    if (errors & kQueriesOutsideKeys)
      add("queries placed outside a sequence's cached keys");
    if (errors & kExpertOutOfRange)
      add("a routed expert id outside the experts");
    if (errors & kBadExpertRanges)
      add("expert row ranges that do not ascend within the grouped rows");
    if (errors & kImageRowsMismatch)
      add("prompts whose image tokens are not as many as the image embedding rows given");
    throw Error("cuda backend: a kernel met " + what);
  }

  // Every tensor in one device allocation, copied in order; scales and zero points (tensors of
  // their own) are re-pointed at their device copies.
  std::vector<Weight> bindWeights(const artifact::Artifact& file) override {
    const fb::Artifact& meta = file.metadata();
    checkArch(file.path(), meta.target_arch() ? meta.target_arch()->str() : "",
              resources_.computeCapability);
    std::vector<Weight> weights = backend::describeWeights(file);
    std::vector<size_t> offsets, sizes;
    size_t total = 0;
    for (size_t i = 0; i < weights.size(); ++i) {
      sizes.push_back(size_t(file.tensor(i).size));
      offsets.push_back(total);
      total += (sizes.back() + kWeightAlignment - 1) / kWeightAlignment * kWeightAlignment;
    }
    if (weights_)
      release(weights_);
    weights_ = static_cast<std::byte*>(allocate(total));
    std::map<const void*, const void*> onDevice;
    size_t copied = 0, shown = 0;
    for (size_t i = 0; i < weights.size(); ++i) {
      std::byte* target = weights_ + offsets[i];
      check(cudaMemcpy(target, weights[i].data, sizes[i], cudaMemcpyHostToDevice), "weight upload");
      onDevice[weights[i].data] = target;
      copied += sizes[i];
      if (total >= kProgressBytes && (copied - shown >= total / 20 || copied == total)) {
        std::fprintf(stderr, "\rcuda: uploading weights %.1f / %.1f GB", double(copied) / 1e9,
                     double(total) / 1e9);
        shown = copied;
      }
    }
    if (total >= kProgressBytes)
      std::fprintf(stderr, "\n");
    for (Weight& weight : weights) {
      if (weight.scales)
        weight.scales = static_cast<const float*>(onDevice.at(weight.scales));
      if (weight.zeros)
        weight.zeros = static_cast<const uint8_t*>(onDevice.at(weight.zeros));
      weight.data = onDevice.at(weight.data);
    }
    return weights;
  }

  std::unique_ptr<backend::Kernel> prepare(const fb::KernelCall& call,
                                           const std::vector<Weight>& weights,
                                           const PlanLimits& limits) override {
    size_t index = size_t(call.params_type());
    KernelFactory factory = index < kKernelCount ? cudaKernelTable()[index] : nullptr;
    if (!factory)
      throw Error(
          "cuda backend: no kernel for '" +
          std::string(index < kKernelCount ? fb::EnumNameKernelParams(call.params_type()) : "?") +
          "' yet (the CUDA target is being built kernel by kernel; run this artifact's "
          "model on the CPU with --target cpu)");
    return factory(resources_, call, weights, limits);
  }

  bool records() const override { return true; }
  std::unique_ptr<backend::Recording> record(const std::function<void()>& launches) override {
    return recordGraph(resources_.stream, launches);
  }
  bool selectTokens(const Tensor& logits, const backend::TokenChoice& choice,
                    const double* uniforms, backend::SelectedToken* selected) override {
    // The executor synchronized after the step, so what its kernels found is reported first.
    return selectTokensOnDevice(resources_, selection_, logits, choice, uniforms, selected);
  }

private:
  CudaResources resources_;
  SelectionScratch selection_;
  int multiprocessors_ = 0;
  std::byte* weights_ = nullptr;
};

} // namespace

std::unique_ptr<backend::Backend> createCudaBackend(const backend::BackendOptions& options) {
  return std::make_unique<CudaBackend>(options);
}

} // namespace fathom::cuda
