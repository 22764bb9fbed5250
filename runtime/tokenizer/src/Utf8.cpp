#include "fathom/tokenizer/Utf8.h"

#include <cstring>

namespace fathom::tokenizer {
namespace {

enum class SequenceKind { Complete, Truncated, Invalid };

struct Sequence {
  SequenceKind kind;
  // Complete: the sequence length. Truncated/Invalid: the length of the maximal subpart, which is
  // what gets replaced by a single U+FFFD.
  size_t length;
};

// Classifies the sequence starting at bytes[offset] using Unicode's table of well-formed byte
// sequences (Table 3-7): the range allowed for the second byte depends on the lead byte.
Sequence scanSequence(std::string_view bytes, size_t offset) {
  auto lead = static_cast<unsigned char>(bytes[offset]);
  if (lead < 0x80)
    return {SequenceKind::Complete, 1};
  size_t length = 0;
  unsigned char secondLow = 0x80, secondHigh = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0)
      secondLow = 0xA0; // no overlong forms
    else if (lead == 0xED)
      secondHigh = 0x9F; // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0)
      secondLow = 0x90; // no overlong forms
    else if (lead == 0xF4)
      secondHigh = 0x8F; // nothing past U+10FFFF
  } else {
    return {SequenceKind::Invalid, 1};
  }
  for (size_t i = 1; i < length; ++i) {
    if (offset + i >= bytes.size())
      return {SequenceKind::Truncated, i};
    auto byte = static_cast<unsigned char>(bytes[offset + i]);
    unsigned char low = i == 1 ? secondLow : 0x80;
    unsigned char high = i == 1 ? secondHigh : 0xBF;
    if (byte < low || byte > high)
      return {SequenceKind::Invalid, i};
  }
  return {SequenceKind::Complete, length};
}

} // namespace

bool isValidUtf8(std::string_view bytes) {
  size_t offset = 0;
  while (offset < bytes.size()) {
    // Skip ASCII eight bytes at a time: most text is mostly ASCII.
    while (offset + 8 <= bytes.size()) {
      uint64_t word;
      std::memcpy(&word, bytes.data() + offset, 8);
      if (word & 0x8080808080808080ull)
        break;
      offset += 8;
    }
    if (offset >= bytes.size())
      break;
    if (static_cast<unsigned char>(bytes[offset]) < 0x80) {
      ++offset;
      continue;
    }
    Sequence sequence = scanSequence(bytes, offset);
    if (sequence.kind != SequenceKind::Complete)
      return false;
    offset += sequence.length;
  }
  return true;
}

void appendValidUtf8(std::string_view bytes, std::string& out) {
  size_t offset = 0;
  size_t validStart = 0; // start of the run of well-formed bytes not yet copied
  while (offset < bytes.size()) {
    if (static_cast<unsigned char>(bytes[offset]) < 0x80) {
      ++offset;
      continue;
    }
    Sequence sequence = scanSequence(bytes, offset);
    if (sequence.kind == SequenceKind::Complete) {
      offset += sequence.length;
      continue;
    }
    out.append(bytes.substr(validStart, offset - validStart));
    out.append(kReplacementCharacter);
    offset += sequence.length;
    validStart = offset;
  }
  out.append(bytes.substr(validStart));
}

std::string toValidUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  appendValidUtf8(bytes, out);
  return out;
}

size_t incompleteUtf8Suffix(std::string_view bytes) {
  // A sequence is at most 4 bytes, so only a lead byte among the last 3 can start an incomplete
  // one.
  size_t first = bytes.size() > 3 ? bytes.size() - 3 : 0;
  for (size_t offset = bytes.size(); offset-- > first;) {
    auto byte = static_cast<unsigned char>(bytes[offset]);
    if (byte >= 0x80 && byte < 0xC0)
      continue; // a continuation byte: keep looking for its lead
    if (byte < 0x80)
      return 0;
    Sequence sequence = scanSequence(bytes, offset);
    if (sequence.kind == SequenceKind::Truncated && offset + sequence.length == bytes.size())
      return sequence.length;
    return 0;
  }
  return 0;
}

void appendUtf8(char32_t codePoint, std::string& out) {
  if (codePoint < 0x80) {
    out.push_back(static_cast<char>(codePoint));
  } else if (codePoint < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (codePoint >> 6)));
    out.push_back(static_cast<char>(0x80 | (codePoint & 0x3F)));
  } else if (codePoint < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (codePoint >> 12)));
    out.push_back(static_cast<char>(0x80 | ((codePoint >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (codePoint & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (codePoint >> 18)));
    out.push_back(static_cast<char>(0x80 | ((codePoint >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((codePoint >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (codePoint & 0x3F)));
  }
}

char32_t decodeUtf8At(std::string_view bytes, size_t& offset) {
  auto lead = static_cast<unsigned char>(bytes[offset]);
  size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  char32_t codePoint = length == 1   ? lead
                       : length == 2 ? (lead & 0x1F)
                       : length == 3 ? (lead & 0x0F)
                                     : (lead & 0x07);
  for (size_t i = 1; i < length; ++i)
    codePoint = (codePoint << 6) | (static_cast<unsigned char>(bytes[offset + i]) & 0x3F);
  offset += length;
  return codePoint;
}

} // namespace fathom::tokenizer
