#include "PreTokenizer.h"

#include "ByteLevel.h"

namespace fathom::tokenizer::detail {
namespace {

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

SplitBehavior parseBehavior(const std::string& name, std::string_view where) {
  if (name == "Removed")
    return SplitBehavior::Removed;
  if (name == "Isolated")
    return SplitBehavior::Isolated;
  if (name == "MergedWithPrevious")
    return SplitBehavior::MergedWithPrevious;
  if (name == "MergedWithNext")
    return SplitBehavior::MergedWithNext;
  if (name == "Contiguous")
    return SplitBehavior::Contiguous;
  fail(where, "unknown split behavior \"" + name +
                  "\" (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or "
                  "Contiguous)");
}

// HF's NormalizedString::split: turn the matches into spans covering the piece, then merge or drop
// them according to the behaviour; empty pieces are dropped afterwards.
class SplitStep final : public PreTokenizerStep {
public:
  SplitStep(OnigurumaRegex pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}

  void apply(std::vector<std::string_view>& pieces, PreTokenizerScratch& scratch) const override {
    scratch.next.clear();
    for (std::string_view piece : pieces)
      splitPiece(piece, scratch);
    pieces.swap(scratch.next);
  }

private:
  void splitPiece(std::string_view piece, PreTokenizerScratch& scratch) const {
    pattern_.findAll(piece, scratch.matches);
    if (scratch.matches.empty() && !invert_) {
      // Nothing to split (the common case for the digit and CJK rules): one non-delimiter span.
      scratch.next.push_back(piece);
      return;
    }
    std::vector<SplitSpan>& spans = scratch.spans;
    spans.clear();
    size_t previous = 0;
    for (const auto& match : scratch.matches) {
      if (previous != match.begin)
        spans.push_back({previous, match.begin, invert_});
      spans.push_back({match.begin, match.end, !invert_});
      previous = match.end;
    }
    if (previous != piece.size())
      spans.push_back({previous, piece.size(), invert_});
    emitSpans(piece, scratch);
  }

  void emitSpans(std::string_view piece, PreTokenizerScratch& scratch) const {
    const std::vector<SplitSpan>& spans = scratch.spans;
    std::vector<SplitSpan>& merged = scratch.merged;
    std::vector<std::string_view>& out = scratch.next;
    auto emit = [&](size_t begin, size_t end) {
      if (begin != end)
        out.push_back(piece.substr(begin, end - begin));
    };
    switch (behavior_) {
    case SplitBehavior::Isolated:
      for (const SplitSpan& span : spans)
        emit(span.begin, span.end);
      return;
    case SplitBehavior::Removed:
      for (const SplitSpan& span : spans)
        if (!span.isMatch)
          emit(span.begin, span.end);
      return;
    default:
      break;
    }
    // The merging behaviours fold spans into groups [begin, end) first.
    merged.clear();
    bool previousMatch = false;
    if (behavior_ == SplitBehavior::MergedWithNext) {
      // HF folds from the right so that a delimiter joins the span after it.
      for (size_t i = spans.size(); i-- > 0;) {
        const SplitSpan& span = spans[i];
        if (span.isMatch && !previousMatch && !merged.empty())
          merged.back().begin = span.begin;
        else
          merged.push_back({span.begin, span.end, false});
        previousMatch = span.isMatch;
      }
      for (size_t i = merged.size(); i-- > 0;)
        emit(merged[i].begin, merged[i].end);
      return;
    }
    for (const SplitSpan& span : spans) {
      bool extend = behavior_ == SplitBehavior::Contiguous ? span.isMatch == previousMatch
                                                           : span.isMatch && !previousMatch;
      if (extend && !merged.empty())
        merged.back().end = span.end;
      else
        merged.push_back({span.begin, span.end, false});
      previousMatch = span.isMatch;
    }
    for (const SplitSpan& group : merged)
      emit(group.begin, group.end);
  }

  OnigurumaRegex pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

// ByteLevel: optionally prefix each piece with a space, optionally split with GPT-2's regex. The
// byte alphabet mapping itself happens in the model (see the header).
class ByteLevelStep final : public PreTokenizerStep {
public:
  ByteLevelStep(bool addPrefixSpace, bool useRegex, std::string_view where)
      : addPrefixSpace_(addPrefixSpace) {
    if (useRegex)
      gpt2Split_ = std::make_unique<SplitStep>(OnigurumaRegex(kGpt2SplitPattern, where),
                                               SplitBehavior::Isolated, false);
  }

  void apply(std::vector<std::string_view>& pieces, PreTokenizerScratch& scratch) const override {
    if (addPrefixSpace_) {
      // HF prepends to every piece that does not already start with a space.
      for (std::string_view& piece : pieces) {
        if (!piece.empty() && piece.front() == ' ')
          continue;
        std::string& prefixed = scratch.storage.emplace_back(1, ' ');
        prefixed.append(piece);
        piece = prefixed;
      }
    }
    if (gpt2Split_)
      gpt2Split_->apply(pieces, scratch);
  }

private:
  bool addPrefixSpace_;
  std::unique_ptr<SplitStep> gpt2Split_;
};

void appendSteps(const Json& json, std::string_view where,
                 std::vector<std::shared_ptr<const PreTokenizerStep>>& steps, bool& sawByteLevel) {
  std::string type = requireString(json, "type", where);
  if (sawByteLevel)
    fail(where, "a " + type +
                    " pre-tokenizer after ByteLevel is not supported by Fathom (ByteLevel must be "
                    "the last step)");
  if (type == "Sequence") {
    const Json& list = requireMember(json, "pretokenizers", where);
    std::string listPath = fieldPath(where, "pretokenizers");
    if (!list.is_array())
      fail(listPath, "expected an array, got " + describeJsonType(list));
    for (size_t i = 0; i < list.size(); ++i)
      appendSteps(list[i], indexPath(listPath, i), steps, sawByteLevel);
    return;
  }
  if (type == "Split") {
    std::string behavior = requireString(json, "behavior", where);
    steps.push_back(std::make_shared<SplitStep>(
        parsePattern(requireMember(json, "pattern", where), fieldPath(where, "pattern")),
        parseBehavior(behavior, fieldPath(where, "behavior")),
        optionalBool(json, "invert", false, where)));
    return;
  }
  if (type == "Digits") {
    // HF matches each numeric character separately; Contiguous joins runs of them.
    bool individual = optionalBool(json, "individual_digits", false, where);
    steps.push_back(std::make_shared<SplitStep>(
        OnigurumaRegex(R"(\p{N})", where),
        individual ? SplitBehavior::Isolated : SplitBehavior::Contiguous, false));
    return;
  }
  if (type == "Whitespace") {
    // Keeps the runs of word characters and of other non-space characters.
    steps.push_back(std::make_shared<SplitStep>(OnigurumaRegex(R"(\w+|[^\w\s]+)", where),
                                                SplitBehavior::Removed, true));
    return;
  }
  if (type == "WhitespaceSplit") {
    steps.push_back(
        std::make_shared<SplitStep>(OnigurumaRegex(R"(\s)", where), SplitBehavior::Removed, false));
    return;
  }
  if (type == "Punctuation") {
    std::string behavior = "Isolated";
    if (auto given = optionalString(json, "behavior", where))
      behavior = *given;
    steps.push_back(
        std::make_shared<SplitStep>(OnigurumaRegex(R"([\p{P}!-/:-@\[-`{-~])", where),
                                    parseBehavior(behavior, fieldPath(where, "behavior")), false));
    return;
  }
  if (type == "ByteLevel") {
    steps.push_back(
        std::make_shared<ByteLevelStep>(optionalBool(json, "add_prefix_space", true, where),
                                        optionalBool(json, "use_regex", true, where), where));
    sawByteLevel = true;
    return;
  }
  fail(fieldPath(where, "type"),
       "pre-tokenizer \"" + type +
           "\" is not supported by Fathom (supported: Sequence, Split, Digits, ByteLevel, "
           "Whitespace, WhitespaceSplit, Punctuation)");
}

} // namespace

PreTokenizer PreTokenizer::fromJson(const Json& json, std::string_view where) {
  PreTokenizer preTokenizer;
  if (json.is_null())
    return preTokenizer;
  appendSteps(json, where, preTokenizer.steps_, preTokenizer.byteLevel_);
  return preTokenizer;
}

void PreTokenizer::run(std::string_view segment, std::vector<std::string_view>& pieces,
                       PreTokenizerScratch& scratch) const {
  pieces.clear();
  scratch.storage.clear(); // the previous segment's pieces have been consumed
  if (segment.empty())
    return;
  pieces.push_back(segment);
  for (const auto& step : steps_)
    step->apply(pieces, scratch);
}

} // namespace fathom::tokenizer::detail
