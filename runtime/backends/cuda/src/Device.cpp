#include "fathom/cuda/Kernels.h"

namespace fathom::cuda {

bool deviceAvailable(std::string& reason) {
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    reason = std::string("cudaGetDeviceCount failed: ") + cudaGetErrorName(status) + " (" +
             cudaGetErrorString(status) + ")";
    return false;
  }
  if (count == 0) {
    reason = "no CUDA device present";
    return false;
  }
  return true;
}

} // namespace fathom::cuda
