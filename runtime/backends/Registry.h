#pragma once
// The backends this runtime was built with, by the artifact target they run.
#include "fathom/backend/Backend.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::backend {

// Throws fathom::Error naming the target and the known ones when none runs it.
std::unique_ptr<Backend> createBackend(std::string_view target, const BackendOptions& options);
std::vector<std::string> backendNames();

} // namespace fathom::backend
