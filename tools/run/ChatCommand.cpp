// fathom-run --chat: the interactive loop over a Conversation. One message per line; Ctrl-C
// cuts the current reply short and returns to the prompt, a second Ctrl-C (or one at the
// prompt) ends the chat, as does /exit or the end of input.
#include "Chat.h"
#include "Commands.h"
#include "Generation.h"

#include "Artifact_generated.h"
#include "fathom/comm/Communicator.h"
#include "fathom/runtime/Error.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>

namespace fathom::run {
namespace {

volatile std::sig_atomic_t interrupts = 0;

void onInterrupt(int) {
  interrupts = interrupts + 1;
  if (interrupts >= 2)
    _exit(130);
}

// No SA_RESTART: Ctrl-C at the prompt interrupts the read.
void catchInterrupts() {
  struct sigaction action = {};
  action.sa_handler = onInterrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
}

constexpr const char* kHelp =
    "commands: /help this list, /reset forget the conversation, /exit end the chat,\n"
    "  /image FILE a JPEG or PNG for the next message (vision-language models)\n"
    "Ctrl-C stops a reply (twice: exits); end of input (Ctrl-D) exits\n";

} // namespace

int chat(executor::Model& model, const RunOptions& o) {
  auto tok = loadTokenizer(model);
  std::optional<tokenizer::ChatFormat> requested;
  if (o.chatFormat)
    requested = tokenizer::parseChatFormatName(*o.chatFormat);
  tokenizer::ChatFormat format = tokenizer::selectChatFormat(tok->config(), requested);
  const executor::GenerationOptions options = generationOptions(model, o, 256);
  const bool interactive = isatty(STDIN_FILENO);
  Conversation conversation(model, *tok, format, o.system);
  catchInterrupts();
  if (interactive) {
    const auto* config = model.artifact().metadata().model_config_json();
    const nlohmann::json parsed =
        config ? nlohmann::json::parse(config->string_view(), nullptr, false) : nlohmann::json();
    const std::string type =
        parsed.is_object() && parsed.contains("model_type") && parsed["model_type"].is_string()
            ? parsed["model_type"].get<std::string>()
            : std::string("the model");
    std::fprintf(stderr,
                 "fathom-run: chatting with %s (%s, a context of %lld tokens); /help for "
                 "commands\n",
                 type.c_str(), std::string(dtypeName(model.computeDtype())).c_str(),
                 static_cast<long long>(model.maxSeqLen()));
  }
  std::string line;
  std::vector<std::string> pendingImages;
  while (true) {
    interrupts = 0;
    if (interactive)
      std::fprintf(stderr, "> ");
    if (!std::getline(std::cin, line) || line == "/exit") {
      if (interactive)
        std::fprintf(stderr, "\n");
      break;
    }
    if (line.empty())
      continue;
    if (line == "/help") {
      std::fputs(kHelp, stderr);
      continue;
    }
    if (line.starts_with("/image ")) {
      std::string path = line.substr(7);
      if (!conversation.takesImages())
        std::fprintf(stderr, "fathom-run: this model takes no images (it has no vision tower)\n");
      else if (FILE* file = std::fopen(path.c_str(), "rb")) {
        std::fclose(file);
        pendingImages.push_back(path);
        std::fprintf(stderr, "fathom-run: %s goes with the next message\n", path.c_str());
      } else {
        std::fprintf(stderr, "fathom-run: %s: cannot open the image\n", path.c_str());
      }
      continue;
    }
    if (line == "/reset") {
      pendingImages.clear();
      conversation.reset();
      std::fprintf(stderr, "fathom-run: the conversation is forgotten\n");
      continue;
    }
    if (line[0] == '/' && line.find(' ') == std::string::npos) {
      std::fprintf(stderr, "fathom-run: unknown command %s; /help lists them\n", line.c_str());
      continue;
    }
    Conversation::Turn turn;
    try {
      turn = conversation.say(
          line, options, o.maxNewTokens.has_value(), o.stops,
          [&](const std::string& text) {
            if (!o.json) {
              std::fwrite(text.data(), 1, text.size(), stdout);
              std::fflush(stdout);
            }
            return interrupts > 0;
          },
          pendingImages);
      pendingImages.clear();
    } catch (const comm::CommError&) {
      throw; // the world is gone: no later request can run
    } catch (const Error& error) {
      std::fprintf(stderr, "fathom-run: %s\n", error.what());
      pendingImages.clear();
      continue;
    }
    if (turn.droppedTurns > 0)
      std::fprintf(stderr,
                   "fathom-run: the conversation outgrew the %lld-token context; the oldest %lld "
                   "turn%s dropped\n",
                   static_cast<long long>(model.maxSeqLen()),
                   static_cast<long long>(turn.droppedTurns),
                   turn.droppedTurns == 1 ? " was" : "s were");
    Timing timing = timingOf(turn.result);
    if (o.json) {
      nlohmann::json out = timingJson(timing, model.numThreads());
      out["ids"] = turn.result.newTokens.front();
      out["text"] = turn.reply;
      out["finish_reason"] = turn.finishReason;
      out["rendered_tokens"] = turn.renderedTokens;
      out["reused_tokens"] = turn.reusedTokens;
      out["dropped_turns"] = turn.droppedTurns;
      std::cout << out.dump() << std::endl;
    } else {
      std::printf("\n");
      std::fflush(stdout);
      if (turn.finishReason == "interrupted")
        std::fprintf(stderr, "fathom-run: reply stopped\n");
      printTiming(timing, model.numThreads());
    }
  }
  return 0;
}

} // namespace fathom::run
