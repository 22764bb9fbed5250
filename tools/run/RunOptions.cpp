#include "RunOptions.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

namespace fathom::run {

const char* const kUsage =
    R"(usage: fathom-run MODEL.fathom (--prompt TEXT | --prompt-ids IDS | --chat) [options]

Runs a Fathom artifact on its target (CPU or CUDA). Causal LMs generate from each prompt (several
prompts form one left-padded batch) and stream the new text as it is produced; --chat holds an
interactive conversation; classification artifacts print each prompt's label and score.
Under mpirun (mpirun -np N fathom-run ...) every rank joins the world the artifact is compiled for
(fathom-compile --tp / --ep), runs a collective self-test (over NCCL, through device memory, for
a CUDA artifact), and rank 0 prints.

Input
  --prompt TEXT        a prompt, tokenized by the artifact's tokenizer (BOS added as HF does);
                       repeat for a batch
  --prompt-file FILE   a prompt read from FILE, exactly as it is (a --prompt)
  --prompt-ids 1,2,3   a prompt as token ids; output is then ids too. Repeat for a batch
  --input FILE         JSON lines, one request each: {"prompt": TEXT} or {"prompt_ids":
                       [ids]}; run in batches of the artifact's max batch, one JSON result
                       line per request, in order ('-': stdin)
  --chat               interactive multi-turn chat on stdin (one message per line; /help
                       lists the commands, /exit or end of input ends it), rendered with the
                       model's chat template. The KV cache is kept between turns: each turn
                       prefills only what is new; when the context fills, the oldest turns
                       are dropped. /image FILE sends an image with the next message
                       (vision-language artifacts). Ctrl-C stops a reply; a second one exits
  --image FILE         a JPEG or PNG for a vision-language artifact; repeat for several. Each
                       fills one image placeholder of the --prompt (<image_placeholder> for
                       DeepSeek-VL), in order; a prompt without placeholders gets the images
                       in front
  --system TEXT        --chat: the system prompt
  --chat-format NAME   --chat: deepseek-v3 or deepseek-vl, when the template is not recognised
Generation
  --max-new-tokens N   tokens to generate per prompt (default: the artifact's generation
                       config, else 256 for text and 32 for ids)
  --stop TEXT          stop a sequence when its text contains TEXT (not printed); repeatable
  --no-eos             keep generating past the end-of-sequence token
  --greedy             argmax decoding (the default unless a sampling flag is given or the
                       artifact's generation_config says do_sample, whose temperature, top_k
                       and top_p then apply, as in HF's generate())
  --temperature T      sample with temperature T (0: greedy)
  --top-k K            sample from the K most likely tokens
  --top-p P            sample from the smallest set with probability >= P (0 < P <= 1)
  --seed S             sampling seed (default 0): the same seed gives the same tokens
Output
  --json               print one JSON object per run (ids, text, timings) instead of streaming
  --dump-logits FILE   write fp32 logits to FILE (safetensors): "prefill" [batch, tokens,
                       vocab] at every prompt position and "steps" [batch, steps, vocab]
  --threads N          CPU threads (default: all)
  --kv-cache-tokens N  size of the KV cache pool in tokens (default: max batch x max
                       sequence length; fathom-compile --report gives the bytes per token)
  --comm-timeout S     under mpirun: seconds a collective waits for the other ranks before
                       the run ends with an error naming the ranks that did not answer
                       (default 20; loading waits for the slowest rank however long)
  --eager              launch every call of every decode step (default on CUDA: each step
                       replays a CUDA graph recorded for its batch and context bucket)
  --profile            time every kernel call and print a table per entry point to stderr
                       (kernels, calls, milliseconds, share) after the run
  --info               print what the artifact holds (model, target, dtype, entry points,
                       limits, sizes, tokenizer and chat format, sampling defaults, pipeline;
                       --json for scripts) and exit
  --help               show this help

A timing line goes to stderr: prompt tokens/s (prefill) and generated tokens/s (decode).
)";

int64_t parseInteger(std::string_view option, const std::string& text, int64_t minimum,
                     int64_t maximum) {
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size() || value < minimum || value > maximum)
    throw UsageError{std::string(option) +
                     (maximum == INT64_MAX ? " needs an integer >= " + std::to_string(minimum)
                                           : " takes an integer in [" + std::to_string(minimum) +
                                                 ", " + std::to_string(maximum) + "]") +
                     ", got '" + text + "'"};
  return value;
}

namespace {

double parseReal(std::string_view option, const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size() || !std::isfinite(value))
    throw UsageError{std::string(option) + " needs a number, got '" + text + "'"};
  return value;
}

std::vector<int64_t> parseIds(const std::string& text) {
  std::vector<int64_t> ids;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find(',', begin);
    if (end == std::string::npos)
      end = text.size();
    ids.push_back(parseInteger("--prompt-ids", text.substr(begin, end - begin), 0));
    begin = end + 1;
  }
  return ids;
}

} // namespace

namespace {

std::string readPromptFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw UsageError{"--prompt-file " + path + ": cannot open: " + std::strerror(errno)};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

} // namespace

RunOptions parseRunOptions(int argc, char** argv) {
  RunOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw UsageError{std::string(arg) + " needs a value"};
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h")
      o.help = true;
    else if (arg == "--prompt-ids")
      o.promptIds.push_back(parseIds(value()));
    else if (arg == "--prompt")
      o.prompts.push_back(value());
    else if (arg == "--prompt-file")
      o.prompts.push_back(readPromptFile(value()));
    else if (arg == "--chat")
      o.chat = true;
    else if (arg == "--image")
      o.images.push_back(value());
    else if (arg == "--system")
      o.system = value();
    else if (arg == "--chat-format")
      o.chatFormat = value();
    else if (arg == "--stop") {
      o.stops.push_back(value());
      if (o.stops.back().empty())
        throw UsageError{"--stop needs a non-empty string"};
    } else if (arg == "--max-new-tokens")
      o.maxNewTokens = parseInteger(arg, value(), 0);
    else if (arg == "--temperature") {
      o.temperature = parseReal(arg, value());
      if (*o.temperature < 0)
        throw UsageError{"--temperature must be >= 0 (0 is greedy)"};
      if (*o.temperature == 0) { // as OpenAI's APIs read it
        o.temperature.reset();
        o.greedy = true;
      }
    } else if (arg == "--top-k")
      o.topK = parseInteger(arg, value(), 1);
    else if (arg == "--top-p") {
      o.topP = parseReal(arg, value());
      if (*o.topP <= 0 || *o.topP > 1)
        throw UsageError{"--top-p must be in (0, 1]"};
    } else if (arg == "--seed")
      o.seed = uint64_t(parseInteger(arg, value(), 0));
    else if (arg == "--greedy")
      o.greedy = true;
    else if (arg == "--no-eos")
      o.noEos = true;
    else if (arg == "--dump-logits")
      o.dumpLogits = value();
    else if (arg == "--json")
      o.json = true;
    else if (arg == "--profile")
      o.profile = true;
    else if (arg == "--eager")
      o.eager = true;
    else if (arg == "--threads")
      o.threads = int(parseInteger(arg, value(), 1));
    else if (arg == "--info")
      o.info = true;
    else if (arg == "--input")
      o.input = value();
    else if (arg == "--comm-timeout")
      o.commTimeoutSeconds = parseInteger(arg, value(), 1, 86400);
    else if (arg == "--kv-cache-tokens")
      o.kvCacheTokens = parseInteger(arg, value(), 1);
    else if (arg.starts_with("-"))
      throw UsageError{"unknown option " + std::string(arg) + " (see --help)"};
    else if (!o.model.empty())
      throw UsageError{"more than one model given: " + o.model + " and " + std::string(arg)};
    else
      o.model = arg;
  }
  if (o.help)
    return o;
  if (o.model.empty())
    throw UsageError{"no model given (see --help)"};
  if (o.info)
    return o;
  int inputs =
      int(!o.promptIds.empty()) + int(!o.prompts.empty()) + int(o.chat) + int(!o.input.empty());
  if (inputs == 0)
    throw UsageError{"no input given: --prompt TEXT, --prompt-ids 1,2,3, --input FILE or --chat"};
  if (inputs > 1)
    throw UsageError{"use one of --prompt, --prompt-ids, --input and --chat"};
  if (!o.input.empty() && !o.dumpLogits.empty())
    throw UsageError{"--dump-logits cannot be used with --input"};
  if (o.greedy && o.sampling())
    throw UsageError{"--greedy cannot be combined with --temperature, --top-k or --top-p"};
  if ((o.system || o.chatFormat) && !o.chat)
    throw UsageError{"--system and --chat-format need --chat"};
  if (!o.stops.empty() && !o.promptIds.empty())
    throw UsageError{"--stop matches text, so it needs --prompt or --chat"};
  if (!o.images.empty() && o.prompts.size() != 1)
    throw UsageError{"--image needs exactly one --prompt"};
  if (!o.dumpLogits.empty() && o.chat)
    throw UsageError{"--dump-logits cannot be used with --chat"};
  return o;
}

} // namespace fathom::run
