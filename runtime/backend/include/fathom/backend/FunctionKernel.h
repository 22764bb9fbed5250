#pragma once
// A Kernel from a function of the context, prepared once per call: what both kernel tables'
// entries return (runtime/backends/<name>/src/backend or src).
#include "fathom/backend/Backend.h"

#include <functional>
#include <memory>

namespace fathom::backend {

class FunctionKernel final : public Kernel {
public:
  explicit FunctionKernel(std::function<void(const CallContext&)> body) : body_(std::move(body)) {}
  void run(const CallContext& context) override { body_(context); }

private:
  std::function<void(const CallContext&)> body_;
};

inline std::unique_ptr<Kernel> makeKernel(std::function<void(const CallContext&)> body) {
  return std::make_unique<FunctionKernel>(std::move(body));
}

} // namespace fathom::backend
