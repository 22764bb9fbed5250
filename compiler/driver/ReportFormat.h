#pragma once
// fathom-compile --report's text and JSON.
#include "compiler/driver/CompileCheckpoint.h"

#include <nlohmann/json.hpp>

#include <string>

namespace fathom::compiler {

std::string formatReportText(const CompileReport& report, const std::string& checkpoint);
nlohmann::json reportJson(const CompileReport& report);

// 70272 -> "70,272".
std::string withThousands(uint64_t value);

} // namespace fathom::compiler
