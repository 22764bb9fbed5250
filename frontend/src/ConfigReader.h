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
#include <vector>

namespace fathom::frontend {

struct IntRange {
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();
  std::string describe() const;
};
inline constexpr IntRange kPositive{1};
inline constexpr IntRange kNonNegative{0};

// Bounds on the values that size tensors, tables and loops: far above every released model
// (DeepSeek-V3: 61 layers, 256 experts, 128 heads, hidden 7168, vocab 129280; VL: 1024 px),
// low enough that no product of them overflows 64 bits, so a hostile config is refused before
// it sizes anything.
inline constexpr IntRange kLayerCount{1, 1024};
inline constexpr IntRange kExpertCount{1, 4096};
inline constexpr IntRange kHeadCount{1, 4096};
inline constexpr IntRange kDimension{1, 1 << 18};
// Per-head widths (DeepSeek: 64-192): the RoPE tables are max_seq_len rows of half of one.
inline constexpr IntRange kHeadDim{1, 4096};
inline constexpr IntRange kVocabSize{1, 1 << 22};
inline constexpr IntRange kPositionCount{1, 1 << 24};
inline constexpr IntRange kLabelCount{1, 1 << 16};
inline constexpr IntRange kTokenId{0, (1 << 22) - 1};
// Values stored as 32-bit integers in the artifact.
inline constexpr IntRange kInt32NonNegative{0, std::numeric_limits<int32_t>::max()};

struct NumberRange {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool minExclusive = false;
  std::string describe() const;
};
inline constexpr NumberRange kPositiveNumber{0.0, std::numeric_limits<double>::infinity(), true};
// Normalization epsilons (1e-6 in every released config).
inline constexpr NumberRange kEpsilon{0.0, 1.0, true};

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
  // A required list of `count` numbers, each in range.
  std::vector<double> numberList(std::string_view key, size_t count, NumberRange range) const;
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
