#pragma once
// tokenizer.json "decoder" and "post_processor": the two ends of the pipeline that are not about
// splitting. Both reduce, for the tokenizers Fathom supports, to small tables:
//  - the decoder says how one token's string becomes bytes (ByteLevel: through the GPT-2 byte
//    alphabet; none: its own UTF-8, with tokens joined by spaces, as HF does without a decoder);
//  - the post-processor says which ids wrap a single sequence when special tokens are requested.
#include "JsonFields.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::tokenizer::detail {

enum class DecoderKind { None, ByteLevel };

DecoderKind parseDecoder(const Json& json, std::string_view where);

// The bytes one token contributes to decoded text. ByteLevel maps each character back to its byte;
// a token with characters outside the byte alphabet (an added token like "<｜User｜>") keeps its
// own UTF-8 bytes, exactly as HF's ByteLevel decoder does.
void appendTokenBytes(DecoderKind kind, std::string_view token, std::string& out);

// Ids a post-processor adds around a single sequence.
struct SequenceWrapping {
  std::vector<uint32_t> prefix;
  std::vector<uint32_t> suffix;
};

// Parses a "post_processor" (the ids come from the JSON itself).
SequenceWrapping parsePostProcessor(const Json& json, std::string_view where);

} // namespace fathom::tokenizer::detail
