#include "Images.h"

#include "fathom/image/ImageProcessor.h"
#include "fathom/runtime/Error.h"

#include "Artifact_generated.h"

#include <nlohmann/json.hpp>

#include <chrono>

namespace fathom::run {
namespace {

namespace fb = artifact::fb;

int64_t imageTokenId(const executor::Model& model) {
  const fb::Artifact& meta = model.artifact().metadata();
  nlohmann::json config = nlohmann::json::parse(meta.model_config_json()->str());
  if (!config.contains("image_token_id") || !config["image_token_id"].is_number_integer())
    throw Error(model.artifact().path() + ": the model config has no image_token_id");
  return config["image_token_id"].get<int64_t>();
}

image::ImageProcessor imageProcessor(const executor::Model& model) {
  const fb::Artifact& meta = model.artifact().metadata();
  if (!meta.image_processor_json() || meta.image_processor_json()->size() == 0)
    throw Error(model.artifact().path() +
                ": the artifact holds no image processor settings (recompile it)");
  return image::ImageProcessor(
      image::parseImageProcessorConfig(nlohmann::json::parse(meta.image_processor_json()->str()),
                                       model.artifact().path() + ": image processor"));
}

} // namespace

std::vector<int64_t> expandImageTokens(std::span<const tokenizer::TokenId> ids,
                                       int64_t imageTokenId, int64_t tokensPerImage,
                                       std::vector<size_t>& starts) {
  std::vector<int64_t> expanded;
  starts.clear();
  for (tokenizer::TokenId id : ids) {
    if (int64_t(id) == imageTokenId) {
      starts.push_back(expanded.size());
      expanded.insert(expanded.end(), size_t(tokensPerImage), imageTokenId);
    } else {
      expanded.push_back(int64_t(id));
    }
  }
  return expanded;
}

ImageToken imageTokenOf(const executor::Model& model, const tokenizer::Tokenizer& tok) {
  ImageToken token;
  token.id = imageTokenId(model);
  std::optional<std::string_view> text = tok.idToToken(tokenizer::TokenId(token.id));
  if (!text)
    throw Error(model.artifact().path() + ": the tokenizer has no token for image_token_id " +
                std::to_string(token.id));
  token.placeholder = std::string(*text);
  return token;
}

std::vector<float> encodeImageFiles(executor::Model& model, const std::vector<std::string>& files,
                                    double* preprocessSeconds, double* encodeSeconds) {
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  image::ImageProcessor processor = imageProcessor(model);
  std::vector<float> pixels;
  for (const std::string& path : files) {
    std::vector<float> one = processor.preprocessFile(path);
    if (int64_t(one.size()) != model.pixelValuesPerImage())
      throw Error(path + ": the image processor makes " + std::to_string(one.size()) +
                  " values per image but the vision tower takes " +
                  std::to_string(model.pixelValuesPerImage()));
    pixels.insert(pixels.end(), one.begin(), one.end());
  }
  auto encodeStart = Clock::now();
  std::vector<float> embeddings = model.encodeImages(pixels);
  if (preprocessSeconds)
    *preprocessSeconds = std::chrono::duration<double>(encodeStart - start).count();
  if (encodeSeconds)
    *encodeSeconds = std::chrono::duration<double>(Clock::now() - encodeStart).count();
  return embeddings;
}

ImagePrompt prepareImagePrompt(executor::Model& model, const tokenizer::Tokenizer& tok,
                               const std::string& text, const std::vector<std::string>& images) {
  if (!model.encodesImages())
    throw Error(model.artifact().path() +
                ": --image needs a vision-language artifact (this one has no encode_image)");
  const ImageToken token = imageTokenOf(model, tok);
  const int64_t tokenId = token.id;
  const std::string& placeholder = token.placeholder;
  std::string prompt = text;
  if (prompt.find(placeholder) == std::string::npos) {
    std::string front;
    for (size_t i = 0; i < images.size(); ++i)
      front += placeholder;
    prompt = front + prompt;
  }
  ImagePrompt result;
  std::vector<size_t> starts;
  result.ids = expandImageTokens(tok.encode(prompt, /*addSpecialTokens=*/true), tokenId,
                                 model.imageTokens(), starts);
  const size_t placeholders = starts.size();
  if (placeholders != images.size())
    throw Error("the prompt has " + std::to_string(placeholders) + " image placeholder" +
                (placeholders == 1 ? "" : "s") + " (" + placeholder + ") but " +
                std::to_string(images.size()) + " --image " +
                (images.size() == 1 ? "was" : "were") + " given");
  result.imageEmbeddings =
      encodeImageFiles(model, images, &result.preprocessSeconds, &result.encodeSeconds);
  return result;
}

} // namespace fathom::run
