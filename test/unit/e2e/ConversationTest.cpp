// fathom-run's chat keeps its KV cache between turns: a turn prefills what the cache does not
// already hold, and its reply is the one a fresh prefill of the whole rendered conversation
// gives. When the context fills, the oldest turns go and the chat goes on.
#include "compiler/driver/CompileCheckpoint.h"
#include "run/Chat.h"
#include "run/Generation.h"

#include "fathom/executor/Generate.h"
#include "fathom/runtime/Error.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

namespace fathom {
namespace {
namespace fs = std::filesystem;

const fs::path kTinyV3 =
    fs::path(FATHOM_SOURCE_DIR) / "test" / "reference" / "checkpoints" / "tiny-v3";

class Chat : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    path_ = fs::temp_directory_path() / ("fathom-chat-" + std::to_string(getpid()) + ".fathom");
    compiler::CompileOptions options;
    options.compute = DType::F32;
    options.maxSeqLen = 160;
    compiler::compileCheckpoint(frontend::Checkpoint::open(kTinyV3), path_.string(), options);
  }
  static void TearDownTestSuite() { fs::remove(path_); }

  void SetUp() override {
    model_ = executor::Model::load(path_.string(), {2});
    fresh_ = executor::Model::load(path_.string(), {2});
    tokenizer_ = run::loadTokenizer(*model_);
    format_ = tokenizer::selectChatFormat(tokenizer_->config(), std::nullopt);
  }

  // What one prefill of the whole conversation, as the template renders it, replies.
  std::vector<int64_t> freshReply(const nlohmann::json& messages, int64_t maxNewTokens) {
    auto ids = tokenizer::encodeRenderedChat(
        *tokenizer_, tokenizer::renderChat(format_, messages, true, tokenizer_->config()));
    executor::GenerationOptions options;
    options.maxNewTokens = maxNewTokens;
    options.eosTokenIds = {1};
    return executor::generate(*fresh_, {std::vector<int64_t>(ids.begin(), ids.end())}, options)
        .newTokens[0];
  }

  static inline fs::path path_;
  std::unique_ptr<executor::Model> model_, fresh_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  tokenizer::ChatFormat format_{};
};

executor::GenerationOptions greedy(int64_t maxNewTokens) {
  executor::GenerationOptions options;
  options.maxNewTokens = maxNewTokens;
  options.eosTokenIds = {1};
  return options;
}

auto quiet = [](const std::string&) { return false; };

TEST_F(Chat, TenTurnsPrefillOnlyWhatIsNew) {
  run::Conversation chat(*model_, *tokenizer_, format_, std::string("Be brief."));
  int64_t previousRendered = 0, previousReply = 0, prefilled = 0, rendered = 0;
  for (int turn = 0; turn < 10; ++turn) {
    SCOPED_TRACE("turn " + std::to_string(turn));
    nlohmann::json before = chat.messages();
    before.push_back({{"role", "user"}, {"content", "question " + std::to_string(turn)}});
    const std::vector<int64_t> expected = freshReply(before, 3);
    auto result = chat.say("question " + std::to_string(turn), greedy(3), true, {}, quiet);
    EXPECT_EQ(result.result.newTokens[0], expected);
    EXPECT_EQ(result.droppedTurns, 0);
    EXPECT_EQ(result.reusedTokens + result.result.promptTokens, result.renderedTokens);
    // The last prompt is reused whole, and at most what was fed of the reply after it.
    EXPECT_GE(result.reusedTokens, previousRendered);
    EXPECT_LE(result.reusedTokens, previousRendered + std::max<int64_t>(previousReply - 1, 0));
    EXPECT_EQ(chat.cachedTokens(),
              result.renderedTokens + int64_t(result.result.newTokens[0].size()) - 1);
    previousRendered = result.renderedTokens;
    previousReply = int64_t(result.result.newTokens[0].size());
    prefilled += result.result.promptTokens;
    rendered += result.renderedTokens;
  }
  // Re-prefilling every turn would have fed `rendered` tokens.
  EXPECT_LT(prefilled * 4, rendered);
}

TEST_F(Chat, DropsTheOldestTurnsWhenTheContextFillsAndGoesOn) {
  run::Conversation chat(*model_, *tokenizer_, format_, std::string("Be brief."));
  const std::string message(60, 'x'); // a few dozen tokens a turn: 160 fill in a few turns
  int64_t dropped = 0;
  for (int turn = 0; turn < 8; ++turn) {
    SCOPED_TRACE("turn " + std::to_string(turn));
    nlohmann::json before = chat.messages();
    before.push_back({{"role", "user"}, {"content", message}});
    auto result = chat.say(message, greedy(4), true, {}, quiet);
    EXPECT_LE(result.renderedTokens + 3, model_->maxSeqLen());
    dropped += result.droppedTurns;
    if (result.droppedTurns == 0) {
      EXPECT_EQ(result.result.newTokens[0], freshReply(before, 4));
    }
    // The system message stays; the oldest user/assistant pairs go.
    EXPECT_EQ(chat.messages()[0]["role"], "system");
    EXPECT_EQ(chat.messages().back()["role"], "assistant");
  }
  EXPECT_GT(dropped, 0);
}

TEST_F(Chat, AMessageThatCannotFitIsRefusedAndTheConversationKept) {
  run::Conversation chat(*model_, *tokenizer_, format_, std::nullopt);
  chat.say("hello", greedy(2), true, {}, quiet);
  const nlohmann::json before = chat.messages();
  const int64_t cached = chat.cachedTokens();
  try {
    chat.say(std::string(2000, 'y'), greedy(2), true, {}, quiet);
    FAIL() << "a message past the context was sent";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what())
                  .find("does not fit the model's context of 160 tokens "
                        "even without the earlier turns; it was not sent"),
              std::string::npos)
        << error.what();
  }
  EXPECT_EQ(chat.messages(), before);
  EXPECT_EQ(chat.cachedTokens(), cached);
  auto next = chat.say("again", greedy(2), true, {}, quiet);
  EXPECT_GE(next.reusedTokens, 1);
}

TEST_F(Chat, ResetForgetsTheHistoryButTheSystemMessage) {
  run::Conversation chat(*model_, *tokenizer_, format_, std::string("Be brief."));
  chat.say("one", greedy(2), true, {}, quiet);
  chat.reset();
  EXPECT_EQ(chat.cachedTokens(), 0);
  ASSERT_EQ(chat.messages().size(), 1u);
  EXPECT_EQ(chat.messages()[0]["content"], "Be brief.");
  auto result = chat.say("two", greedy(2), true, {}, quiet);
  EXPECT_EQ(result.reusedTokens, 0);
}

TEST_F(Chat, AnInterruptedReplyEndsAtOnceAndIsKept) {
  run::Conversation chat(*model_, *tokenizer_, format_, std::nullopt);
  int pieces = 0;
  auto result = chat.say("hi", greedy(20), true, {}, [&](const std::string&) {
    return ++pieces >= 2; // Ctrl-C during the second token
  });
  EXPECT_EQ(result.finishReason, "interrupted");
  EXPECT_EQ(result.result.newTokens[0].size(), 2u);
  EXPECT_EQ(chat.messages().back()["content"], result.reply);
}

} // namespace
} // namespace fathom

namespace fathom {
namespace {

// DeepSeek-VL: an image sent with a message is encoded once; a later turn reuses its cached
// tokens, and every reply is what one prefill of the whole conversation, images included, gives.
TEST(VisionChat, ImagesAreEncodedOnceAndReusedByLaterTurns) {
  const fs::path checkpoint =
      fs::path(FATHOM_SOURCE_DIR) / "test" / "reference" / "checkpoints" / "tiny-vl";
  const std::string image =
      (fs::path(FATHOM_SOURCE_DIR) / "test" / "reference" / "images" / "grace_hopper.jpg").string();
  const fs::path path =
      fs::temp_directory_path() / ("fathom-vl-chat-" + std::to_string(getpid()) + ".fathom");
  compiler::CompileOptions compile;
  compile.compute = DType::F32;
  compile.maxSeqLen = 256;
  compiler::compileCheckpoint(frontend::Checkpoint::open(checkpoint), path.string(), compile);
  auto model = executor::Model::load(path.string(), {2});
  auto fresh = executor::Model::load(path.string(), {2});
  fs::remove(path);
  auto tok = run::loadTokenizer(*model);
  const auto format = tokenizer::selectChatFormat(tok->config(), std::nullopt);
  const run::ImageToken token = run::imageTokenOf(*model, *tok);

  // One prefill of the rendered conversation, each placeholder as its image tokens.
  auto freshReply = [&](const nlohmann::json& messages, const std::vector<std::string>& images) {
    auto encoded = tokenizer::encodeRenderedChat(
        *tok, tokenizer::renderChat(format, messages, true, tok->config()));
    std::vector<int64_t> ids;
    for (auto id : encoded) {
      if (int64_t(id) == token.id)
        ids.insert(ids.end(), size_t(fresh->imageTokens()), token.id);
      else
        ids.push_back(int64_t(id));
    }
    executor::GenerationOptions options = greedy(4);
    if (!images.empty())
      options.imageEmbeddings = run::encodeImageFiles(*fresh, images);
    return executor::generate(*fresh, {ids}, options).newTokens[0];
  };

  run::Conversation chat(*model, *tok, format, std::nullopt);
  ASSERT_TRUE(chat.takesImages());
  auto first = chat.say("Describe this.", greedy(4), true, {}, quiet, {image});
  EXPECT_EQ(chat.messages()[0]["content"], token.placeholder + "Describe this.");
  EXPECT_EQ(first.result.newTokens[0],
            freshReply(nlohmann::json::array({chat.messages()[0]}), {image}));
  auto second = chat.say("And again?", greedy(4), true, {}, quiet);
  // The image's tokens are in the reused prefix: only the new message is read.
  EXPECT_GE(second.reusedTokens, first.renderedTokens);
  nlohmann::json asked = chat.messages();
  asked.erase(asked.size() - 1);
  EXPECT_EQ(second.result.newTokens[0], freshReply(asked, {image}));

  // A placeholder typed as text is not an image.
  EXPECT_THROW(chat.say(token.placeholder + "what is this?", greedy(2), true, {}, quiet), Error);
  EXPECT_EQ(chat.messages().size(), 4u);
}

TEST(VisionChat, ATextModelRefusesImages) {
  const fs::path path =
      fs::temp_directory_path() / ("fathom-text-chat-" + std::to_string(getpid()) + ".fathom");
  compiler::CompileOptions compile;
  compile.maxSeqLen = 64;
  compiler::compileCheckpoint(frontend::Checkpoint::open(kTinyV3), path.string(), compile);
  auto model = executor::Model::load(path.string(), {2});
  fs::remove(path);
  auto tok = run::loadTokenizer(*model);
  run::Conversation chat(*model, *tok, tokenizer::selectChatFormat(tok->config(), std::nullopt),
                         std::nullopt);
  EXPECT_FALSE(chat.takesImages());
  try {
    chat.say("hi", greedy(2), true, {}, quiet, {"photo.jpg"});
    FAIL() << "a text model took an image";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "this model takes no images (it has no vision tower)");
  }
}

} // namespace
} // namespace fathom
