// fathom-tokenize: a checkpoint's tokenizer and chat format as a JSON-lines filter, for scripts and
// for comparing Fathom with Hugging Face. One JSON object per input line, one per output line, in
// order. A malformed line gets {"error": "line N: ..."} and processing continues; the exit status
// is non-zero when any line failed. Links the runtime tokenizer only (never MLIR).
#include "common/Hints.h"
#include "common/Version.h"
#include "run/Generation.h"

#include "fathom/artifact/Artifact.h"
#include "fathom/runtime/Error.h"
#include "fathom/tokenizer/ChatFormat.h"
#include "fathom/tokenizer/Tokenizer.h"

#include "fathom/runtime/Json.h"

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

using fathom::tokenizer::ChatFormat;
using fathom::tokenizer::TokenId;
using fathom::tokenizer::Tokenizer;
using Json = nlohmann::json;

constexpr const char* kUsage =
    R"(usage: fathom-tokenize TOKENIZER_DIR|MODEL.fathom [options] < input.jsonl

Reads JSON lines on stdin and writes one JSON line per input line, in order.
TOKENIZER_DIR holds tokenizer.json and, optionally, tokenizer_config.json; an artifact gives
the tokenizer and chat template embedded in it.

Modes:
  (default)              {"text": "..."}  ->  {"ids": [...]}
  --decode               {"ids": [...]}   ->  {"text": "..."}
  --chat                 {"messages": [...], "add_generation_prompt": true}
                                          ->  {"text": "...", "ids": [...]}
Options:
  --add-special-tokens   encode: add BOS/EOS as transformers would (add_bos_token for
                         LlamaTokenizerFast configs; DeepSeek-V3 gets BOS). Default: off,
                         like HF encode(text, add_special_tokens=False).
  --skip-special-tokens  decode: leave out added tokens marked special.
  --chat-format NAME     chat: render with NAME (deepseek-v3 | deepseek-vl) instead of
                         recognising the checkpoint's chat_template. Chat ids get BOS from
                         the tokenizer only when the rendered text does not start with it.
  --help                 show this text.

Blank lines and lines starting with '#' are skipped. Invalid UTF-8 cannot reach the
tokenizer through JSON (the parser rejects it); Tokenizer::encode itself replaces it by
U+FFFD. A malformed line yields {"error": "line N: ..."}; the exit status is 1 if any
line failed, 2 for usage or loading errors.
)";

enum class Mode { Encode, Decode, Chat };

struct Options {
  std::string directory;
  Mode mode = Mode::Encode;
  bool addSpecialTokens = false;
  bool skipSpecialTokens = false;
  std::optional<std::string> chatFormatName;
};

[[noreturn]] void usageError(const std::string& message) {
  std::cerr << "fathom-tokenize: " << message << "\n(run with --help for usage)\n";
  std::exit(2);
}

Options parseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string argument = argv[i];
    if (argument == "--help" || argument == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (argument == "--decode") {
      options.mode = Mode::Decode;
    } else if (argument == "--chat") {
      options.mode = Mode::Chat;
    } else if (argument == "--add-special-tokens") {
      options.addSpecialTokens = true;
    } else if (argument == "--skip-special-tokens") {
      options.skipSpecialTokens = true;
    } else if (argument == "--chat-format") {
      if (++i >= argc)
        usageError("--chat-format needs a name (deepseek-v3 or deepseek-vl)");
      options.chatFormatName = argv[i];
    } else if (argument.starts_with("-")) {
      usageError("unknown option " + argument);
    } else if (options.directory.empty()) {
      options.directory = argument;
    } else {
      usageError("unexpected argument " + argument);
    }
  }
  if (options.directory.empty())
    usageError("missing TOKENIZER_DIR");
  if (options.chatFormatName && options.mode != Mode::Chat)
    usageError("--chat-format only applies with --chat");
  return options;
}

// A problem with one input line; becomes its {"error": ...} output.
struct LineError {
  std::string message;
};

const Json& member(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end())
    throw LineError{std::string("missing field \"") + key + "\""};
  return *it;
}

Json encodeLine(const Tokenizer& tokenizer, const Json& input, bool addSpecialTokens) {
  const Json& text = member(input, "text");
  if (!text.is_string())
    throw LineError{"field \"text\" must be a string"};
  return Json{{"ids", tokenizer.encode(text.get_ref<const std::string&>(), addSpecialTokens)}};
}

Json decodeLine(const Tokenizer& tokenizer, const Json& input, bool skipSpecialTokens) {
  const Json& idsJson = member(input, "ids");
  if (!idsJson.is_array())
    throw LineError{"field \"ids\" must be an array of token ids"};
  std::vector<TokenId> ids;
  ids.reserve(idsJson.size());
  for (size_t i = 0; i < idsJson.size(); ++i) {
    const Json& id = idsJson[i];
    std::string where = "ids[" + std::to_string(i) + "]";
    if (!id.is_number_unsigned() && !id.is_number_integer())
      throw LineError{where + " must be an integer, got " + std::string(id.type_name())};
    if (id.is_number_integer() && id.get<int64_t>() < 0)
      throw LineError{where + " = " + id.dump() + " is negative"};
    uint64_t value = id.get<uint64_t>();
    if (value >= tokenizer.idLimit() || !tokenizer.isValidId(static_cast<TokenId>(value)))
      throw LineError{where + " = " + std::to_string(value) +
                      " is out of range (valid ids are 0.." +
                      std::to_string(tokenizer.idLimit() - 1) + ")"};
    ids.push_back(static_cast<TokenId>(value));
  }
  return Json{{"text", tokenizer.decode(ids, skipSpecialTokens)}};
}

Json chatLine(const Tokenizer& tokenizer, ChatFormat format, const Json& input) {
  const Json& messages = member(input, "messages");
  bool addGenerationPrompt = false;
  if (auto it = input.find("add_generation_prompt"); it != input.end()) {
    if (!it->is_boolean())
      throw LineError{"field \"add_generation_prompt\" must be a boolean"};
    addGenerationPrompt = it->get<bool>();
  }
  std::string text = renderChat(format, messages, addGenerationPrompt, tokenizer.config());
  return Json{{"text", text}, {"ids", encodeRenderedChat(tokenizer, text)}};
}

bool skippedLine(const std::string& line) {
  size_t first = line.find_first_not_of(" \t");
  return first == std::string::npos || line[first] == '#';
}

void writeLine(const Json& output) {
  // Decoded text is valid UTF-8 by construction; replace is a guard, never a silent change.
  std::cout << output.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
  std::cout.flush();
}

} // namespace

int main(int argc, char** argv) {
  if (fathom::tools::printedVersion(argc, argv, "fathom-tokenize"))
    return 0;
  Options options = parseOptions(argc, argv);
  std::optional<Tokenizer> tokenizer;
  ChatFormat chatFormat = ChatFormat::DeepSeekV3;
  try {
    // An artifact carries its checkpoint's tokenizer files: the same tokenizer, embedded.
    if (fathom::tools::looksLikeArtifact(options.directory))
      tokenizer.emplace(std::move(*fathom::run::loadTokenizer(*fathom::artifact::Artifact::open(
          options.directory, fathom::artifact::Artifact::Verify::MetadataOnly))));
    else
      tokenizer.emplace(Tokenizer::fromDirectory(options.directory));
    if (options.mode == Mode::Chat) {
      std::optional<ChatFormat> requested;
      if (options.chatFormatName)
        requested = fathom::tokenizer::parseChatFormatName(*options.chatFormatName);
      chatFormat = fathom::tokenizer::selectChatFormat(tokenizer->config(), requested);
    }
  } catch (const fathom::Error& error) {
    std::cerr << "fathom-tokenize: " << error.what() << '\n';
    return 2;
  }

  std::ios::sync_with_stdio(false);
  bool anyFailed = false;
  std::string line;
  for (size_t lineNumber = 1; std::getline(std::cin, line); ++lineNumber) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (skippedLine(line))
      continue;
    std::string prefix = "line " + std::to_string(lineNumber) + ": ";
    try {
      Json input = fathom::parseJson(line, "", {.duplicates = fathom::DuplicateKeys::KeepLast});
      if (!input.is_object())
        throw LineError{"expected a JSON object, got " + std::string(input.type_name())};
      switch (options.mode) {
      case Mode::Encode:
        writeLine(encodeLine(*tokenizer, input, options.addSpecialTokens));
        break;
      case Mode::Decode:
        writeLine(decodeLine(*tokenizer, input, options.skipSpecialTokens));
        break;
      case Mode::Chat:
        writeLine(chatLine(*tokenizer, chatFormat, input));
        break;
      }
    } catch (const LineError& error) {
      anyFailed = true;
      writeLine(Json{{"error", prefix + error.message}});
    } catch (const fathom::Error& error) {
      anyFailed = true;
      writeLine(Json{{"error", prefix + error.what()}});
    }
  }
  return anyFailed ? 1 : 0;
}
