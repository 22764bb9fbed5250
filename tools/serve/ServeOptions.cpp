#include "ServeOptions.h"

#include "run/RunOptions.h"

#include <filesystem>
#include <string_view>

namespace fathom::serve {

const char* const kServeUsage =
    R"(usage: fathom-serve MODEL.fathom [--host 127.0.0.1] [--port 8000] [options]

Serves a Fathom artifact over HTTP with OpenAI's API, batching the requests it receives
continuously: a new request joins the running batch as soon as a sequence finishes.

Routes
  POST /v1/chat/completions   messages, rendered with the artifact's chat template (DeepSeek-VL:
                              image_url parts with data:image/...;base64, URLs)
  POST /v1/completions        prompt: text or token ids
                              (both: max_tokens / max_completion_tokens, temperature (0 =
                              greedy), top_p, top_k, seed, stop, n = 1, stream, stream_options,
                              logprobs / top_logprobs, and vLLM's ignore_eos)
  GET  /v1/models, /health, /metrics (Prometheus text)
Options
  --host ADDRESS         address to listen on (default 127.0.0.1)
  --port N               port (default 8000; 0 = any free port, printed at start)
  --model-name NAME      the model id clients name (default: the artifact's file name)
  --chat-format NAME     deepseek-v3 or deepseek-vl, when the template is not recognised
  --threads N            CPU threads for the model (default: all)
  --kv-cache-tokens N    size of the KV cache pool in tokens (default: max batch x max
                         sequence length; fathom-compile --report gives the bytes per token)
  --eager                launch every call of every decode step (default on CUDA: each step
                         replays a CUDA graph recorded for its batch and context bucket)
  --max-waiting N        requests that may wait for the batch; more get 429 (default 64)
  --prefill-chunk N      prompt tokens read per step, between decode steps (default 64)
  --prefix-cache N       finished sequences kept in the KV cache, so that a request starting
                         with their tokens (a chat's next turn) prefills only the rest; the
                         oldest goes first when the pool runs short (default 16, 0 = off)
  --max-body-bytes N     larger request bodies get 413 (default 1048576)
  --help                 show this help
)";

ServeOptions parseServeOptions(int argc, char** argv) {
  ServeOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw run::UsageError{std::string(arg) + " needs a value"};
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h")
      o.help = true;
    else if (arg == "--host")
      o.host = value();
    else if (arg == "--port")
      o.port = int(run::parseInteger(arg, value(), 0, 65535));
    else if (arg == "--model-name")
      o.modelName = value();
    else if (arg == "--chat-format")
      o.chatFormat = value();
    else if (arg == "--threads")
      o.threads = int(run::parseInteger(arg, value(), 1, 4096));
    else if (arg == "--kv-cache-tokens")
      o.kvCacheTokens = run::parseInteger(arg, value(), 1, int64_t(1) << 40);
    else if (arg == "--eager")
      o.eager = true;
    else if (arg == "--max-waiting")
      o.maxWaiting = run::parseInteger(arg, value(), 0, 1 << 20);
    else if (arg == "--prefill-chunk")
      o.prefillChunk = run::parseInteger(arg, value(), 1, 1 << 20);
    else if (arg == "--prefix-cache")
      o.prefixCache = run::parseInteger(arg, value(), 0, 1 << 20);
    else if (arg == "--max-body-bytes")
      o.maxBodyBytes = run::parseInteger(arg, value(), 1024, int64_t(1) << 32);
    else if (arg.starts_with("-"))
      throw run::UsageError{"unknown option " + std::string(arg) + " (see --help)"};
    else if (o.model.empty())
      o.model = std::string(arg);
    else
      throw run::UsageError{"one artifact only; got '" + o.model + "' and '" + std::string(arg) +
                            "'"};
  }
  if (o.help)
    return o;
  if (o.model.empty())
    throw run::UsageError{"no artifact given (see --help)"};
  if (o.modelName.empty())
    o.modelName = std::filesystem::path(o.model).stem().string();
  return o;
}

} // namespace fathom::serve
