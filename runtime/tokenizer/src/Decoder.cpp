#include "Decoder.h"

#include "ByteLevel.h"

namespace fathom::tokenizer::detail {

DecoderKind parseDecoder(const Json& json, std::string_view where) {
  if (json.is_null())
    return DecoderKind::None;
  std::string type = requireString(json, "type", where);
  if (type == "ByteLevel")
    return DecoderKind::ByteLevel;
  if (type == "Sequence") {
    // Only the trivial sequences (empty, or one supported step) reduce to a single decoder.
    const Json& list = requireMember(json, "decoders", where);
    std::string listPath = fieldPath(where, "decoders");
    if (!list.is_array())
      fail(listPath, "expected an array, got " + describeJsonType(list));
    if (list.empty())
      return DecoderKind::None;
    if (list.size() == 1)
      return parseDecoder(list[0], indexPath(listPath, 0));
    fail(listPath, "a Sequence of several decoders is not supported by Fathom");
  }
  fail(fieldPath(where, "type"),
       "decoder \"" + type + "\" is not supported by Fathom (supported: ByteLevel, none)");
}

void appendTokenBytes(DecoderKind kind, std::string_view token, std::string& out) {
  if (kind == DecoderKind::ByteLevel && appendByteLevelDecodedToken(token, out))
    return;
  out.append(token);
}

namespace {

SequenceWrapping parseTemplateProcessing(const Json& json, std::string_view where) {
  const Json& single = requireMember(json, "single", where);
  std::string singlePath = fieldPath(where, "single");
  if (!single.is_array())
    fail(singlePath, "expected an array, got " + describeJsonType(single));
  const Json& specialTokens = requireMember(json, "special_tokens", where);
  std::string specialPath = fieldPath(where, "special_tokens");
  SequenceWrapping wrapping;
  bool sawSequence = false;
  for (size_t i = 0; i < single.size(); ++i) {
    std::string itemPath = indexPath(singlePath, i);
    const Json& item = requireObject(single[i], itemPath);
    if (item.contains("Sequence")) {
      sawSequence = true;
      continue;
    }
    const Json& special = requireMember(item, "SpecialToken", itemPath);
    std::string name = requireString(special, "id", fieldPath(itemPath, "SpecialToken"));
    std::string entryPath = fieldPath(specialPath, name);
    const Json& entry = requireMember(specialTokens, name, specialPath);
    const Json& ids = requireMember(entry, "ids", entryPath);
    if (!ids.is_array())
      fail(fieldPath(entryPath, "ids"), "expected an array, got " + describeJsonType(ids));
    auto& target = sawSequence ? wrapping.suffix : wrapping.prefix;
    for (const Json& id : ids) {
      if (!id.is_number_unsigned())
        fail(fieldPath(entryPath, "ids"), "expected non-negative integer ids");
      target.push_back(id.get<uint32_t>());
    }
  }
  if (!sawSequence)
    fail(singlePath, "template has no Sequence item");
  return wrapping;
}

// Roberta/Bert processing: cls + sequence + sep, each given as [token, id].
SequenceWrapping parseClsSep(const Json& json, std::string_view where) {
  auto read = [&](const char* key) {
    const Json& pair = requireMember(json, key, where);
    if (!pair.is_array() || pair.size() != 2 || !pair[1].is_number_unsigned())
      fail(fieldPath(where, key), "expected [token, id]");
    return pair[1].get<uint32_t>();
  };
  return SequenceWrapping{{read("cls")}, {read("sep")}};
}

} // namespace

SequenceWrapping parsePostProcessor(const Json& json, std::string_view where) {
  if (json.is_null())
    return {};
  std::string type = requireString(json, "type", where);
  if (type == "ByteLevel")
    return {}; // offsets only
  if (type == "TemplateProcessing")
    return parseTemplateProcessing(json, where);
  if (type == "RobertaProcessing" || type == "BertProcessing")
    return parseClsSep(json, where);
  if (type == "Sequence") {
    const Json& list = requireMember(json, "processors", where);
    std::string listPath = fieldPath(where, "processors");
    if (!list.is_array())
      fail(listPath, "expected an array, got " + describeJsonType(list));
    // Each processor wraps the output of the previous one.
    SequenceWrapping combined;
    for (size_t i = 0; i < list.size(); ++i) {
      SequenceWrapping step = parsePostProcessor(list[i], indexPath(listPath, i));
      combined.prefix.insert(combined.prefix.begin(), step.prefix.begin(), step.prefix.end());
      combined.suffix.insert(combined.suffix.end(), step.suffix.begin(), step.suffix.end());
    }
    return combined;
  }
  fail(fieldPath(where, "type"), "post-processor \"" + type +
                                     "\" is not supported by Fathom (supported: ByteLevel, "
                                     "TemplateProcessing, RobertaProcessing, BertProcessing, "
                                     "Sequence)");
}

} // namespace fathom::tokenizer::detail
