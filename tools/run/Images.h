#pragma once
// fathom-run's --image: image files prepared with the artifact's image processor settings, run
// through its encode_image entry point, and the prompt's image placeholders expanded to the
// image tokens the embeddings fill.
#include "fathom/executor/Model.h"
#include "fathom/tokenizer/Tokenizer.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace fathom::run {

struct ImagePrompt {
  std::vector<int64_t> ids;           // the prompt with each placeholder as its image tokens
  std::vector<float> imageEmbeddings; // one row per image token, in order
  // Wall time of decoding + resizing + normalizing the files, and of encode_image.
  double preprocessSeconds = 0, encodeSeconds = 0;
};

// Tokenizes `text` (BOS added as HF does) with one image per placeholder token (the text of the
// config's image_token_id, "<image_placeholder>" for DeepSeek-VL), in order; a prompt without
// placeholders gets them in front, as DeepSeek-VL's chat template places images before the
// text. Throws fathom::Error naming the file or the mismatch.
ImagePrompt prepareImagePrompt(executor::Model& model, const tokenizer::Tokenizer& tok,
                               const std::string& text, const std::vector<std::string>& images);

// `ids` with each image token (one per placeholder) as the tokensPerImage tokens its
// embeddings fill; `starts` gets where each image's tokens begin.
std::vector<int64_t> expandImageTokens(std::span<const tokenizer::TokenId> ids,
                                       int64_t imageTokenId, int64_t tokensPerImage,
                                       std::vector<size_t>& starts);

// The config's image_token_id and its text in the tokenizer ("<image_placeholder>").
struct ImageToken {
  int64_t id = -1;
  std::string placeholder;
};
ImageToken imageTokenOf(const executor::Model& model, const tokenizer::Tokenizer& tok);

// The files through the artifact's image processor and encode_image: embedding rows, one per
// image token, image after image. Throws fathom::Error naming a file that cannot be read.
std::vector<float> encodeImageFiles(executor::Model& model, const std::vector<std::string>& files,
                                    double* preprocessSeconds = nullptr,
                                    double* encodeSeconds = nullptr);

} // namespace fathom::run
