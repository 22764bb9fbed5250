#pragma once
// GPT-2's bytes_to_unicode: the byte-level BPE alphabet maps each of the 256 byte values to a
// printable code point (printable Latin-1 bytes map to themselves, the rest to U+0100..U+0143), so
// that any byte string can be spelled with vocabulary characters. "Ġ" (U+0120) is the space byte.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fathom::tokenizer::detail {

// The code point that spells `byte`.
char32_t byteLevelCodePoint(uint8_t byte);

// The UTF-8 spelling of `byte`'s code point ("Ġ" for 0x20).
const std::string& byteLevelSpelling(uint8_t byte);

// The byte a code point spells, or nullopt when the code point is not in the alphabet.
std::optional<uint8_t> byteLevelByte(char32_t codePoint);

// Appends the bytes a token's characters spell. Returns false, leaving `out` unchanged, when some
// character is outside the alphabet; HF then keeps the token's own UTF-8 bytes (this is how added
// tokens such as "<｜User｜>" decode).
bool appendByteLevelDecodedToken(std::string_view token, std::string& out);

// The regex that ByteLevel(use_regex=true) splits with (GPT-2's pattern, as in HF tokenizers).
inline constexpr std::string_view kGpt2SplitPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

} // namespace fathom::tokenizer::detail
