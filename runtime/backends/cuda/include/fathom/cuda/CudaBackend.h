#pragma once
// The CUDA backend (runtime/backend's Backend on one NVIDIA GPU): device memory, weights
// uploaded once at load, and the kernel table of src/*Kernels.cpp. Plain C++ header.
#include "fathom/backend/Backend.h"

#include <memory>

namespace fathom::cuda {

// Throws fathom::Error saying why when no usable device is present.
std::unique_ptr<backend::Backend> createCudaBackend(const backend::BackendOptions& options);

} // namespace fathom::cuda
