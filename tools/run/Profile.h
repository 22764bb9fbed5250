#pragma once
// fathom-run --profile: where an entry point's time goes, by kernel and by call.
#include "fathom/executor/Program.h"

#include <cstdio>
#include <vector>

namespace fathom::run {

// Per entry point: each kernel kind's calls, time and share, then its most expensive calls.
void printProfile(const std::vector<executor::Program::CallProfile>& calls, std::FILE* out);

} // namespace fathom::run
