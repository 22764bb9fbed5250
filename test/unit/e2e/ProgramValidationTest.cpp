// An artifact whose metadata was edited and whose checksums were recomputed (so the file and the
// FlatBuffer verify) but whose program is inconsistent is refused at load with one line naming
// the entry point, the call and the problem, and never runs: the loader checks every call at the
// plan's extremes before the first step.
#include "compiler/driver/CompileCheckpoint.h"
#include "fathom/artifact/ArtifactFile.h"
#include "fathom/artifact/Checksum.h"
#include "fathom/executor/Generate.h"
#include "fathom/executor/Model.h"
#include "fathom/runtime/Error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <unistd.h>

namespace fathom {
namespace {
namespace fs = std::filesystem;
namespace fb = artifact::fb;
using ::testing::HasSubstr;

const fs::path kTinyV3 =
    fs::path(FATHOM_SOURCE_DIR) / "test" / "reference" / "checkpoints" / "tiny-v3";

std::vector<char> readBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A View's fields, editable (the generated struct has no setters), and back.
struct ViewFields {
  int32_t buffer;
  fb::Extent extent;
  uint32_t multiplier;
  uint64_t offset, rowStride, batchStride;
  uint32_t heads, headDim;
  uint64_t headStride;
};
void editView(fb::View& view, const std::function<void(ViewFields&)>& change) {
  ViewFields f{view.buffer(), view.extent(),     view.multiplier(),
               view.offset(), view.row_stride(), view.batch_stride(),
               view.heads(),  view.head_dim(),   view.head_stride()};
  change(f);
  view = fb::View(f.buffer, f.extent, f.multiplier, f.offset, f.rowStride, f.batchStride, f.heads,
                  f.headDim, f.headStride);
}

class ProgramValidation : public testing::Test {
protected:
  static void SetUpTestSuite() {
    original_ =
        fs::temp_directory_path() / ("fathom-validation-" + std::to_string(getpid()) + ".fathom");
    compiler::CompileOptions options;
    options.compute = DType::F32;
    options.maxSeqLen = 32;
    options.maxBatch = 2;
    compiler::compileCheckpoint(frontend::Checkpoint::open(kTinyV3), original_.string(), options);
  }
  static void TearDownTestSuite() { fs::remove(original_); }
  void TearDown() override { fs::remove(edited_); }

  // Rewrites the metadata with `edit` applied, recomputing its checksum as an attacker would.
  fs::path edit(const std::function<void(fb::ArtifactT&)>& change) {
    std::vector<char> bytes = readBytes(original_);
    artifact::ArtifactHeader header;
    std::memcpy(&header, bytes.data(), sizeof header);
    auto metadata = fb::UnPackArtifact(bytes.data() + header.metadataOffset);
    change(*metadata);
    flatbuffers::FlatBufferBuilder builder;
    fb::FinishArtifactBuffer(builder, fb::Artifact::Pack(builder, metadata.get()));
    bytes.resize(header.metadataOffset);
    bytes.insert(bytes.end(), builder.GetBufferPointer(),
                 builder.GetBufferPointer() + builder.GetSize());
    header.metadataSize = builder.GetSize();
    header.metadataXxh64 = xxh64(builder.GetBufferPointer(), builder.GetSize());
    std::memcpy(bytes.data(), &header, sizeof header);
    edited_ = original_.string() + ".edited";
    std::ofstream(edited_, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
    return edited_;
  }

  std::string loadError(const fs::path& path, uint64_t memoryLimit = 0) {
    executor::LoadOptions options;
    options.memoryLimit = memoryLimit;
    try {
      executor::Model::load(path.string(), options);
    } catch (const Error& error) {
      EXPECT_EQ(std::string(error.what()).find('\n'), std::string::npos);
      return error.what();
    }
    return "loaded";
  }

  static fb::EntryPointT& entry(fb::ArtifactT& artifact, fb::EntryKind kind) {
    for (auto& point : artifact.entry_points)
      if (point->kind == kind)
        return *point;
    throw Error("no such entry point");
  }
  // The first call of an entry point that runs `type`.
  static fb::KernelCallT& firstCall(fb::ArtifactT& artifact, fb::KernelParams type) {
    for (auto& call : entry(artifact, fb::EntryKind::Prefill).calls)
      if (call->params.type == type)
        return *call;
    throw Error("no such call");
  }

  static inline fs::path original_;
  fs::path edited_;
};

TEST_F(ProgramValidation, TheUneditedArtifactLoads) {
  EXPECT_EQ(loadError(edit([](fb::ArtifactT&) {})), "loaded");
}

TEST_F(ProgramValidation, RefusesACallNamingAnotherKernel) {
  // The RMSNorm's operands handed to the linear kernel: its weight is a vector, not a matrix.
  fs::path path = edit([](fb::ArtifactT& a) {
    fb::KernelCallT& call = firstCall(a, fb::KernelParams::RmsNormCall);
    const fb::RmsNormCallT& norm = *call.params.AsRmsNormCall();
    fb::LinearCallT linear;
    linear.x = std::make_unique<fb::View>(*norm.x);
    linear.out = std::make_unique<fb::View>(*norm.out);
    linear.weight = norm.weight;
    call.params.Set(std::move(linear));
  });
  EXPECT_THAT(
      loadError(path),
      HasSubstr("entry point 'prefill' call 1 (LinearCall fathom.rms_norm) is inconsistent: "
                "cpu linear: weight model.layers.0.input_layernorm.weight must be a "
                "matrix"));
}

TEST_F(ProgramValidation, RefusesACallWithNoOperands) {
  fs::path path = edit([](fb::ArtifactT& a) {
    fb::KernelCallT& call = firstCall(a, fb::KernelParams::AddCall);
    call.params.Set(fb::AddCallT());
  });
  EXPECT_THAT(loadError(path), HasSubstr("cpu add: the call has no 'a' operand"));
}

TEST_F(ProgramValidation, RefusesAnOutputIndexOutOfRange) {
  fs::path path = edit([](fb::ArtifactT& a) {
    editView(*entry(a, fb::EntryKind::Decode).output, [](ViewFields& f) { f.buffer = 999; });
  });
  EXPECT_THAT(loadError(path), HasSubstr(": the output of entry point 'decode' is not an output "
                                         "buffer"));
}

TEST_F(ProgramValidation, RefusesABufferOutsideTheArena) {
  fs::path path = edit([](fb::ArtifactT& a) {
    fb::EntryPointT& prefill = entry(a, fb::EntryKind::Prefill);
    for (auto& buffer : prefill.buffers)
      if (buffer->kind == fb::BufferKind::Arena) {
        buffer->offset = prefill.arena_size;
        return;
      }
  });
  EXPECT_THAT(loadError(path), HasSubstr("of entry point 'prefill' does not fit the arena"));
}

TEST_F(ProgramValidation, RefusesAViewPastItsBuffer) {
  fs::path path = edit([](fb::ArtifactT& a) {
    editView(*firstCall(a, fb::KernelParams::LinearCall).params.AsLinearCall()->out,
             [](ViewFields& f) { f.offset = uint64_t(1) << 40; });
  });
  EXPECT_THAT(loadError(path), HasSubstr("a kernel operand reaches past its buffer"));
}

TEST_F(ProgramValidation, RefusesStridesThatOverflow) {
  fs::path path = edit([](fb::ArtifactT& a) {
    editView(*firstCall(a, fb::KernelParams::LinearCall).params.AsLinearCall()->out,
             [](ViewFields& f) { f.rowStride = UINT64_MAX / 2; });
  });
  EXPECT_THAT(loadError(path),
              HasSubstr("a kernel operand's offset or stride of 9223372036854775807 elements "
                        "reaches past any buffer"));
}

TEST_F(ProgramValidation, RefusesAWeightIndexOutOfRange) {
  fs::path path = edit([](fb::ArtifactT& a) {
    firstCall(a, fb::KernelParams::LinearCall).params.AsLinearCall()->weight = 99999;
  });
  EXPECT_THAT(loadError(path), HasSubstr("cpu linear: weight 99999 is not in the artifact"));
}

TEST_F(ProgramValidation, RefusesAWeightOfAnotherShape) {
  // The first norm given the final norm's weight: fine. Given an expert bias: not its width.
  fs::path path = edit([](fb::ArtifactT& a) {
    int32_t bias = -1;
    for (size_t i = 0; i < a.tensors.size(); ++i)
      if (a.tensors[i]->name == "model.layers.1.mlp.gate.e_score_correction_bias")
        bias = int32_t(i);
    firstCall(a, fb::KernelParams::RmsNormCall).params.AsRmsNormCall()->weight = bias;
  });
  EXPECT_THAT(loadError(path), HasSubstr("cpu rms_norm: rows of 64 do not fit weight "
                                         "model.layers.1.mlp.gate.e_score_correction_bias"));
}

TEST_F(ProgramValidation, RefusesAnInputBufferOfAnotherType) {
  // The executor copies one i64 per token into the ids buffer: any other element type or width
  // would misread the caller's array.
  fs::path path = edit([](fb::ArtifactT& a) {
    fb::EntryPointT& prefill = entry(a, fb::EntryKind::Prefill);
    for (auto& input : prefill.inputs)
      if (input->kind == fb::InputKind::Ids)
        prefill.buffers[size_t(input->buffer)]->dtype = fb::ElementType::F64;
  });
  EXPECT_THAT(loadError(path),
              HasSubstr("input Ids of entry point 'prefill' is not an arena buffer "
                        "of one i64 per row"));
}

TEST_F(ProgramValidation, RefusesAnUnknownExtent) {
  fs::path path = edit([](fb::ArtifactT& a) {
    editView(*firstCall(a, fb::KernelParams::LinearCall).params.AsLinearCall()->out,
             [](ViewFields& f) { f.extent = fb::Extent(200); });
  });
  EXPECT_THAT(loadError(path), HasSubstr("a kernel operand has an unknown extent 200"));
}

TEST_F(ProgramValidation, RefusesAPlanLargerThanTheMemoryLimit) {
  EXPECT_THAT(loadError(original_, /*memoryLimit=*/4096),
              HasSubstr("bytes of activations and caches, more than the 4096 bytes this process "
                        "may use"));
  fs::path path =
      edit([](fb::ArtifactT& a) { a.caches.front()->row_elements = uint64_t(1) << 60; });
  EXPECT_THAT(loadError(path), HasSubstr("bytes of activations and caches, more than the"));
}

TEST_F(ProgramValidation, RefusesAProgramThatDisagreesWithItsConfig) {
  fs::path path = edit([](fb::ArtifactT& a) {
    nlohmann::json config = nlohmann::json::parse(a.model_config_json);
    config["vocab_size"] = 1000;
    a.model_config_json = config.dump();
  });
  EXPECT_THAT(loadError(path), HasSubstr("entry point 'prefill' takes token ids below 512, but the "
                                         "config's vocab_size is 1000"));
}

TEST_F(ProgramValidation, RefusesLimitsOutOfRange) {
  fs::path path = edit([](fb::ArtifactT& a) { a.max_batch = 1u << 30; });
  EXPECT_THAT(loadError(path), HasSubstr("max_batch 1073741824 and max_seq_len 32 must lie in"));
}

// A plan whose buffers alias one another (here: every arena buffer at offset 0, so that kernels
// write over the ids, expert rows and cache positions they index with) computes garbage but
// never faults: kernels check the index arrays they copied, not memory a write may change.
TEST_F(ProgramValidation, RunsAPlanWhoseBuffersAliasWithoutFaulting) {
  fs::path path = edit([](fb::ArtifactT& a) {
    for (auto& point : a.entry_points)
      for (auto& buffer : point->buffers)
        if (buffer->kind == fb::BufferKind::Arena)
          buffer->offset = 0;
  });
  std::string outcome = "generated";
  try {
    auto model = executor::Model::load(path.string());
    executor::GenerationOptions options;
    options.maxNewTokens = 4;
    executor::generate(*model, {{0, 44, 285, 402}, {0, 452, 344}}, options);
  } catch (const Error& error) {
    outcome = error.what();
  }
  EXPECT_FALSE(outcome.empty());
}

} // namespace
} // namespace fathom
