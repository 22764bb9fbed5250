#pragma once
// The frontend reads every checkpoint JSON through the runtime's bounded, duplicate-rejecting
// parser (fathom/runtime/Json.h); these names keep the frontend's spelling of it.
#include "fathom/runtime/Json.h"

namespace fathom::frontend {

using fathom::describeJsonValue;
using fathom::isNonNegativeInteger;
using fathom::JsonOptions;
using fathom::JsonOutline;
using fathom::loadJsonFile;
using fathom::parseJsonStrict;
using fathom::readTextFile;
using fathom::singleLine;
using fathom::validateJsonFile;

} // namespace fathom::frontend
