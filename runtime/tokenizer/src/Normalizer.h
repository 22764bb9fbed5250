#pragma once
// tokenizer.json "normalizer". Fathom implements the text-preserving subset DeepSeek checkpoints
// use (an empty Sequence) plus the cheap rewrites Replace and Prepend. Unicode normalization forms,
// case folding and the BERT normalizer are rejected with an error naming the field, rather than
// silently producing ids that differ from HF.
#include "JsonFields.h"
#include "OnigurumaRegex.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::tokenizer::detail {

class Normalizer {
public:
  virtual ~Normalizer() = default;
  virtual std::string normalize(std::string_view text) const = 0;
};

// Parses a normalizer object; returns nullptr for JSON null and for steps that do nothing
// (an empty Sequence), so the encoder can skip normalization entirely.
std::unique_ptr<Normalizer> parseNormalizer(const Json& json, std::string_view where);

} // namespace fathom::tokenizer::detail
