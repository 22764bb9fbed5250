#include "fathom/executor/Model.h"

#include "fathom/runtime/Error.h"

#include <algorithm>
#include <utility>

namespace fathom::executor {

Model::Model(std::unique_ptr<Program> program) : program_(std::move(program)) {
  const fb::Artifact& meta = program_->artifact().metadata();
  head_ = meta.head() ? meta.head()->str() : "causal_lm";
  for (int64_t block = program_->cacheBlocks() - 1; block >= 0; --block)
    freeBlocks_.push_back(block);
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

int64_t Model::cacheLength() const {
  return batch_.empty() ? 0 : sequenceLength(batch_.front());
}

SequenceId Model::openSequence() {
  if (head_ != "causal_lm")
    throw Error("sequences need a causal LM artifact; this one is " + head_);
  SequenceId id;
  if (!reusable_.empty()) {
    id = reusable_.back();
    reusable_.pop_back();
  } else {
    id = SequenceId(sequences_.size());
    sequences_.emplace_back();
  }
  sequences_[size_t(id)].open = true;
  return id;
}

Model::Sequence& Model::sequenceAt(SequenceId sequence) {
  return const_cast<Sequence&>(std::as_const(*this).sequenceAt(sequence));
}

const Model::Sequence& Model::sequenceAt(SequenceId sequence) const {
  if (sequence < 0 || size_t(sequence) >= sequences_.size() || !sequences_[size_t(sequence)].open)
    throw Error("sequence " + std::to_string(sequence) + " is not open");
  return sequences_[size_t(sequence)];
}

bool Model::isOpen(SequenceId sequence) const {
  return sequence >= 0 && size_t(sequence) < sequences_.size() && sequences_[size_t(sequence)].open;
}

void Model::releaseBlocksPast(Sequence& sequence, int64_t length) {
  const size_t keep = size_t((length + blockTokens() - 1) / blockTokens());
  while (sequence.blocks.size() > keep) {
    freeBlocks_.push_back(sequence.blocks.back());
    sequence.blocks.pop_back();
  }
  if (sequence.keyValid.size() > size_t(length))
    sequence.keyValid.resize(size_t(length));
}

void Model::closeSequence(SequenceId id) {
  Sequence& sequence = sequenceAt(id);
  releaseBlocksPast(sequence, 0);
  sequence.open = false;
  reusable_.push_back(id);
}

int64_t Model::sequenceLength(SequenceId sequence) const {
  return int64_t(sequenceAt(sequence).keyValid.size());
}

void Model::truncateSequence(SequenceId id, int64_t length) {
  Sequence& sequence = sequenceAt(id);
  if (length < 0 || length > int64_t(sequence.keyValid.size()))
    throw Error("cannot truncate sequence " + std::to_string(id) + " of " +
                std::to_string(sequence.keyValid.size()) + " tokens to " + std::to_string(length));
  releaseBlocksPast(sequence, length);
}

std::vector<float> Model::step(const std::vector<SequenceId>& ids, const TokenBatch& rows,
                               bool allPositions, const std::vector<float>& imageEmbeddings) {
  return runStep(ids, rows, allPositions, imageEmbeddings, nullptr);
}

Model::Chosen Model::stepChoosing(const std::vector<SequenceId>& sequences, const TokenBatch& rows,
                                  const backend::TokenChoice& choice,
                                  const std::vector<double>& uniforms) {
  Chosen chosen;
  const Choosing choosing{choice, uniforms, chosen};
  chosen.logits = runStep(sequences, rows, false, {}, &choosing);
  return chosen;
}

std::vector<float> Model::runStep(const std::vector<SequenceId>& ids, const TokenBatch& rows,
                                  bool allPositions, const std::vector<float>& imageEmbeddings,
                                  const Choosing* choosing) {
  if (head_ != "causal_lm")
    throw Error("generation needs a causal LM artifact; this one is " + head_);
  checkBatch(rows);
  if (int64_t(ids.size()) != rows.batch)
    throw Error("internal error: a step of " + std::to_string(rows.batch) + " rows names " +
                std::to_string(ids.size()) + " sequences");
  const int64_t tokens = rows.tokens, blockSize = blockTokens();
  std::vector<Sequence*> sequences;
  int64_t keys = 0, blocksNeeded = 0;
  for (SequenceId id : ids) {
    Sequence& sequence = sequenceAt(id);
    for (const Sequence* other : sequences)
      if (other == &sequence)
        throw Error("sequence " + std::to_string(id) + " appears twice in one step");
    sequences.push_back(&sequence);
    const int64_t length = int64_t(sequence.keyValid.size());
    if (length + tokens > maxSeqLen())
      throw Error("the KV cache is full: sequence " + std::to_string(id) + " holds " +
                  std::to_string(length) + " tokens and " + std::to_string(tokens) +
                  " more exceed the artifact's max sequence length of " +
                  std::to_string(maxSeqLen()) + " tokens (recompile with --max-seq-len)");
    keys = std::max(keys, length + tokens);
    blocksNeeded += std::max<int64_t>(0, (length + tokens + blockSize - 1) / blockSize -
                                             int64_t(sequence.blocks.size()));
  }
  if (blocksNeeded > freeBlocks())
    throw CacheExhausted("the KV cache pool is full: the step needs " +
                         std::to_string(blocksNeeded) + " more blocks of " +
                         std::to_string(blockSize) + " tokens and " + std::to_string(freeBlocks()) +
                         " of " + std::to_string(cacheBlocks()) + " are free");
  const int64_t perSequence = program_->blocksPerSequence();
  std::vector<int64_t> table(size_t(rows.batch * perSequence));
  std::vector<uint8_t> keyMask(size_t(rows.batch * keys), 0);
  std::vector<int64_t> cacheStart(size_t(rows.batch)), headRows;
  for (int64_t b = 0; b < rows.batch; ++b) {
    Sequence& sequence = *sequences[size_t(b)];
    const int64_t length = int64_t(sequence.keyValid.size());
    while (int64_t(sequence.blocks.size()) * blockSize < length + tokens) {
      sequence.blocks.push_back(freeBlocks_.back());
      freeBlocks_.pop_back();
    }
    // Entries past the sequence's blocks are read only as masked keys: any block will do.
    for (int64_t i = 0; i < perSequence; ++i)
      table[size_t(b * perSequence + i)] =
          sequence.blocks[std::min(size_t(i), sequence.blocks.size() - 1)];
    std::copy(sequence.keyValid.begin(), sequence.keyValid.end(), keyMask.begin() + b * keys);
    std::copy_n(rows.mask.begin() + b * tokens, tokens, keyMask.begin() + b * keys + length);
    cacheStart[size_t(b)] = length;
    for (int64_t t = allPositions ? 0 : tokens - 1; t < tokens; ++t)
      headRows.push_back(b * tokens + t);
  }
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
  // One new token per sequence is what the decode entry point is planned for.
  const fb::EntryKind kind = tokens == 1 && imageRows == 0 && program_->has(fb::EntryKind::Decode)
                                 ? fb::EntryKind::Decode
                                 : fb::EntryKind::Prefill;
  backend::StepShape shape{rows.batch, tokens, keys, int64_t(headRows.size()), imageRows};
  EntryInputs inputs{rows.ids.data(), rows.positions.data(), keyMask.data(), cacheStart.data(),
                     headRows.data()};
  inputs.imageEmbeddings = imageEmbeddings.data();
  inputs.blockTable = table.data();
  std::vector<float> logits;
  try {
    if (choosing)
      choosing->out.onDevice = program_->runSelecting(
          kind, shape, inputs, choosing->choice, choosing->uniforms, choosing->out.tokens, logits);
    else
      logits = program_->run(kind, shape, inputs);
  } catch (...) {
    for (size_t b = 0; b < sequences.size(); ++b)
      releaseBlocksPast(*sequences[b], int64_t(sequences[b]->keyValid.size()));
    throw;
  }
  for (int64_t b = 0; b < rows.batch; ++b) {
    std::vector<uint8_t>& valid = sequences[size_t(b)]->keyValid;
    valid.insert(valid.end(), rows.mask.begin() + b * tokens, rows.mask.begin() + (b + 1) * tokens);
  }
  return logits;
}

std::vector<float> Model::prefill(const TokenBatch& prompts, bool allPositions,
                                  const std::vector<float>& imageEmbeddings) {
  if (head_ != "causal_lm")
    throw Error("prefill needs a causal LM artifact; this one is " + head_);
  checkBatch(prompts);
  for (SequenceId id : batch_)
    if (isOpen(id))
      closeSequence(id);
  batch_.clear();
  for (int64_t b = 0; b < prompts.batch; ++b)
    batch_.push_back(openSequence());
  return step(batch_, prompts, allPositions, imageEmbeddings);
}

void Model::checkDecode(const std::vector<int64_t>& ids,
                        const std::vector<int64_t>& positions) const {
  if (batch_.empty())
    throw Error("decode before prefill: start a batch with prefill first");
  if (ids.size() != batch_.size() || positions.size() != ids.size())
    throw Error("decode takes one token and one position per sequence (" +
                std::to_string(batch_.size()) + ")");
}

std::vector<float> Model::decode(const std::vector<int64_t>& ids,
                                 const std::vector<int64_t>& positions) {
  checkDecode(ids, positions);
  TokenBatch rows{int64_t(ids.size()), 1, ids, positions, std::vector<uint8_t>(ids.size(), 1)};
  return step(batch_, rows);
}

Model::Chosen Model::decodeChoosing(const std::vector<int64_t>& ids,
                                    const std::vector<int64_t>& positions,
                                    const backend::TokenChoice& choice,
                                    const std::vector<double>& uniforms) {
  checkDecode(ids, positions);
  TokenBatch rows{int64_t(ids.size()), 1, ids, positions, std::vector<uint8_t>(ids.size(), 1)};
  return stepChoosing(batch_, rows, choice, uniforms);
}

std::vector<float> Model::classify(const TokenBatch& inputs) {
  if (head_ == "causal_lm")
    throw Error("classify needs a classification artifact; this one is a causal LM");
  checkBatch(inputs);
  backend::StepShape step{inputs.batch, inputs.tokens, inputs.tokens, 0};
  EntryInputs entry{inputs.ids.data(), inputs.positions.data(), inputs.mask.data(), nullptr,
                    nullptr};
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
