// Registering a backend is a line here.
#include "Registry.h"

#include "fathom/cpu/CpuBackend.h"
#ifdef FATHOM_HAVE_CUDA_BACKEND
#include "fathom/cuda/CudaBackend.h"
#endif
#include "fathom/runtime/Error.h"

namespace fathom::backend {
namespace {

struct Entry {
  const char* target;
  std::unique_ptr<Backend> (*create)(const BackendOptions&);
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> known = {
      {"cpu", &cpu::createCpuBackend},
#ifdef FATHOM_HAVE_CUDA_BACKEND
      {"cuda", &cuda::createCudaBackend},
#endif
  };
  return known;
}

} // namespace

std::unique_ptr<Backend> createBackend(std::string_view target, const BackendOptions& options) {
  for (const Entry& entry : entries())
    if (entry.target == target)
      return entry.create(options);
  std::string known;
  for (const Entry& entry : entries())
    known += (known.empty() ? "" : ", ") + std::string(entry.target);
  throw Error("no backend runs target '" + std::string(target) + "' (this runtime has: " + known +
              ")");
}

std::vector<std::string> backendNames() {
  std::vector<std::string> names;
  for (const Entry& entry : entries())
    names.push_back(entry.target);
  return names;
}

} // namespace fathom::backend
