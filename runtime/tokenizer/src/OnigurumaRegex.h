#pragma once
// Regexes written for Oniguruma (the engine HF tokenizers uses, with its default Ruby syntax), run
// by PCRE2 in UTF+UCP mode with JIT. The pattern is rewritten where the two engines disagree:
//   \s, \S  -> \p{White_Space}, \P{White_Space}  (PCRE2's \s also matches U+180E; Oniguruma's not)
//   \w, \W  -> letters, marks, decimal digits, connector punctuation (Oniguruma's Unicode \w)
//   \h, \H  -> hexadecimal digits (Ruby's meaning; in PCRE2 \h is horizontal space)
//   ^, $    -> line anchors (Ruby's meaning), via PCRE2_MULTILINE with LF newlines.
// Match iteration follows the Rust onig crate's find_iter, which HF uses: an empty match right
// where the previous match ended is skipped.
#include "JsonFields.h"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::tokenizer::detail {

struct RegexMatch {
  size_t begin;
  size_t end;
};

class OnigurumaRegex {
public:
  // `where` names the tokenizer.json field holding the pattern, for error messages.
  OnigurumaRegex(std::string_view pattern, std::string_view where);
  ~OnigurumaRegex();
  OnigurumaRegex(OnigurumaRegex&&) noexcept;
  OnigurumaRegex& operator=(OnigurumaRegex&&) noexcept;

  // Builds a regex matching `literal` exactly (HF's {"String": ...} patterns).
  static OnigurumaRegex literal(std::string_view literal, std::string_view where);

  // Replaces `matches` by the matches in `text`, which must be valid UTF-8.
  void findAll(std::string_view text, std::vector<RegexMatch>& matches) const;

  // The pattern as given to PCRE2 after the rewrite above (for tests and error messages).
  const std::string& translatedPattern() const { return translated_; }

private:
  struct Compiled;
  std::unique_ptr<Compiled> compiled_;
  std::string translated_;
  std::string where_;
};

// The Oniguruma-to-PCRE2 rewrite on its own; throws fathom::Error naming `where` for constructs
// that have no faithful translation (\W or \H inside a character class, nested classes).
std::string translateOnigurumaPattern(std::string_view pattern, std::string_view where);

// Reads HF's pattern objects {"String": "..."} (a literal) or {"Regex": "..."} (Oniguruma syntax),
// as used by the Split pre-tokenizer and the Replace normalizer.
OnigurumaRegex parsePattern(const Json& object, std::string_view where);

} // namespace fathom::tokenizer::detail
