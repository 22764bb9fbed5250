// fathom-run --input FILE: JSON lines of requests run in batches of the artifact's max batch, one
// JSON result line per request, in input order. A line that cannot run gets {"index", "error"}
// and the others go on; the exit status is 1 when any line failed.
#include "Commands.h"
#include "Generation.h"
#include "TextStream.h"

#include "fathom/comm/Communicator.h"
#include "fathom/runtime/Error.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>

namespace fathom::run {
namespace {
using nlohmann::json;

struct Line {
  size_t index = 0;
  std::vector<int64_t> ids;
  json result;
};

std::vector<int64_t> promptOf(const json& request, const tokenizer::Tokenizer* tokenizer,
                              int64_t vocabulary) {
  if (!request.is_object())
    throw Error("a request must be a JSON object");
  const bool text = request.contains("prompt"), ids = request.contains("prompt_ids");
  if (text == ids)
    throw Error("a request holds \"prompt\" (text) or \"prompt_ids\" (token ids), one of them");
  if (text) {
    if (!request["prompt"].is_string())
      throw Error("\"prompt\" must be a string");
    if (!tokenizer)
      throw Error("the artifact has no tokenizer; use \"prompt_ids\"");
    auto encoded = tokenizer->encode(request["prompt"].get<std::string>(), true);
    return std::vector<int64_t>(encoded.begin(), encoded.end());
  }
  const json& list = request["prompt_ids"];
  if (!list.is_array() || list.empty())
    throw Error("\"prompt_ids\" must be a non-empty array of token ids");
  std::vector<int64_t> prompt;
  for (const json& id : list) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= vocabulary)
      throw Error("\"prompt_ids\" must hold token ids in [0, " + std::to_string(vocabulary) + ")");
    prompt.push_back(id.get<int64_t>());
  }
  return prompt;
}

} // namespace

int generateFromInput(executor::Model& model, const RunOptions& o) {
  std::ifstream file;
  if (o.input != "-") {
    file.open(o.input);
    if (!file)
      throw Error(o.input + ": cannot open the --input file");
  }
  std::istream& in = o.input == "-" ? std::cin : file;
  const auto* meta = model.artifact().metadata().tokenizer_json();
  std::unique_ptr<tokenizer::Tokenizer> tok =
      meta && meta->size() > 0 ? loadTokenizer(model) : nullptr;
  const executor::GenerationOptions options = generationOptions(model, o, tok ? 256 : 32);

  std::vector<Line> lines;
  std::vector<size_t> runnable;
  std::string text;
  for (size_t number = 1; std::getline(in, text); ++number) {
    if (text.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    Line line;
    line.index = lines.size();
    try {
      json request = json::parse(text);
      line.ids = promptOf(request, tok.get(), model.outputWidth());
      const int64_t room = o.maxNewTokens ? std::max<int64_t>(*o.maxNewTokens, 1) : 1;
      if (int64_t(line.ids.size()) + room - 1 > model.maxSeqLen())
        throw Error("a prompt of " + std::to_string(line.ids.size()) + " tokens" +
                    (o.maxNewTokens ? " and " + std::to_string(*o.maxNewTokens) + " new tokens"
                                    : std::string()) +
                    " exceeds the artifact's max sequence length of " +
                    std::to_string(model.maxSeqLen()));
      runnable.push_back(line.index);
    } catch (const std::exception& error) {
      line.result = {{"index", line.index},
                     {"error", "line " + std::to_string(number) + ": " + error.what()}};
    }
    lines.push_back(std::move(line));
  }

  bool failed = runnable.size() != lines.size();
  for (size_t first = 0; first < runnable.size(); first += size_t(model.maxBatch())) {
    const size_t count = std::min(runnable.size() - first, size_t(model.maxBatch()));
    std::vector<std::vector<int64_t>> prompts;
    for (size_t i = 0; i < count; ++i)
      prompts.push_back(lines[runnable[first + i]].ids);
    executor::GenerationOptions g = options;
    fitDefaultLength(g, model, o, prompts);
    std::vector<TextStream> streams;
    if (tok)
      for (size_t i = 0; i < count; ++i)
        streams.emplace_back(*tok, o.stops);
    try {
      auto result = executor::generate(model, prompts, g, [&](size_t sequence, int64_t token) {
        if (!tok)
          return false;
        streams[sequence].push(token);
        return streams[sequence].stopped();
      });
      for (size_t i = 0; i < count; ++i) {
        Line& line = lines[runnable[first + i]];
        const bool stopped = result.stoppedAtEos[i] || (tok && streams[i].stopped());
        line.result = {{"index", line.index},
                       {"prompt_tokens", line.ids.size()},
                       {"ids", result.newTokens[i]},
                       {"finish_reason", stopped ? "stop" : "length"}};
        if (tok) {
          streams[i].finish();
          line.result["text"] = streams[i].text();
        }
      }
    } catch (const comm::CommError&) {
      throw; // the world is gone: no later request can run
    } catch (const Error& error) {
      failed = true;
      for (size_t i = 0; i < count; ++i)
        lines[runnable[first + i]].result = {{"index", runnable[first + i]},
                                             {"error", error.what()}};
    }
    std::fprintf(stderr, "fathom-run: %zu of %zu requests done\n", first + count, runnable.size());
  }
  for (const Line& line : lines)
    std::cout << line.result.dump() << "\n";
  std::cout.flush();
  return failed ? 1 : 0;
}

} // namespace fathom::run
