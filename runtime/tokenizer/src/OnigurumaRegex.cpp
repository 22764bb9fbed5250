#define PCRE2_CODE_UNIT_WIDTH 8
#include "OnigurumaRegex.h"

#include "fathom/runtime/Error.h"

#include <pcre2.h>

#include <cctype>

namespace fathom::tokenizer::detail {
namespace {

constexpr std::string_view kWordClassBody = R"(\p{L}\p{M}\p{Nd}\p{Pc})";
constexpr std::string_view kHexClassBody = "0-9A-Fa-f";

std::string pcre2ErrorMessage(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof(buffer));
  return reinterpret_cast<const char*>(buffer);
}

// Per-thread match state: a match block with one ovector pair (only the whole match is needed) and
// a JIT stack large enough for the lookahead patterns on megabyte-long whitespace runs.
class ThreadMatchState {
public:
  ThreadMatchState() {
    data_ = pcre2_match_data_create(1, nullptr);
    context_ = pcre2_match_context_create(nullptr);
    stack_ = pcre2_jit_stack_create(32 * 1024, 16 * 1024 * 1024, nullptr);
    if (!data_ || !context_ || !stack_)
      throw Error("tokenizer: out of memory creating PCRE2 match state");
    pcre2_jit_stack_assign(context_, nullptr, stack_);
  }
  ~ThreadMatchState() {
    pcre2_jit_stack_free(stack_);
    pcre2_match_context_free(context_);
    pcre2_match_data_free(data_);
  }
  ThreadMatchState(const ThreadMatchState&) = delete;
  ThreadMatchState& operator=(const ThreadMatchState&) = delete;

  pcre2_match_data* data() const { return data_; }
  pcre2_match_context* context() const { return context_; }

private:
  pcre2_match_data* data_ = nullptr;
  pcre2_match_context* context_ = nullptr;
  pcre2_jit_stack* stack_ = nullptr;
};

ThreadMatchState& threadMatchState() {
  thread_local ThreadMatchState state;
  return state;
}

// Appends a class body, bracketed unless already inside a class.
void appendClass(std::string& out, std::string_view body, bool inClass, bool negated) {
  if (!inClass)
    out.append(negated ? "[^" : "[");
  out.append(body);
  if (!inClass)
    out.push_back(']');
}

size_t nextCodePointBoundary(std::string_view text, size_t offset) {
  ++offset;
  while (offset < text.size() && (static_cast<unsigned char>(text[offset]) & 0xC0) == 0x80)
    ++offset;
  return offset;
}

} // namespace

std::string translateOnigurumaPattern(std::string_view pattern, std::string_view where) {
  std::string out;
  out.reserve(pattern.size() + 32);
  bool inClass = false;
  size_t i = 0;
  auto unsupported = [&](std::string_view what) {
    throw Error(std::string(where) + ": regex construct " + std::string(what) +
                " has no PCRE2 equivalent in Fathom (pattern: " + std::string(pattern) + ")");
  };
  while (i < pattern.size()) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      char escaped = pattern[i + 1];
      i += 2;
      switch (escaped) {
      case 's':
        out += R"(\p{White_Space})";
        break;
      case 'S':
        out += R"(\P{White_Space})";
        break;
      case 'w':
        appendClass(out, kWordClassBody, inClass, false);
        break;
      case 'W':
        if (inClass)
          unsupported("\\W inside a character class");
        appendClass(out, kWordClassBody, false, true);
        break;
      case 'h':
        appendClass(out, kHexClassBody, inClass, false);
        break;
      case 'H':
        if (inClass)
          unsupported("\\H inside a character class");
        appendClass(out, kHexClassBody, false, true);
        break;
      case 'Q': {
        // Quoted literal text runs to \E (or the end) and is copied untouched.
        size_t end = pattern.find("\\E", i);
        size_t stop = end == std::string_view::npos ? pattern.size() : end + 2;
        out += "\\Q";
        out.append(pattern.substr(i, stop - i));
        i = stop;
        break;
      }
      default:
        out += '\\';
        out += escaped;
      }
      continue;
    }
    if (!inClass && c == '[') {
      inClass = true;
      out += c;
      ++i;
      if (i < pattern.size() && pattern[i] == '^')
        out += pattern[i++];
      if (i < pattern.size() && pattern[i] == ']')
        out += pattern[i++]; // a leading ']' is a literal member
      continue;
    }
    if (inClass && c == '[') {
      if (i + 1 < pattern.size() && pattern[i + 1] == ':') {
        size_t end = pattern.find(":]", i + 2);
        if (end == std::string_view::npos)
          unsupported("unterminated POSIX class");
        out.append(pattern.substr(i, end + 2 - i));
        i = end + 2;
        continue;
      }
      unsupported("nested character class");
    }
    if (inClass && c == ']')
      inClass = false;
    out += c;
    ++i;
  }
  return out;
}

struct OnigurumaRegex::Compiled {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Compiled() { pcre2_code_free(code); }
};

OnigurumaRegex::OnigurumaRegex(std::string_view pattern, std::string_view where)
    : compiled_(std::make_unique<Compiled>()),
      translated_(translateOnigurumaPattern(pattern, where)), where_(where) {
  pcre2_compile_context* context = pcre2_compile_context_create(nullptr);
  pcre2_set_newline(context, PCRE2_NEWLINE_LF);
  int errorCode = 0;
  PCRE2_SIZE errorOffset = 0;
  compiled_->code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated_.data()), translated_.size(),
                    PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE, &errorCode, &errorOffset, context);
  pcre2_compile_context_free(context);
  if (!compiled_->code)
    throw Error(where_ + ": cannot compile regex " + std::string(pattern) + ": " +
                pcre2ErrorMessage(errorCode) + " at offset " + std::to_string(errorOffset));
  // JIT is an optimisation: when the platform lacks it, the interpreter gives the same matches.
  compiled_->jit = pcre2_jit_compile(compiled_->code, PCRE2_JIT_COMPLETE) == 0;
}

OnigurumaRegex::~OnigurumaRegex() = default;
OnigurumaRegex::OnigurumaRegex(OnigurumaRegex&&) noexcept = default;
OnigurumaRegex& OnigurumaRegex::operator=(OnigurumaRegex&&) noexcept = default;

OnigurumaRegex OnigurumaRegex::literal(std::string_view literal, std::string_view where) {
  // Escaping every ASCII punctuation character is always literal in both engines; other bytes
  // (letters, digits, UTF-8 sequences) are literal already.
  if (literal.empty())
    return OnigurumaRegex("(?!)", where); // HF: an empty literal matches nowhere
  std::string pattern;
  for (char c : literal) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80 && !std::isalnum(byte) && c != ' ' && c != '\n' && c != '\r' && c != '\t')
      pattern += '\\';
    pattern += c;
  }
  return OnigurumaRegex(pattern, where);
}

void OnigurumaRegex::findAll(std::string_view text, std::vector<RegexMatch>& matches) const {
  matches.clear();
  ThreadMatchState& state = threadMatchState();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t searchFrom = 0;
  bool havePreviousMatch = false;
  size_t previousMatchEnd = 0;
  while (searchFrom <= text.size()) {
    int rc = compiled_->jit ? pcre2_jit_match(compiled_->code, subject, text.size(), searchFrom,
                                              PCRE2_NO_UTF_CHECK, state.data(), state.context())
                            : pcre2_match(compiled_->code, subject, text.size(), searchFrom,
                                          PCRE2_NO_UTF_CHECK, state.data(), state.context());
    if (rc == PCRE2_ERROR_NOMATCH)
      return;
    if (rc < 0)
      throw Error(where_ + ": regex match failed: " + pcre2ErrorMessage(rc));
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(state.data());
    size_t begin = ovector[0], end = ovector[1];
    if (begin == end && havePreviousMatch && previousMatchEnd == end) {
      searchFrom =
          searchFrom < text.size() ? nextCodePointBoundary(text, searchFrom) : text.size() + 1;
      continue;
    }
    matches.push_back({begin, end});
    searchFrom = end;
    havePreviousMatch = true;
    previousMatchEnd = end;
  }
}

OnigurumaRegex parsePattern(const Json& object, std::string_view where) {
  requireObject(object, where);
  if (const Json* literal = optionalMember(object, "String")) {
    if (!literal->is_string())
      fail(fieldPath(where, "String"), "expected a string, got " + describeJsonType(*literal));
    return OnigurumaRegex::literal(literal->get<std::string>(), fieldPath(where, "String"));
  }
  if (const Json* regex = optionalMember(object, "Regex")) {
    if (!regex->is_string())
      fail(fieldPath(where, "Regex"), "expected a string, got " + describeJsonType(*regex));
    return OnigurumaRegex(regex->get<std::string>(), fieldPath(where, "Regex"));
  }
  fail(where, "expected {\"String\": ...} or {\"Regex\": ...}");
}

} // namespace fathom::tokenizer::detail
