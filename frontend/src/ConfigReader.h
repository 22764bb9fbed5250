#pragma once
// Typed, range-checked reads of config JSON fields (internal to the frontend). Every failure
// names the file (and sub-config), the key, what was expected and what was found:
//   config.json: "hidden_size" must be an integer >= 1, got "64"
#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace fathom::frontend {

struct IntRange {
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();
  std::string describe() const;
};
inline constexpr IntRange kPositive{1};
inline constexpr IntRange kNonNegative{0};

struct NumberRange {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool minExclusive = false;
  std::string describe() const;
};
inline constexpr NumberRange kPositiveNumber{0.0, std::numeric_limits<double>::infinity(), true};

class ConfigReader {
public:
  ConfigReader(const nlohmann::json& object, std::string where);

  const std::string& where() const { return where_; }
  // Present with a non-null value.
  bool has(std::string_view key) const;

  int64_t integer(std::string_view key, IntRange range) const;
  int64_t integerOr(std::string_view key, int64_t fallback, IntRange range) const;
  // Absent -> fallback; null -> nullopt (HF's None: q_lora_rank, n_group, pad_token_id).
  std::optional<int64_t> nullableInteger(std::string_view key, std::optional<int64_t> fallback,
                                         IntRange range) const;
  double number(std::string_view key, NumberRange range) const;
  double numberOr(std::string_view key, double fallback, NumberRange range) const;
  std::optional<double> optionalNumber(std::string_view key, NumberRange range) const;
  bool booleanOr(std::string_view key, bool fallback) const;
  // A string from a closed set; the message lists the set.
  std::string choiceOr(std::string_view key, std::string_view fallback,
                       std::initializer_list<std::string_view> allowed) const;
  std::optional<std::string> optionalString(std::string_view key) const;
  // A required nested object, read with "<where>: <key>" as its location.
  ConfigReader child(std::string_view key) const;
  const nlohmann::json* find(std::string_view key) const;
  const nlohmann::json& json() const { return object_; }

  [[noreturn]] void fail(std::string_view key, const std::string& problem) const;
  // For checks that relate two keys: "<where>: <problem>".
  [[noreturn]] void failRelation(const std::string& problem) const;

private:
  int64_t checkedInteger(std::string_view key, const nlohmann::json& value, IntRange range) const;

  const nlohmann::json& object_;
  std::string where_;
};

} // namespace fathom::frontend
