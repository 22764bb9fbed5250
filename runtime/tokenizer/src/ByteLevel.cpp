#include "ByteLevel.h"

#include "fathom/tokenizer/Utf8.h"

#include <vector>

namespace fathom::tokenizer::detail {
namespace {

struct ByteLevelTables {
  std::array<char32_t, 256> codePointOfByte{};
  std::array<std::string, 256> spellingOfByte;
  // Indexed by code point; -1 where the code point is not in the alphabet. All code points used are
  // below 0x144.
  std::vector<int> byteOfCodePoint;

  ByteLevelTables() : byteOfCodePoint(0x144, -1) {
    auto printable = [](unsigned byte) {
      return (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) ||
             (byte >= 0xAE && byte <= 0xFF);
    };
    char32_t next = 256;
    for (unsigned byte = 0; byte < 256; ++byte) {
      char32_t codePoint = printable(byte) ? static_cast<char32_t>(byte) : next++;
      codePointOfByte[byte] = codePoint;
      appendUtf8(codePoint, spellingOfByte[byte]);
      byteOfCodePoint[codePoint] = static_cast<int>(byte);
    }
  }
};

const ByteLevelTables& tables() {
  static const ByteLevelTables instance;
  return instance;
}

} // namespace

char32_t byteLevelCodePoint(uint8_t byte) {
  return tables().codePointOfByte[byte];
}

const std::string& byteLevelSpelling(uint8_t byte) {
  return tables().spellingOfByte[byte];
}

std::optional<uint8_t> byteLevelByte(char32_t codePoint) {
  const auto& table = tables().byteOfCodePoint;
  if (codePoint >= table.size() || table[codePoint] < 0)
    return std::nullopt;
  return static_cast<uint8_t>(table[codePoint]);
}

bool appendByteLevelDecodedToken(std::string_view token, std::string& out) {
  size_t original = out.size();
  size_t offset = 0;
  while (offset < token.size()) {
    std::optional<uint8_t> byte = byteLevelByte(decodeUtf8At(token, offset));
    if (!byte) {
      out.resize(original);
      return false;
    }
    out.push_back(static_cast<char>(*byte));
  }
  return true;
}

} // namespace fathom::tokenizer::detail
