#include "fathom/executor/Model.h"

#include "fathom/runtime/Error.h"

#include <algorithm>

namespace fathom::executor {

Model::Model(std::unique_ptr<Program> program) : program_(std::move(program)) {
  const fb::Artifact& meta = program_->artifact().metadata();
  head_ = meta.head() ? meta.head()->str() : "causal_lm";
  keyValid_.assign(size_t(maxBatch() * maxSeqLen()), 0);
}

std::unique_ptr<Model> Model::load(const std::string& path, const LoadOptions& options) {
  auto program = Program::load(path, options);
  bool causal = program->has(fb::EntryKind::Prefill) && program->has(fb::EntryKind::Decode);
  if (!causal && !program->has(fb::EntryKind::Classify))
    throw Error(path + ": artifact has neither prefill and decode nor classify entry points");
  return std::unique_ptr<Model>(new Model(std::move(program)));
}

int64_t Model::outputWidth() const {
  return program_->outputWidth(head_ == "causal_lm" ? fb::EntryKind::Prefill
                                                    : fb::EntryKind::Classify);
}

void Model::checkBatch(const TokenBatch& batch) const {
  if (batch.batch < 1 || batch.tokens < 1)
    throw Error("empty batch: every prompt needs at least one token");
  if (batch.batch > maxBatch())
    throw Error(std::to_string(batch.batch) + " prompts exceed the artifact's max batch of " +
                std::to_string(maxBatch()) + " (recompile with --max-batch)");
  if (batch.tokens > maxSeqLen())
    throw Error("a prompt of " + std::to_string(batch.tokens) +
                " tokens exceeds the artifact's max sequence length of " +
                std::to_string(maxSeqLen()) + " (recompile with --max-seq-len)");
  size_t n = size_t(batch.batch * batch.tokens);
  if (batch.ids.size() != n || batch.positions.size() != n || batch.mask.size() != n)
    throw Error("internal error: batch ids, positions and mask must all hold batch x tokens");
}

std::vector<float> Model::prefill(const TokenBatch& prompts, bool allPositions,
                                  const std::vector<float>& imageEmbeddings) {
  if (head_ != "causal_lm")
    throw Error("prefill needs a causal LM artifact; this one is " + head_);
  checkBatch(prompts);
  // A new batch attends to its real tokens only: padding and everything past the prompts is
  // masked until decode marks each new position.
  std::fill(keyValid_.begin(), keyValid_.end(), uint8_t(0));
  for (int64_t b = 0; b < prompts.batch; ++b)
    for (int64_t t = 0; t < prompts.tokens; ++t)
      keyValid_[size_t(b * maxSeqLen() + t)] = prompts.mask[size_t(b * prompts.tokens + t)];
  std::vector<int64_t> cacheStart(size_t(prompts.batch), 0), headRows;
  for (int64_t b = 0; b < prompts.batch; ++b)
    for (int64_t t = allPositions ? 0 : prompts.tokens - 1; t < prompts.tokens; ++t)
      headRows.push_back(b * prompts.tokens + t);
  int64_t imageRows = 0;
  if (!imageEmbeddings.empty()) {
    const int64_t width =
        program_->inputWidth(fb::EntryKind::Prefill, fb::InputKind::ImageEmbeddings);
    if (width == 0)
      throw Error("this artifact takes no image embeddings (it is not a vision-language model)");
    if (imageEmbeddings.size() % size_t(width) != 0)
      throw Error("image embeddings must be whole rows of " + std::to_string(width) + " values");
    imageRows = int64_t(imageEmbeddings.size()) / width;
  }
  backend::StepShape step{prompts.batch, prompts.tokens, prompts.tokens, int64_t(headRows.size()),
                          imageRows};
  EntryInputs inputs{prompts.ids.data(), prompts.positions.data(), prompts.mask.data(),
                     cacheStart.data(), headRows.data()};
  inputs.imageEmbeddings = imageEmbeddings.data();
  cacheLength_ = 0;
  batch_ = 0;
  std::vector<float> logits = program_->run(fb::EntryKind::Prefill, step, inputs);
  batch_ = prompts.batch;
  cacheLength_ = prompts.tokens;
  return logits;
}

std::vector<float> Model::decode(const std::vector<int64_t>& ids,
                                 const std::vector<int64_t>& positions) {
  if (batch_ == 0)
    throw Error("decode before prefill: start a batch with prefill first");
  if (int64_t(ids.size()) != batch_ || positions.size() != ids.size())
    throw Error("decode takes one token and one position per sequence (" + std::to_string(batch_) +
                ")");
  if (cacheLength_ >= maxSeqLen())
    throw Error("the KV cache is full: the artifact's max sequence length is " +
                std::to_string(maxSeqLen()) + " tokens (recompile with --max-seq-len)");
  int64_t keys = cacheLength_ + 1;
  std::vector<uint8_t> keyMask(size_t(batch_ * keys));
  for (int64_t b = 0; b < batch_; ++b) {
    keyValid_[size_t(b * maxSeqLen() + cacheLength_)] = 1;
    std::copy_n(keyValid_.begin() + b * maxSeqLen(), keys, keyMask.begin() + b * keys);
  }
  std::vector<int64_t> cacheStart(static_cast<size_t>(batch_), cacheLength_);
  std::vector<int64_t> headRows(static_cast<size_t>(batch_));
  for (int64_t b = 0; b < batch_; ++b)
    headRows[size_t(b)] = b;
  backend::StepShape step{batch_, 1, keys, batch_};
  EntryInputs inputs{ids.data(), positions.data(), keyMask.data(), cacheStart.data(),
                     headRows.data()};
  std::vector<float> logits = program_->run(fb::EntryKind::Decode, step, inputs);
  ++cacheLength_;
  return logits;
}

std::vector<float> Model::classify(const TokenBatch& inputs) {
  if (head_ == "causal_lm")
    throw Error("classify needs a classification artifact; this one is a causal LM");
  checkBatch(inputs);
  backend::StepShape step{inputs.batch, inputs.tokens, inputs.tokens, 0};
  EntryInputs entry{inputs.ids.data(), inputs.positions.data(), inputs.mask.data(), nullptr,
                    nullptr};
  batch_ = 0;
  return program_->run(fb::EntryKind::Classify, step, entry);
}

bool Model::encodesImages() const {
  return program_->has(fb::EntryKind::EncodeImage);
}

int64_t Model::pixelValuesPerImage() const {
  return encodesImages()
             ? program_->inputWidth(fb::EntryKind::EncodeImage, fb::InputKind::PixelValues)
             : 0;
}

int64_t Model::imageTokens() const {
  return encodesImages() ? program_->maxTokens(fb::EntryKind::EncodeImage) : 0;
}

std::vector<float> Model::encodeImages(const std::vector<float>& pixelValues) {
  if (!encodesImages())
    throw Error("this artifact has no vision tower (encode_image entry point)");
  const int64_t perImage = pixelValuesPerImage(), patches = imageTokens();
  if (perImage < 1 || pixelValues.empty() || pixelValues.size() % size_t(perImage) != 0)
    throw Error("pixel values must be whole images of " + std::to_string(perImage) +
                " floats, got " + std::to_string(pixelValues.size()));
  const int64_t images = int64_t(pixelValues.size()) / perImage;
  std::vector<float> embeddings;
  for (int64_t first = 0; first < images; first += maxBatch()) {
    const int64_t count = std::min(maxBatch(), images - first);
    // Every patch of every image is real, at its own position embedding row.
    std::vector<int64_t> positions(size_t(count * patches));
    for (size_t i = 0; i < positions.size(); ++i)
      positions[i] = int64_t(i) % patches;
    std::vector<uint8_t> keyMask(positions.size(), 1);
    EntryInputs inputs;
    inputs.positions = positions.data();
    inputs.keyMask = keyMask.data();
    inputs.pixelValues = pixelValues.data() + first * perImage;
    backend::StepShape step{count, patches, patches, 0};
    std::vector<float> out = program_->run(fb::EntryKind::EncodeImage, step, inputs);
    embeddings.insert(embeddings.end(), out.begin(), out.end());
  }
  return embeddings;
}

} // namespace fathom::executor
