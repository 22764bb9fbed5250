#pragma once
// A backend defined in a test that forwards everything to the CPU backend; a test overrides what
// it watches or adds (counting calls, recording steps, choosing tokens).
#include "fathom/cpu/CpuBackend.h"

namespace fathom::test {

class CpuBackendWrapper : public backend::Backend {
public:
  explicit CpuBackendWrapper(const backend::BackendOptions& options = {})
      : cpu_(cpu::createCpuBackend(options)) {}

  std::string_view name() const override { return cpu_->name(); }
  int parallelism() const override { return cpu_->parallelism(); }
  void* allocate(size_t bytes) override { return cpu_->allocate(bytes); }
  void release(void* memory) override { cpu_->release(memory); }
  void copyToDevice(void* device, const void* host, size_t bytes) override {
    cpu_->copyToDevice(device, host, bytes);
  }
  void copyToHost(void* host, const void* device, size_t bytes) override {
    cpu_->copyToHost(host, device, bytes);
  }
  void synchronize() override { cpu_->synchronize(); }
  std::vector<backend::Weight> bindWeights(const artifact::Artifact& artifact) override {
    return cpu_->bindWeights(artifact);
  }
  std::unique_ptr<backend::Kernel> prepare(const artifact::fb::KernelCall& call,
                                           const std::vector<backend::Weight>& weights,
                                           const backend::PlanLimits& limits) override {
    return cpu_->prepare(call, weights, limits);
  }

protected:
  std::unique_ptr<backend::Backend> cpu_;
};

} // namespace fathom::test
