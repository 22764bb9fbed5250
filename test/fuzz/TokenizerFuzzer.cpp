// tokenizer.json, then a text to encode and decode with it (the two parts of the input).
#include "FuzzSupport.h"
#include "fathom/runtime/Error.h"
#include "fathom/tokenizer/Tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fathom;
  std::vector<std::string_view> parts = fuzz::splitParts(data, size, 2);
  try {
    tokenizer::Tokenizer tokenizer =
        tokenizer::Tokenizer::fromJsonText(parts[0], {}, "tokenizer.json");
    std::vector<tokenizer::TokenId> ids = tokenizer.encode(parts[1], /*addSpecialTokens=*/true);
    (void)tokenizer.decode(ids, /*skipSpecialTokens=*/false);
  } catch (const Error&) {
  }
  return 0;
}
