// fathom-run's text stream: whole UTF-8 characters only, stop strings held back until they
// match or cannot, and the stop string itself never printed.
#include "run/TextStream.h"

#include "fathom/tokenizer/Utf8.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace fathom::run {
namespace {

const tokenizer::Tokenizer& demoTokenizer() {
  static tokenizer::Tokenizer tok = tokenizer::Tokenizer::fromDirectory(
      std::filesystem::path(FATHOM_SOURCE_DIR) / "tools" / "demo" / "kjv-v3");
  return tok;
}

std::vector<int64_t> encode(const std::string& text) {
  auto ids = demoTokenizer().encode(text);
  return {ids.begin(), ids.end()};
}

TEST(TextStream, EmitsOnlyWholeCharactersAndEndsWithTheDecodedText) {
  // The demo vocabulary has no token for these characters: they arrive as single bytes.
  std::string text = "In the beginning \xC3\xA9\xF0\x9F\x98\x80 God \xE2\x9C\x93 created";
  TextStream stream(demoTokenizer(), {});
  std::string all;
  for (int64_t id : encode(text)) {
    std::string chunk = stream.push(id);
    EXPECT_TRUE(tokenizer::isValidUtf8(chunk)) << "chunk after id " << id;
    all += chunk;
  }
  all += stream.finish();
  EXPECT_EQ(all, text);
  EXPECT_EQ(stream.text(), text);
  EXPECT_FALSE(stream.stopped());
}

TEST(TextStream, StopsBeforeTheStopStringAndHoldsBackItsPrefix) {
  TextStream stream(demoTokenizer(), {"LORD said"});
  std::string printed;
  bool sawHeldBack = false;
  for (int64_t id : encode("And the LORD spake, and the LORD said unto Moses")) {
    printed += stream.push(id);
    // While "LORD" may still begin "LORD said", it is not printed.
    if (printed.ends_with("the "))
      sawHeldBack = true;
    if (stream.stopped())
      break;
  }
  printed += stream.finish();
  EXPECT_TRUE(stream.stopped());
  EXPECT_TRUE(sawHeldBack);
  EXPECT_EQ(printed, "And the LORD spake, and the ");
  EXPECT_EQ(stream.text(), printed);
  EXPECT_EQ(stream.push(encode(" more")[0]), "");
}

TEST(TextStream, ReleasesAHeldBackPrefixAtTheEnd) {
  TextStream stream(demoTokenizer(), {"LORD said"});
  std::string printed;
  for (int64_t id : encode("and the LORD"))
    printed += stream.push(id);
  EXPECT_EQ(printed, "and the ");
  printed += stream.finish();
  EXPECT_EQ(printed, "and the LORD");
  EXPECT_FALSE(stream.stopped());
}

} // namespace
} // namespace fathom::run
