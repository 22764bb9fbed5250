// The Oniguruma-to-PCRE2 layer (internal): pattern rewrites and find_iter semantics.
#include "OnigurumaRegex.h"

#include "fathom/runtime/Error.h"

#include <gtest/gtest.h>

namespace fathom::tokenizer::detail {
namespace {

std::vector<std::pair<size_t, size_t>> matches(std::string_view pattern, std::string_view text) {
  OnigurumaRegex regex(pattern, "test");
  std::vector<RegexMatch> found;
  regex.findAll(text, found);
  std::vector<std::pair<size_t, size_t>> spans;
  for (const auto& match : found)
    spans.emplace_back(match.begin, match.end);
  return spans;
}

using Spans = std::vector<std::pair<size_t, size_t>>;

TEST(OnigurumaRegex, RewritesClassesWhereEnginesDiffer) {
  EXPECT_EQ(translateOnigurumaPattern(R"(\s+(?!\S))", "t"),
            R"(\p{White_Space}+(?!\P{White_Space}))");
  EXPECT_EQ(translateOnigurumaPattern(R"([^\s\p{L}])", "t"), R"([^\p{White_Space}\p{L}])");
  EXPECT_EQ(translateOnigurumaPattern(R"(\\s)", "t"), R"(\\s)"); // an escaped backslash, then s
  EXPECT_EQ(translateOnigurumaPattern(R"(\Q\s\E\s)", "t"), R"(\Q\s\E\p{White_Space})");
  EXPECT_EQ(translateOnigurumaPattern(R"([\]\s])", "t"), R"([\]\p{White_Space}])");
  EXPECT_EQ(translateOnigurumaPattern(R"(\h)", "t"), "[0-9A-Fa-f]");
  EXPECT_THROW(translateOnigurumaPattern(R"([\W])", "t"), Error);
}

TEST(OnigurumaRegex, WhitespaceFollowsUnicodeWhiteSpace) {
  // U+180E is not White_Space since Unicode 6.3 (Oniguruma agrees; PCRE2's own \s does not).
  EXPECT_EQ(matches(R"(\s)", "\u180E"), Spans{});
  EXPECT_EQ(matches(R"(\s+)", "a\u3000\u2028b"), (Spans{{1, 7}}));
}

TEST(OnigurumaRegex, LineAnchorsAsInRuby) {
  EXPECT_EQ(matches("a$", "xa\nya"), (Spans{{1, 2}, {4, 5}}));
  EXPECT_EQ(matches("^a", "ab\nab"), (Spans{{0, 1}, {3, 4}}));
}

TEST(OnigurumaRegex, EmptyMatchesFollowOnigFindIter) {
  // An empty match right where the previous match ended is skipped (Rust onig crate).
  EXPECT_EQ(matches("x*", "abxxc"), (Spans{{0, 0}, {1, 1}, {2, 4}, {5, 5}}));
  EXPECT_EQ(matches("x*", ""), (Spans{{0, 0}}));
  EXPECT_EQ(matches("", "é"), (Spans{{0, 0}, {2, 2}}));
}

TEST(OnigurumaRegex, LiteralPatternsEscapeEverything) {
  OnigurumaRegex literal = OnigurumaRegex::literal("a.b*(c)", "t");
  std::vector<RegexMatch> found;
  literal.findAll("a.b*(c) axb", found);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].end, 7u);
  OnigurumaRegex empty = OnigurumaRegex::literal("", "t"); // HF: matches nowhere
  empty.findAll("abc", found);
  EXPECT_TRUE(found.empty());
}

TEST(OnigurumaRegex, MegabyteWhitespaceRunDoesNotExhaustTheJitStack) {
  std::string spaces(1 << 20, ' ');
  EXPECT_EQ(matches(R"(\s+(?!\S)|\s+)", spaces), (Spans{{0, spaces.size()}}));
}

} // namespace
} // namespace fathom::tokenizer::detail
