// Lossy UTF-8 repair must equal Rust's String::from_utf8_lossy (what HF decode does) and Python's
// bytes.decode("utf-8", "replace"): one U+FFFD per maximal ill-formed subsequence.
#include "fathom/tokenizer/Utf8.h"

#include <gtest/gtest.h>

namespace fathom::tokenizer {
namespace {

const std::string kFffd(kReplacementCharacter);

TEST(Utf8, RepairsMaximalSubpartsLikeFromUtf8Lossy) {
  EXPECT_EQ(toValidUtf8("plain ascii"), "plain ascii");
  EXPECT_EQ(toValidUtf8("h\xC3\xA9llo 🚀"), "h\xC3\xA9llo 🚀");
  EXPECT_EQ(toValidUtf8("\xF0\x9F\x9A"), kFffd);                 // truncated 4-byte sequence
  EXPECT_EQ(toValidUtf8("\xF0\x9F\x9A hi"), kFffd + " hi");      // broken by ASCII
  EXPECT_EQ(toValidUtf8("\xED\xA0\x80"), kFffd + kFffd + kFffd); // surrogate: lead not a prefix
  EXPECT_EQ(toValidUtf8("\xE0\x80\x80"), kFffd + kFffd + kFffd); // overlong
  EXPECT_EQ(toValidUtf8("\xC0\xAF"), kFffd + kFffd);
  EXPECT_EQ(toValidUtf8("\xF4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd); // > U+10FFFF
  EXPECT_EQ(toValidUtf8("a\x80"
                        "b"),
            "a" + kFffd + "b");
  EXPECT_EQ(toValidUtf8("\xE2\x82\xAC\xE2"), "€" + kFffd);
  EXPECT_EQ(toValidUtf8("\xE2\xE2\x82\xAC"), kFffd + "€");
  EXPECT_EQ(toValidUtf8(std::string("\0x", 2)), std::string("\0x", 2));
}

TEST(Utf8, Validates) {
  EXPECT_TRUE(isValidUtf8(""));
  EXPECT_TRUE(isValidUtf8("\xF4\x8F\xBF\xBF"));
  EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80"));
  EXPECT_FALSE(isValidUtf8("\xED\xB0\x80"));
  EXPECT_FALSE(isValidUtf8("\xC3"));
}

TEST(Utf8, IncompleteSuffixIsOnlyAValidPrefix) {
  EXPECT_EQ(incompleteUtf8Suffix(""), 0u);
  EXPECT_EQ(incompleteUtf8Suffix("abc"), 0u);
  EXPECT_EQ(incompleteUtf8Suffix("a\xF0\x9F\x9A"), 3u);
  EXPECT_EQ(incompleteUtf8Suffix("a\xF0\x9F"), 2u);
  EXPECT_EQ(incompleteUtf8Suffix("a\xE2"), 1u);
  EXPECT_EQ(incompleteUtf8Suffix("\xF0\x9F\x9A\x80"), 0u); // complete
  EXPECT_EQ(incompleteUtf8Suffix("\xE0\x80"), 0u);         // can never complete
  EXPECT_EQ(incompleteUtf8Suffix("\x80\x80"), 0u);
  EXPECT_EQ(incompleteUtf8Suffix("\xF5"), 0u);
}

TEST(Utf8, ExhaustiveTwoByteSequencesAgreeWithStreamingSplit) {
  // Splitting anywhere and repairing the halves separately (holding back an incomplete tail) gives
  // the same text as repairing the whole: the property the streaming detokenizer relies on.
  for (unsigned a = 0x80; a < 0x100; ++a)
    for (unsigned b = 0; b < 0x100; b += 3) {
      std::string bytes{'x', static_cast<char>(a), static_cast<char>(b), '\x80', 'y'};
      for (size_t cut = 0; cut <= bytes.size(); ++cut) {
        std::string head = bytes.substr(0, cut);
        size_t held = incompleteUtf8Suffix(head);
        std::string streamed = toValidUtf8(head.substr(0, head.size() - held)) +
                               toValidUtf8(head.substr(head.size() - held) + bytes.substr(cut));
        ASSERT_EQ(streamed, toValidUtf8(bytes)) << std::hex << a << " " << b << " cut " << cut;
      }
    }
}

} // namespace
} // namespace fathom::tokenizer
