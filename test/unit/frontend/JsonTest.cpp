// Strict JSON: duplicate keys are errors at any depth, nesting and file sizes are bounded,
// messages are one line.
#include "TestCheckpoint.h"

#include "fathom/frontend/Json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {
using namespace fathom::frontend;
namespace ft = fathom::frontend::testing;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(Json, ParsesWellFormedText) {
  nlohmann::json json = parseJsonStrict(R"({"a": 1, "b": {"c": [1, 2]}})", "x.json");
  EXPECT_EQ(json["b"]["c"][1], 2);
}

TEST(Json, RejectsADuplicateTopLevelKey) {
  EXPECT_THAT(ft::errorOf([] { parseJsonStrict(R"({"a": 1, "a": 2})", "config.json"); }),
              AllOf(HasSubstr("config.json"), HasSubstr("duplicate key \"a\"")));
}

TEST(Json, RejectsADuplicateNestedKeyAndNamesItsParent) {
  EXPECT_THAT(ft::errorOf([] {
                parseJsonStrict(R"({"text_config": {"x": {"k": 1, "k": 2}}})", "config.json");
              }),
              HasSubstr("config.json: duplicate key \"k\" in \"text_config.x\""));
}

TEST(Json, AllowsTheSameKeyInSiblingObjects) {
  EXPECT_NO_THROW(
      parseJsonStrict(R"({"a": {"k": 1}, "b": {"k": 2}, "c": [{"k": 1}, {"k": 2}]})", "x.json"));
}

TEST(Json, ParseErrorsStayOnOneLine) {
  std::string message = ft::errorOf([] { parseJsonStrict("{\"a\":\n\n nope}", "x.json"); });
  EXPECT_THAT(message, AllOf(HasSubstr("x.json: invalid JSON"), HasSubstr("line 3")));
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_EQ(message.find("[json.exception"), std::string::npos);
}

TEST(Json, ValidatesAFileWithoutKeepingItsContents) {
  ft::TempDir dir;
  ft::writeFile(dir / "tokenizer.json", R"({"version": "1.0", "model": {"vocab": {"a": 0}}})");
  JsonOutline outline = validateJsonFile(dir / "tokenizer.json");
  EXPECT_TRUE(outline.isObject);
  EXPECT_EQ(outline.topLevelKeys, (std::vector<std::string>{"version", "model"}));

  ft::writeFile(dir / "dup.json", R"({"model": {"vocab": {"a": 0, "a": 1}}})");
  EXPECT_THAT(ft::errorOf([&] { validateJsonFile(dir / "dup.json"); }),
              AllOf(HasSubstr("dup.json"), HasSubstr("duplicate key \"a\" in \"model.vocab\"")));
}

TEST(Json, NamesAMissingFile) {
  ft::TempDir dir;
  EXPECT_THAT(ft::errorOf([&] { loadJsonFile(dir / "config.json"); }),
              AllOf(HasSubstr("config.json"), HasSubstr("file not found")));
}

std::string nested(size_t levels) {
  return std::string(levels, '[') + std::string(levels, ']');
}

TEST(Json, BoundsTheNestingDepth) {
  EXPECT_NO_THROW(parseJsonStrict(nested(128), "x.json"));
  EXPECT_EQ(ft::errorOf([] { parseJsonStrict(nested(129), "x.json"); }),
            "x.json: JSON nested deeper than 128 levels");
  // A million levels: refused at level 129, without recursion.
  EXPECT_EQ(ft::errorOf(
                [] { parseJsonStrict(R"({"a": {"b": )" + nested(1000000) + "}}", "config.json"); }),
            "config.json: JSON nested deeper than 128 levels");
  ft::TempDir dir;
  ft::writeFile(dir / "tokenizer.json", R"({"model": )" + nested(1000000) + "}");
  EXPECT_THAT(ft::errorOf([&] { validateJsonFile(dir / "tokenizer.json"); }),
              HasSubstr("tokenizer.json: JSON nested deeper than 128 levels"));
}

TEST(Json, ANumberPastADoubleIsAParseError) {
  EXPECT_EQ(ft::errorOf([] { parseJsonStrict(R"({"rope_theta": 1e999})", "config.json"); }),
            "config.json: invalid JSON: number overflow parsing '1e999'");
}

TEST(Json, KeepsTheLastDuplicateWhereTheFormatDoes) {
  nlohmann::json json = fathom::parseJson(R"({"a": 1, "a": 2})", "tokenizer_config.json",
                                          {.duplicates = fathom::DuplicateKeys::KeepLast});
  EXPECT_EQ(json["a"], 2);
}

TEST(Json, RefusesAFileOverItsSizeLimit) {
  ft::TempDir dir;
  ft::writeFile(dir / "config.json", R"({"a": 12345})");
  EXPECT_NO_THROW(readTextFile(dir / "config.json", 12));
  EXPECT_THAT(ft::errorOf([&] { readTextFile(dir / "config.json", 11); }),
              HasSubstr("config.json: 12 bytes, more than the 11-byte limit for this file"));
}

TEST(Json, SingleLineEscapesControlCharacters) {
  EXPECT_EQ(singleLine("a\nb\tc"), "a\\x0ab\\x09c");
}

} // namespace
