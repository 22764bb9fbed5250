#pragma once
// Every user-facing failure in Fathom is a fathom::Error whose message names the file, tensor or
// field at fault and what was expected. Tools catch it at main, print it on one line to stderr
// and exit non-zero.
#include <stdexcept>
#include <string>

namespace fathom {

class Error : public std::runtime_error {
public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

} // namespace fathom
