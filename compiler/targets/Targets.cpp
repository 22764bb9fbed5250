// The targets the compiler knows. Registering one is a line here.
#include "compiler/targets/Target.h"
#include "compiler/targets/cpu/CpuTarget.h"

namespace mlir::fathom {
namespace {

const std::vector<const Target*>& allTargets() {
  static const CpuTarget cpu;
  static const std::vector<const Target*> targets = {&cpu};
  return targets;
}

} // namespace

const Target* lookupTarget(llvm::StringRef name) {
  for (const Target* target : allTargets())
    if (target->name() == name)
      return target;
  return nullptr;
}

std::vector<std::string> targetNames() {
  std::vector<std::string> names;
  for (const Target* target : allTargets())
    names.push_back(target->name().str());
  return names;
}

} // namespace mlir::fathom
