// fathom-compile: compiles a Hugging Face DeepSeek checkpoint into a Fathom artifact, prints
// its fathom IR (--emit=mlir), or validates and summarises it (--inspect).
#include "common/Hints.h"
#include "common/ProgressBar.h"
#include "common/Version.h"
#include "fathom/frontend/Checkpoint.h"
#include "fathom/frontend/HubCache.h"
#include "fathom/frontend/Json.h"
#include "fathom/frontend/ModelSummary.h"
#include "fathom/runtime/Error.h"
#ifdef FATHOM_HAVE_COMPILER
#include "compiler/artifact/TemporaryFiles.h"
#include "compiler/driver/CompileCheckpoint.h"
#include "compiler/driver/ReportFormat.h"
#endif

#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {
constexpr const char* kUsage =
    R"(usage: fathom-compile CHECKPOINT -o MODEL.fathom [--target cpu|cuda[:ARCH]] [--dtype auto|fp32|bf16]
                      [--max-seq-len N] [--max-batch N] [--quantize none|fp8|int4]
                      [--tp N] [--ep M] [--disable-pass NAME]...
                      [--print-ir-after NAME]... [--time-passes] [--synthetic-weights]
                      [--quiet]
       fathom-compile CHECKPOINT --report [--json] [--device-memory M] [same options]
       fathom-compile CHECKPOINT --emit=mlir [--dtype auto|fp32|bf16]
       fathom-compile CHECKPOINT --inspect [--json]

Reads a Hugging Face checkpoint folder (config.json, model.safetensors or
model.safetensors.index.json and its shards, generation_config.json, tokenizer files),
validates every file and holds the tensors against the architecture.

  -o FILE             compile to a Fathom artifact (written as FILE.partial.<pid>.<n>, renamed
                      when done; removed on failure, Ctrl-C or SIGTERM)
  --target T          cpu (the default), cuda (= cuda:sm_90a: Hopper, FP8 weights multiplied
                      in FP8) or cuda:sm_80 (Ampere and later, FP8 weights dequantized to bf16)
  --dtype D           compute dtype: auto (the default: the checkpoint's dtype, as HF loads
                      it; fp32 for fp32 or fp16 checkpoints), fp32 or bf16
  --max-seq-len N     tokens the KV cache holds per sequence (default: min(max_position_embeddings, 4096))
  --max-batch N       sequences per batch (default 1)
  --quantize Q        weight storage: none (the default), fp8 (DeepSeek's 128x128 block
                      E4M3 for every attention, MLP and expert projection; FP8 checkpoints
                      keep their bytes) or int4 (the same projections as asymmetric 4-bit
                      codes, one scale and zero point per row and 128 inputs)
  --tp N              tensor parallelism: attention heads, dense MLPs, shared experts, the
                      embedding and the LM head split over N ranks (default 1)
  --ep M              expert parallelism: routed experts split over M ranks, whole experts
                      each (default 1); the artifact runs on max(N, M) ranks, launched with
                      mpirun -np max(N, M) fathom-run ...
  --disable-pass P    leave out an optimization pass: fathom-mla-absorption,
                      fathom-expert-grouping, fathom-rope-fusion,
                      fathom-residual-norm-fusion
  --print-ir-after P  print the module on stderr after pass P (a pipeline pass, or all); with
                      --emit=mlir, runs the pipeline
  --time-passes       print the time each pass took on stderr
  --synthetic-weights a benchmark artifact: the weights' layout without their bytes, which
                      the loader fills with fixed pseudo-random values (also from a folder with
                      only config.json; nothing it generates means anything)
  --report            run the pipeline and print, per entry point, the weight bytes, the
                      activation arena, and the KV cache per token and at the limits; works on
                      a folder that holds only config.json (weights planned from the config);
                      with --tp/--ep every size is one rank's
  --device-memory M   with --report: say whether one rank (weights, KV cache at the limits,
                      activations) fits a device of M bytes (80GB, 141GB, 96GiB, 1.5TB, ...)
  --quiet             no progress bar or summary line
  --emit=mlir         print the model as fathom IR (model level) and stop
  --inspect           print the model summary: architecture, dimensions, layer kinds, expert
                      layout, MTP layers, quantization, parameters by dtype, inventory problems
  --json              with --inspect or --report: print JSON
  --help              show this help

Supported model types: deepseek_v3, deepseek_v2, deepseek_vl.
On a malformed checkpoint: one line on stderr naming the file and the problem, exit 1.
)";

struct Arguments {
  std::string checkpoint;
  bool inspect = false;
  bool json = false;
  bool help = false;
  bool emitMlir = false;
  bool report = false;
  bool quiet = false;
  bool timePasses = false;
  bool syntheticWeights = false;
  std::string output;
  std::string target = "cpu";
  std::string dtype = "auto";
  std::string quantize = "none";
  int64_t tp = 1, ep = 1;
  uint64_t deviceMemory = 0;
  int64_t maxSeqLen = 0;
  int64_t maxBatch = 1;
  std::set<std::string> disabledPasses;
  std::set<std::string> printIrAfter;
};

// Usage problems are reported like malformed input: one line, exit 1.
struct UsageError {
  std::string message;
};

int64_t parseCount(std::string_view option, const std::string& value) {
  size_t used = 0;
  int64_t count = 0;
  try {
    count = std::stoll(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || value.empty() || count < 1)
    throw UsageError{std::string(option) + " needs a positive integer, got '" + value + "'"};
  return count;
}

// 80GB, 80 GB, 96GiB, 1.5TB or plain bytes.
uint64_t parseBytes(std::string_view option, const std::string& value) {
  size_t used = 0;
  double number = 0;
  try {
    number = std::stod(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = value.substr(used);
  unit.erase(0, unit.find_first_not_of(' '));
  const std::pair<const char*, double> units[] = {{"", 1},
                                                  {"B", 1},
                                                  {"kB", 1e3},
                                                  {"KB", 1e3},
                                                  {"MB", 1e6},
                                                  {"GB", 1e9},
                                                  {"TB", 1e12},
                                                  {"KiB", 1024.0},
                                                  {"MiB", 1048576.0},
                                                  {"GiB", 1073741824.0},
                                                  {"TiB", 1099511627776.0},
                                                  {"G", 1e9},
                                                  {"T", 1e12}};
  for (auto [name, scale] : units)
    if (used > 0 && unit == name && number > 0 && number * scale < 1e18)
      return uint64_t(number * scale);
  throw UsageError{std::string(option) + " needs a size such as 80GB or 96GiB, got '" + value +
                   "'"};
}

Arguments parseArguments(int argc, char** argv) {
  Arguments arguments;
  for (int i = 1; i < argc; ++i) {
    std::string_view argument = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw UsageError{std::string(argument) + " needs a value"};
      return argv[++i];
    };
    if (argument == "--help" || argument == "-h")
      arguments.help = true;
    else if (argument == "--inspect")
      arguments.inspect = true;
    else if (argument == "--json")
      arguments.json = true;
    else if (argument == "--emit=mlir")
      arguments.emitMlir = true;
    else if (argument == "--report")
      arguments.report = true;
    else if (argument == "--synthetic-weights")
      arguments.syntheticWeights = true;
    else if (argument == "--time-passes")
      arguments.timePasses = true;
    else if (argument == "--disable-pass")
      arguments.disabledPasses.insert(value());
    else if (argument.starts_with("--disable-pass="))
      arguments.disabledPasses.insert(std::string(argument.substr(15)));
    else if (argument == "--print-ir-after")
      arguments.printIrAfter.insert(value());
    else if (argument.starts_with("--print-ir-after="))
      arguments.printIrAfter.insert(std::string(argument.substr(17)));
    else if (argument.starts_with("--emit"))
      throw UsageError{"unknown " + std::string(argument) + " (only --emit=mlir)"};
    else if (argument == "-o" || argument == "--output")
      arguments.output = value();
    else if (argument == "--target")
      arguments.target = value();
    else if (argument == "--dtype")
      arguments.dtype = value();
    else if (argument == "--quantize")
      arguments.quantize = value();
    else if (argument == "--device-memory")
      arguments.deviceMemory = parseBytes(argument, value());
    else if (argument == "--tp")
      arguments.tp = parseCount(argument, value());
    else if (argument == "--ep")
      arguments.ep = parseCount(argument, value());
    else if (argument == "--max-seq-len")
      arguments.maxSeqLen = parseCount(argument, value());
    else if (argument == "--max-batch")
      arguments.maxBatch = parseCount(argument, value());
    else if (argument == "--quiet")
      arguments.quiet = true;
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
  int modes = int(arguments.inspect) + int(arguments.emitMlir) + int(arguments.report) +
              int(!arguments.output.empty());
  if (modes == 0)
    throw UsageError{"no mode given: -o FILE, --report, --emit=mlir or --inspect (see --help)"};
  if (modes > 1)
    throw UsageError{"choose one of -o, --report, --emit=mlir and --inspect"};
  if (arguments.deviceMemory && !arguments.report)
    throw UsageError{"--device-memory needs --report"};
  if (arguments.json && !arguments.inspect && !arguments.report)
    throw UsageError{"--json needs --inspect or --report"};
  if (arguments.dtype != "auto" && arguments.dtype != "fp32" && arguments.dtype != "bf16")
    throw UsageError{"--dtype must be auto, fp32 or bf16, got '" + arguments.dtype + "'"};
  if (arguments.quantize != "none" && arguments.quantize != "fp8" && arguments.quantize != "int4")
    throw UsageError{"--quantize must be none, fp8 or int4, got '" + arguments.quantize + "'"};
  return arguments;
}

int fail(const std::string& message) {
  std::cerr << "fathom-compile: error: " << fathom::frontend::singleLine(message) << std::endl;
  return 1;
}
int compile(const Arguments& arguments, const fathom::frontend::Checkpoint& checkpoint) {
#ifdef FATHOM_HAVE_COMPILER
  fathom::compiler::CompileOptions options;
  options.target = arguments.target;
  options.compute = arguments.dtype == "bf16" ? fathom::DType::BF16
                    : arguments.dtype == "fp32"
                        ? fathom::DType::F32
                        : fathom::compiler::defaultComputeDtype(checkpoint.config());
  options.maxSeqLen = arguments.maxSeqLen;
  options.maxBatch = arguments.maxBatch;
  options.disabledPasses = arguments.disabledPasses;
  options.quantize = arguments.quantize;
  options.syntheticWeights = arguments.syntheticWeights;
  options.tp = arguments.tp;
  options.ep = arguments.ep;
  options.printIrAfter = arguments.printIrAfter;
  options.timePasses = arguments.timePasses;
  if (arguments.emitMlir) {
    std::cout << fathom::compiler::emitMlir(checkpoint, options);
    return 0;
  }
  if (arguments.report) {
    auto report = fathom::compiler::reportCheckpoint(checkpoint, options);
    report.deviceMemoryBytes = arguments.deviceMemory;
    if (arguments.json)
      std::cout << fathom::compiler::reportJson(report).dump(2) << "\n";
    else
      std::cout << fathom::compiler::formatReportText(report, arguments.checkpoint);
    return 0;
  }
  for (const std::string& warning : checkpoint.warnings())
    std::cerr << "fathom-compile: warning: " << warning << "\n";
  auto start = std::chrono::steady_clock::now();
  fathom::tools::ProgressBar bar("writing weights", !arguments.quiet);
  auto summary = fathom::compiler::compileCheckpoint(
      checkpoint, arguments.output, options,
      [&](uint64_t done, uint64_t total) { bar.update(done, total); });
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!arguments.quiet)
    std::fprintf(stderr,
                 "fathom-compile: wrote %s: %zu tensors, %.1f MB of weights, %zu kernel calls, "
                 "arena %.1f MB, KV cache %.1f MB (max batch %lld x %lld tokens), %s, %.2f s\n",
                 arguments.output.c_str(), summary.tensors, summary.weightBytes / 1e6,
                 summary.kernelCalls, summary.arenaBytes / 1e6, summary.kvCacheBytes / 1e6,
                 static_cast<long long>(arguments.maxBatch),
                 static_cast<long long>(summary.maxSeqLen),
                 options.compute == fathom::DType::BF16 ? "bf16" : "fp32", seconds);
  return 0;
#else
  (void)checkpoint;
  throw UsageError{std::string(arguments.emitMlir ? "--emit=mlir"
                               : arguments.report ? "--report"
                                                  : "-o") +
                   " needs the compiler, which this build left out (FATHOM_ENABLE_COMPILER=OFF)"};
#endif
}
} // namespace

int main(int argc, char** argv) {
#ifdef FATHOM_HAVE_COMPILER
  fathom::artifact::removeTemporaryFilesOnInterrupt();
#endif
  if (fathom::tools::printedVersion(argc, argv, "fathom-compile"))
    return 0;
  try {
    Arguments arguments = parseArguments(argc, argv);
    if (arguments.help) {
      std::cout << kUsage;
      return 0;
    }
    if (fathom::tools::looksLikeArtifact(arguments.checkpoint))
      throw fathom::Error(arguments.checkpoint +
                          " is a Fathom artifact, already compiled: run it with fathom-run " +
                          arguments.checkpoint + " (--info shows what it holds)");
    arguments.checkpoint = fathom::frontend::resolveCheckpointPath(arguments.checkpoint);
    fathom::frontend::CheckpointOptions open;
    open.requireWeights = !arguments.report && !arguments.syntheticWeights;
    auto checkpoint = fathom::frontend::Checkpoint::open(arguments.checkpoint, open);
    if (!arguments.inspect)
      return compile(arguments, checkpoint);
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
