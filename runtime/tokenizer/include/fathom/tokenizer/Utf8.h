#pragma once
// UTF-8 validation and repair with the exact semantics of Rust's String::from_utf8_lossy, which is
// what Hugging Face tokenizers applies when it decodes ids back to text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fathom::tokenizer {

// The Unicode replacement character U+FFFD, encoded as UTF-8.
inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";

// True when `bytes` is well-formed UTF-8 (no surrogates, no overlong forms, nothing past U+10FFFF).
bool isValidUtf8(std::string_view bytes);

// Replaces each maximal ill-formed subsequence of `bytes` by one U+FFFD (Unicode's "maximal
// subpart" practice, which Rust's from_utf8_lossy and Python's errors="replace" both follow). A
// truncated sequence at the end also becomes one U+FFFD.
std::string toValidUtf8(std::string_view bytes);

// Appends toValidUtf8(bytes) to `out`.
void appendValidUtf8(std::string_view bytes, std::string& out);

// Number of trailing bytes of `bytes` that start a well-formed sequence but stop before it is
// complete (0..3). A streaming decoder holds these back until the next bytes arrive.
size_t incompleteUtf8Suffix(std::string_view bytes);

// Appends the UTF-8 encoding of `codePoint` (which must be a Unicode scalar value).
void appendUtf8(char32_t codePoint, std::string& out);

// Decodes the well-formed sequence starting at `bytes[offset]`, returning the code point and
// advancing `offset`. The caller guarantees the input is valid UTF-8.
char32_t decodeUtf8At(std::string_view bytes, size_t& offset);

} // namespace fathom::tokenizer
