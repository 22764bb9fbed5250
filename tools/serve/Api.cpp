#include "Api.h"

#include "run/Images.h"

#include "fathom/runtime/Error.h"

#include <openssl/evp.h>

#include <chrono>

namespace fathom::serve {
namespace {
using nlohmann::json;

[[noreturn]] void invalid(const std::string& param, const std::string& message) {
  throw ApiError{400, message, param};
}

const char* typeName(const json& value) {
  return value.type_name();
}

// The field, or null when the body leaves it out or sets it to null (OpenAI's "not given").
const json& field(const json& body, const char* name) {
  static const json absent;
  auto found = body.find(name);
  return found == body.end() ? absent : *found;
}

std::optional<double> number(const json& body, const char* name) {
  const json& value = field(body, name);
  if (value.is_null())
    return std::nullopt;
  if (!value.is_number())
    invalid(name, std::string("'") + name + "' must be a number, not " + typeName(value));
  return value.get<double>();
}

std::optional<int64_t> integer(const json& body, const char* name) {
  const json& value = field(body, name);
  if (value.is_null())
    return std::nullopt;
  if (!value.is_number_integer())
    invalid(name, std::string("'") + name + "' must be an integer, not " + typeName(value));
  return value.get<int64_t>();
}

std::optional<bool> boolean(const json& body, const char* name) {
  const json& value = field(body, name);
  if (value.is_null())
    return std::nullopt;
  if (!value.is_boolean())
    invalid(name, std::string("'") + name + "' must be a boolean, not " + typeName(value));
  return value.get<bool>();
}

// OpenSSL's decoder: its output counts the padding as zero bytes, which are dropped.
std::vector<uint8_t> fromBase64(std::string_view text, const std::string& param) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.remove_suffix(1);
  if (text.empty() || text.size() % 4 != 0 || text.size() > (size_t(1) << 30))
    invalid(param, "'" + param + "' is not base64 of a whole number of bytes");
  std::vector<uint8_t> bytes(text.size() / 4 * 3);
  const int length = EVP_DecodeBlock(
      bytes.data(), reinterpret_cast<const unsigned char*>(text.data()), int(text.size()));
  if (length < 0)
    invalid(param, "'" + param + "' is not valid base64");
  size_t padding = 0;
  for (size_t i = text.size(); i > 0 && text[i - 1] == '=' && padding < 2; --i)
    ++padding;
  bytes.resize(size_t(length) - padding);
  return bytes;
}

} // namespace

json ApiError::body() const {
  return {{"error",
           {{"message", message},
            {"type", type},
            {"param", param.empty() ? json() : json(param)},
            {"code", nullptr}}}};
}

Api::Api(const executor::Model& model, const tokenizer::Tokenizer& tokenizer,
         std::optional<tokenizer::ChatFormat> chatFormat, std::string modelName,
         SamplingDefaults defaults, std::optional<ImageSupport> images)
    : model_(model), tokenizer_(tokenizer), chatFormat_(chatFormat),
      modelName_(std::move(modelName)), defaults_(defaults), images_(std::move(images)),
      created_(std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count()) {}

std::vector<float> Api::imagePixels(const json& part, const std::string& param) const {
  if (!images_)
    invalid(param, "this model takes no images (it has no vision tower)");
  const json& imageUrl = field(part, "image_url");
  const json& url = imageUrl.is_object() ? field(imageUrl, "url") : imageUrl;
  if (!url.is_string())
    invalid(param, "'" + param + ".image_url.url' must be a string");
  const std::string& text = url.get_ref<const std::string&>();
  const size_t comma = text.find(',');
  if (!text.starts_with("data:image/") || comma == std::string::npos ||
      text.substr(0, comma).find(";base64") == std::string::npos)
    invalid(param, "'" + param +
                       ".image_url.url' must be a data:image/...;base64, URL "
                       "(fathom-serve fetches nothing)");
  const std::vector<uint8_t> bytes =
      fromBase64(std::string_view(text).substr(comma + 1), param + ".image_url.url");
  try {
    std::vector<float> pixels =
        image::ImageProcessor(images_->processor).preprocess(image::decodeImage(bytes, param));
    if (int64_t(pixels.size()) != images_->pixelValues)
      invalid(param, "'" + param + "' makes " + std::to_string(pixels.size()) +
                         " pixel values; the vision tower takes " +
                         std::to_string(images_->pixelValues));
    return pixels;
  } catch (const Error& error) {
    invalid(param, error.what());
  }
}

std::vector<int64_t> Api::chatPrompt(const json& messages, GenerationRequest& request) const {
  if (!chatFormat_)
    throw ApiError{400, "this model has no chat template; use /v1/completions", "messages"};
  if (!messages.is_array() || messages.empty())
    invalid("messages", "'messages' must be a non-empty array");
  json rendered = json::array();
  size_t images = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string where = "messages[" + std::to_string(i) + "]";
    const json& message = messages[i];
    if (!message.is_object())
      invalid(where, "'" + where + "' must be an object");
    const json& role = field(message, "role");
    if (role != "system" && role != "user" && role != "assistant")
      invalid(where + ".role",
              "'" + where + ".role' must be \"system\", \"user\" or \"assistant\"");
    const json& content = field(message, "content");
    const std::string param = where + ".content";
    std::string text;
    if (content.is_string()) {
      text = content.get<std::string>();
    } else if (content.is_array()) {
      // Parts in order; an image stands where its part is, as its placeholder.
      for (size_t j = 0; j < content.size(); ++j) {
        const json& part = content[j];
        const std::string partParam = param + "[" + std::to_string(j) + "]";
        if (part.is_object() && field(part, "type") == "text" && field(part, "text").is_string()) {
          text += part["text"].get<std::string>();
        } else if (part.is_object() && field(part, "type") == "image_url") {
          const std::vector<float> pixels = imagePixels(part, partParam);
          request.pixelValues.insert(request.pixelValues.end(), pixels.begin(), pixels.end());
          text += images_->placeholder;
          ++images;
        } else {
          invalid(partParam, "'" + partParam + "' must be a text or an image_url part");
        }
      }
    } else {
      invalid(param, "'" + param + "' must be a string or an array of parts");
    }
    rendered.push_back({{"role", role}, {"content", text}});
  }
  std::string text = tokenizer::renderChat(*chatFormat_, rendered, /*addGenerationPrompt=*/true,
                                           tokenizer_.config());
  std::vector<size_t> starts;
  std::vector<int64_t> ids = run::expandImageTokens(tokenizer::encodeRenderedChat(tokenizer_, text),
                                                    images_ ? images_->tokenId : -1,
                                                    images_ ? images_->tokensPerImage : 0, starts);
  const size_t placeholders = starts.size();
  if (placeholders != images)
    invalid("messages", "the messages hold " + std::to_string(placeholders) +
                            " image placeholders but " + std::to_string(images) +
                            " images: send images as image_url parts, not as placeholder text");
  if (images_)
    request.imageTokenId = images_->tokenId;
  return ids;
}

std::vector<int64_t> Api::completionPrompt(const json& prompt) const {
  const json* single = &prompt;
  if (prompt.is_array() && prompt.size() == 1 && (prompt[0].is_string() || prompt[0].is_array()))
    single = &prompt[0];
  if (single->is_string()) {
    auto ids = tokenizer_.encode(single->get<std::string>(), /*addSpecialTokens=*/true);
    return std::vector<int64_t>(ids.begin(), ids.end());
  }
  if (single->is_array() && !single->empty()) {
    std::vector<int64_t> ids;
    for (const json& id : *single) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 ||
          id.get<int64_t>() >= model_.outputWidth())
        invalid("prompt", "'prompt' token ids must be integers in [0, " +
                              std::to_string(model_.outputWidth()) + ")");
      ids.push_back(id.get<int64_t>());
    }
    return ids;
  }
  invalid("prompt", "'prompt' must be a string, one string in an array, or token ids");
}

ParsedRequest Api::parse(Endpoint endpoint, const std::string& body) const {
  json request = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded())
    throw ApiError{400, "the request body is not valid JSON"};
  if (!request.is_object())
    throw ApiError{400, "the request body must be a JSON object"};
  ParsedRequest parsed;
  parsed.endpoint = endpoint;
  if (const json& model = field(request, "model"); !model.is_null()) {
    if (!model.is_string())
      invalid("model", "'model' must be a string");
    if (model != modelName_)
      throw ApiError{404,
                     "the model '" + model.get<std::string>() + "' does not exist; this " +
                         "server serves '" + modelName_ + "'",
                     "model", "invalid_request_error"};
  }
  if (auto n = integer(request, "n"); n && *n != 1)
    invalid("n", "only n = 1 is supported");
  parsed.stream = boolean(request, "stream").value_or(false);
  if (const json& options = field(request, "stream_options"); !options.is_null()) {
    if (!options.is_object())
      invalid("stream_options", "'stream_options' must be an object");
    parsed.includeUsage = boolean(options, "include_usage").value_or(false);
  }

  GenerationRequest& g = parsed.generation;
  g.prompt = endpoint == Endpoint::Chat ? chatPrompt(field(request, "messages"), g)
                                        : completionPrompt(field(request, "prompt"));
  if (g.prompt.empty())
    invalid(endpoint == Endpoint::Chat ? "messages" : "prompt", "the prompt has no tokens");

  std::optional<int64_t> maxTokens = integer(request, "max_completion_tokens");
  const char* maxName = "max_completion_tokens";
  if (!maxTokens) {
    maxTokens = integer(request, "max_tokens");
    maxName = "max_tokens";
  }
  if (maxTokens && *maxTokens < 1)
    invalid(maxName,
            std::string("'") + maxName + "' must be at least 1, got " + std::to_string(*maxTokens));
  const int64_t context = model_.maxSeqLen(), promptTokens = int64_t(g.prompt.size());
  // The last new token is never fed back, so a reply may end exactly at the context.
  if (promptTokens + std::max<int64_t>(maxTokens.value_or(1), 1) - 1 > context)
    invalid(endpoint == Endpoint::Chat ? "messages" : "prompt",
            "this model's maximum context length is " + std::to_string(context) +
                " tokens; the prompt has " + std::to_string(promptTokens) + " tokens" +
                (maxTokens ? " and " + std::to_string(*maxTokens) + " were asked to be generated"
                           : ""));
  g.maxTokens = maxTokens.value_or(context - promptTokens + 1);

  std::optional<double> temperature = number(request, "temperature");
  std::optional<double> topP = number(request, "top_p");
  std::optional<int64_t> topK = integer(request, "top_k");
  if (temperature && (*temperature < 0 || *temperature > 2))
    invalid("temperature", "'temperature' must lie in [0, 2]");
  if (topP && (*topP <= 0 || *topP > 1))
    invalid("top_p", "'top_p' must lie in (0, 1]");
  if (topK && *topK < -1)
    invalid("top_k", "'top_k' must be -1 (off), 0 (off) or positive");
  // temperature 0 is greedy; otherwise a request samples when it asks to, or when the
  // artifact's generation_config does.
  const bool sample = temperature ? *temperature > 0 : defaults_.doSample;
  g.sampling.doSample = sample;
  g.sampling.temperature = float(temperature.value_or(defaults_.temperature));
  g.sampling.topP = topP.value_or(defaults_.topP);
  g.sampling.topK = std::max<int64_t>(topK.value_or(defaults_.topK), 0);
  g.ignoreEos = boolean(request, "ignore_eos").value_or(false);
  if (auto seed = integer(request, "seed"))
    g.seed = uint64_t(*seed);
  else
    g.seed = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());

  if (const json& stop = field(request, "stop"); !stop.is_null()) {
    if (stop.is_string())
      g.stops.push_back(stop.get<std::string>());
    else if (stop.is_array() && stop.size() <= 4) {
      for (const json& s : stop) {
        if (!s.is_string() || s.get<std::string>().empty())
          invalid("stop", "'stop' must hold non-empty strings");
        g.stops.push_back(s.get<std::string>());
      }
    } else {
      invalid("stop", "'stop' must be a string or an array of up to 4 strings");
    }
    if (!g.stops.empty() && g.stops.front().empty())
      invalid("stop", "'stop' must hold non-empty strings");
  }

  if (endpoint == Endpoint::Chat) {
    parsed.logprobs = boolean(request, "logprobs").value_or(false);
    std::optional<int64_t> top = integer(request, "top_logprobs");
    if (top && (*top < 0 || *top > 20))
      invalid("top_logprobs", "'top_logprobs' must lie in [0, 20]");
    if (top && !parsed.logprobs)
      invalid("top_logprobs", "'top_logprobs' needs 'logprobs': true");
    if (parsed.logprobs)
      g.topLogprobs = top.value_or(0);
  } else {
    const json& value = field(request, "logprobs");
    if (!value.is_null()) {
      if (!value.is_number_integer() || value.get<int64_t>() < 0 || value.get<int64_t>() > 20)
        invalid("logprobs", "'logprobs' must be an integer in [0, 20]");
      parsed.logprobs = true;
      g.topLogprobs = value.get<int64_t>();
    }
  }
  return parsed;
}

json Api::logprobsOf(Endpoint endpoint, const std::vector<Piece>& pieces) const {
  if (endpoint == Endpoint::Chat) {
    json content = json::array();
    for (const Piece& piece : pieces) {
      if (piece.token < 0)
        continue;
      json top = json::array();
      for (const TokenLogprob& alternative : piece.top)
        top.push_back({{"token", alternative.text}, {"logprob", alternative.logprob}});
      content.push_back(
          {{"token", piece.tokenText}, {"logprob", piece.logprob}, {"top_logprobs", top}});
    }
    return {{"content", content}};
  }
  json tokens = json::array(), logprobs = json::array(), top = json::array();
  for (const Piece& piece : pieces) {
    if (piece.token < 0)
      continue;
    tokens.push_back(piece.tokenText);
    logprobs.push_back(piece.logprob);
    json alternatives = json::object();
    for (const TokenLogprob& alternative : piece.top)
      alternatives[alternative.text] = alternative.logprob;
    top.push_back(alternatives);
  }
  return {{"tokens", tokens}, {"token_logprobs", logprobs}, {"top_logprobs", top}};
}

json Api::response(const ParsedRequest& request, const std::string& id, int64_t created,
                   const std::string& text, const std::vector<Piece>& pieces,
                   const Completion& completion) const {
  const bool chat = request.endpoint == Endpoint::Chat;
  json choice = {{"index", 0},
                 {"finish_reason", completion.finishReason},
                 {"logprobs", request.logprobs ? logprobsOf(request.endpoint, pieces) : json()}};
  if (chat)
    choice["message"] = {{"role", "assistant"}, {"content", text}};
  else
    choice["text"] = text;
  return {{"id", id},
          {"object", chat ? "chat.completion" : "text_completion"},
          {"created", created},
          {"model", modelName_},
          {"choices", json::array({choice})},
          {"usage", usage(completion)}};
}

json Api::usage(const Completion& completion) {
  return {{"prompt_tokens", completion.promptTokens},
          {"completion_tokens", completion.completionTokens},
          {"total_tokens", completion.promptTokens + completion.completionTokens},
          {"prompt_tokens_details", {{"cached_tokens", completion.cachedTokens}}}};
}

json Api::chunk(const ParsedRequest& request, const std::string& id, int64_t created,
                const Piece* piece, const std::string* finishReason, bool first) const {
  const bool chat = request.endpoint == Endpoint::Chat;
  json choice = {{"index", 0}, {"finish_reason", finishReason ? json(*finishReason) : json()}};
  std::vector<Piece> one;
  if (piece)
    one.push_back(*piece);
  choice["logprobs"] =
      request.logprobs && piece && piece->token >= 0 ? logprobsOf(request.endpoint, one) : json();
  const std::string text = piece ? piece->text : std::string();
  if (chat) {
    json delta = json::object();
    if (first)
      delta["role"] = "assistant";
    if (piece || first)
      delta["content"] = text;
    choice["delta"] = delta;
  } else {
    choice["text"] = text;
  }
  json out = {{"id", id},
              {"object", chat ? "chat.completion.chunk" : "text_completion"},
              {"created", created},
              {"model", modelName_},
              {"choices", json::array({choice})}};
  if (request.includeUsage)
    out["usage"] = nullptr;
  return out;
}

json Api::usageChunk(const ParsedRequest& request, const std::string& id, int64_t created,
                     const Completion& completion) const {
  const bool chat = request.endpoint == Endpoint::Chat;
  return {{"id", id},
          {"object", chat ? "chat.completion.chunk" : "text_completion"},
          {"created", created},
          {"model", modelName_},
          {"choices", json::array()},
          {"usage", usage(completion)}};
}

json Api::models() const {
  return {{"object", "list"},
          {"data", json::array({{{"id", modelName_},
                                 {"object", "model"},
                                 {"created", created_},
                                 {"owned_by", "fathom"},
                                 {"max_model_len", model_.maxSeqLen()}}})}};
}

} // namespace fathom::serve
