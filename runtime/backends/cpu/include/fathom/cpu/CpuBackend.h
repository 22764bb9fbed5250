#pragma once
// The CPU backend: this folder's kernels behind the backend interface (runtime/backend).
#include "fathom/backend/Backend.h"

#include <memory>

namespace fathom::cpu {

std::unique_ptr<backend::Backend> createCpuBackend(const backend::BackendOptions& options);

} // namespace fathom::cpu
