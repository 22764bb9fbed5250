#pragma once
// The OpenAI API's request and response shapes for /v1/chat/completions and /v1/completions:
// a request body becomes a GenerationRequest (or an ApiError with the HTTP status and the
// OpenAI error object), and generated pieces become response objects and stream chunks.
#include "Scheduler.h"

#include "fathom/image/ImageProcessor.h"
#include "fathom/tokenizer/ChatFormat.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace fathom::serve {

struct ApiError {
  int status = 400;
  std::string message;
  std::string param; // the offending field, when there is one
  std::string type = "invalid_request_error";
  nlohmann::json body() const;
};

enum class Endpoint { Chat, Completions };

struct ParsedRequest {
  Endpoint endpoint = Endpoint::Chat;
  GenerationRequest generation;
  bool stream = false;
  bool includeUsage = false; // stream_options.include_usage
  bool logprobs = false;
};

// What the sampling defaults are when a request leaves them out: the artifact's
// generation_config, as HF's generate() applies it.
struct SamplingDefaults {
  bool doSample = false;
  double temperature = 1.0, topP = 1.0;
  int64_t topK = 0;
};

// What a vision-language artifact needs to take images in chat messages.
struct ImageSupport {
  int64_t tokenId = -1;       // image_token_id
  std::string placeholder;    // its text ("<image_placeholder>")
  int64_t tokensPerImage = 0; // encode_image's rows per image
  int64_t pixelValues = 0;    // floats per preprocessed image
  image::ImageProcessorConfig processor;
};

class Api {
public:
  Api(const executor::Model& model, const tokenizer::Tokenizer& tokenizer,
      std::optional<tokenizer::ChatFormat> chatFormat, std::string modelName,
      SamplingDefaults defaults, std::optional<ImageSupport> images = std::nullopt);

  const std::string& modelName() const { return modelName_; }
  // Throws ApiError.
  ParsedRequest parse(Endpoint endpoint, const std::string& body) const;

  // Response objects. `id` names the completion; `created` is its Unix time.
  nlohmann::json response(const ParsedRequest& request, const std::string& id, int64_t created,
                          const std::string& text, const std::vector<Piece>& pieces,
                          const Completion& completion) const;
  nlohmann::json chunk(const ParsedRequest& request, const std::string& id, int64_t created,
                       const Piece* piece, const std::string* finishReason, bool first) const;
  nlohmann::json usageChunk(const ParsedRequest& request, const std::string& id, int64_t created,
                            const Completion& completion) const;
  nlohmann::json models() const;

private:
  // The rendered messages' ids, each image as its image tokens; the images' pixel values go
  // to `request`.
  std::vector<int64_t> chatPrompt(const nlohmann::json& messages, GenerationRequest& request) const;
  // An image_url part's data: URL, decoded and preprocessed.
  std::vector<float> imagePixels(const nlohmann::json& part, const std::string& param) const;
  std::vector<int64_t> completionPrompt(const nlohmann::json& prompt) const;
  nlohmann::json logprobsOf(Endpoint endpoint, const std::vector<Piece>& pieces) const;
  static nlohmann::json usage(const Completion& completion);

  const executor::Model& model_;
  const tokenizer::Tokenizer& tokenizer_;
  std::optional<tokenizer::ChatFormat> chatFormat_;
  std::string modelName_;
  SamplingDefaults defaults_;
  std::optional<ImageSupport> images_;
  int64_t created_;
};

} // namespace fathom::serve
