#pragma once
// What fathom-run does with a loaded artifact: generate from ids or text, chat, or classify.
#include "RunOptions.h"

#include "fathom/executor/CpuModel.h"

namespace fathom::run {

int generateFromIds(executor::CpuModel& model, const RunOptions& options);
int generateFromText(executor::CpuModel& model, const RunOptions& options);
int chat(executor::CpuModel& model, const RunOptions& options);
int classify(executor::CpuModel& model, const RunOptions& options);

} // namespace fathom::run
