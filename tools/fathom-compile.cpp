// fathom-compile: compiles a Hugging Face DeepSeek checkpoint into a Fathom artifact. This
// build has the checkpoint frontend only: `--inspect` validates a checkpoint and summarises it.
#include "fathom/frontend/Checkpoint.h"
#include "fathom/frontend/Json.h"
#include "fathom/frontend/ModelSummary.h"
#include "fathom/runtime/Error.h"

#include <cstdio>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {
constexpr const char* kUsage = R"(usage: fathom-compile CHECKPOINT --inspect [--json]

Reads a Hugging Face checkpoint folder (config.json, model.safetensors or
model.safetensors.index.json and its shards, generation_config.json, tokenizer files),
validates every file and holds the tensors against the architecture.

  --inspect   print the model summary: architecture, dimensions, layer kinds, expert
              layout, MTP layers, quantization, parameters by dtype, inventory problems
  --json      with --inspect: print the summary as JSON
  --help      show this help

Supported model types: deepseek_v3, deepseek_v2, deepseek_vl.
On a malformed checkpoint: one line on stderr naming the file and the problem, exit 1.
)";

struct Arguments {
  std::string checkpoint;
  bool inspect = false;
  bool json = false;
  bool help = false;
};

// Usage problems are reported like malformed input: one line, exit 1.
struct UsageError {
  std::string message;
};

Arguments parseArguments(int argc, char** argv) {
  Arguments arguments;
  for (int i = 1; i < argc; ++i) {
    std::string_view argument = argv[i];
    if (argument == "--help" || argument == "-h")
      arguments.help = true;
    else if (argument == "--inspect")
      arguments.inspect = true;
    else if (argument == "--json")
      arguments.json = true;
    else if (argument.starts_with("-"))
      throw UsageError{"unknown option " + std::string(argument) + " (see --help)"};
    else if (!arguments.checkpoint.empty())
      throw UsageError{"more than one checkpoint given: " + arguments.checkpoint + " and " +
                       std::string(argument)};
    else
      arguments.checkpoint = argument;
  }
  if (arguments.help)
    return arguments;
  if (arguments.checkpoint.empty())
    throw UsageError{"no checkpoint folder given (see --help)"};
  if (!arguments.inspect)
    throw UsageError{"no mode given: this build supports --inspect (see --help)"};
  if (arguments.json && !arguments.inspect)
    throw UsageError{"--json needs --inspect"};
  return arguments;
}

int fail(const std::string& message) {
  std::cerr << "fathom-compile: error: " << fathom::frontend::singleLine(message) << std::endl;
  return 1;
}
} // namespace

int main(int argc, char** argv) {
  try {
    Arguments arguments = parseArguments(argc, argv);
    if (arguments.help) {
      std::cout << kUsage;
      return 0;
    }
    auto checkpoint = fathom::frontend::Checkpoint::open(arguments.checkpoint);
    if (arguments.json)
      std::cout << fathom::frontend::summaryJson(checkpoint).dump(2) << "\n";
    else
      std::cout << fathom::frontend::formatSummaryText(checkpoint);
    return 0;
  } catch (const UsageError& error) {
    return fail(error.message);
  } catch (const fathom::Error& error) {
    return fail(error.what());
  } catch (const std::exception& error) {
    return fail(std::string("unexpected failure: ") + error.what());
  }
}
