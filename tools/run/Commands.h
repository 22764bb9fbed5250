#pragma once
// What fathom-run does with a loaded artifact: generate from ids, text or JSON lines, chat, or
// classify.
#include "RunOptions.h"

#include "fathom/executor/Model.h"

namespace fathom::run {

int generateFromIds(executor::Model& model, const RunOptions& options);
int generateFromText(executor::Model& model, const RunOptions& options);
int chat(executor::Model& model, const RunOptions& options);
int generateFromInput(executor::Model& model, const RunOptions& options);
// --info: prints what the artifact holds (its metadata only) and returns the exit status.
int printInfo(const std::string& path, bool json);
int classify(executor::Model& model, const RunOptions& options);

} // namespace fathom::run
