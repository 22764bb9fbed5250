// The targets the compiler knows. Registering one is a line here.
#include "compiler/targets/Target.h"
#include "compiler/targets/cpu/CpuTarget.h"
#include "compiler/targets/cuda/CudaTarget.h"

namespace mlir::fathom {
namespace {

// A name's first entry is its default arch.
const std::vector<const Target*>& allTargets() {
  static const CpuTarget cpu;
  static const CudaTarget hopper(CudaArch::Sm90a);
  static const CudaTarget ampere(CudaArch::Sm80);
  static const std::vector<const Target*> targets = {&cpu, &hopper, &ampere};
  return targets;
}

} // namespace

const Target* lookupTarget(llvm::StringRef spelling) {
  for (const Target* target : allTargets())
    if (target->spelling() == spelling || target->name() == spelling)
      return target;
  return nullptr;
}

std::vector<std::string> targetNames() {
  std::vector<std::string> names;
  for (const Target* target : allTargets()) {
    if (!target->arch().empty() && lookupTarget(target->name()) == target)
      names.push_back(target->name().str());
    names.push_back(target->spelling());
  }
  return names;
}

} // namespace mlir::fathom
