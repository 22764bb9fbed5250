#pragma once
// A Kernel from a function of the context, prepared once per call: what both kernel tables'
// entries return (runtime/backends/<name>/src/backend or src).
#include "fathom/backend/Backend.h"

#include <functional>
#include <memory>

namespace fathom::backend {

class FunctionKernel final : public Kernel {
public:
  FunctionKernel(std::function<void(const CallContext&)> body, bool recordable)
      : body_(std::move(body)), recordable_(recordable) {}
  void run(const CallContext& context) override { body_(context); }
  bool recordable() const override { return recordable_; }

private:
  std::function<void(const CallContext&)> body_;
  bool recordable_;
};

inline std::unique_ptr<Kernel> makeKernel(std::function<void(const CallContext&)> body) {
  return std::make_unique<FunctionKernel>(std::move(body), true);
}
// A kernel that reads device data back on the host while it runs (never part of a Recording).
inline std::unique_ptr<Kernel> makeHostSyncingKernel(std::function<void(const CallContext&)> body) {
  return std::make_unique<FunctionKernel>(std::move(body), false);
}

} // namespace fathom::backend
