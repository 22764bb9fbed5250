// fathom-serve: an OpenAI-compatible HTTP server over a Fathom artifact, with continuous
// batching (see serve/ServeOptions.cpp for the options, serve/ for the pieces).
#include "common/Hints.h"
#include "common/Version.h"
#include "run/Generation.h"
#include "run/Images.h"
#include "run/RunOptions.h"
#include "serve/Api.h"
#include "serve/Metrics.h"
#include "serve/Scheduler.h"
#include "serve/ServeOptions.h"
#include "serve/Server.h"

#include "Artifact_generated.h"

#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>
#include <thread>

int main(int argc, char** argv) {
  using namespace fathom;
  if (tools::printedVersion(argc, argv, "fathom-serve"))
    return 0;
  try {
    serve::ServeOptions options = serve::parseServeOptions(argc, argv);
    if (options.help) {
      std::cout << serve::kServeUsage;
      return 0;
    }
    // Ctrl-C and SIGTERM reach one thread that stops the server; a client that hangs up is an
    // error on its socket, not a signal.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    if (auto why = tools::notAnArtifact(options.model))
      throw Error(*why);
    tools::warnAboutThreads("fathom-serve", options.threads);
    executor::LoadOptions load;
    load.threads = options.threads;
    load.kvCacheTokens = options.kvCacheTokens;
    load.recordDecode = !options.eager;
    auto model = executor::Model::load(options.model, load);
    if (model->head() != "causal_lm")
      throw Error(options.model + ": fathom-serve serves causal LMs; this artifact is a " +
                  model->head());
    auto tokenizer = run::loadTokenizer(*model);
    std::optional<tokenizer::ChatFormat> format;
    try {
      std::optional<tokenizer::ChatFormat> requested;
      if (options.chatFormat)
        requested = tokenizer::parseChatFormatName(*options.chatFormat);
      format = tokenizer::selectChatFormat(tokenizer->config(), requested);
    } catch (const Error& error) {
      if (options.chatFormat)
        throw;
      std::fprintf(stderr, "fathom-serve: no chat format (%s); /v1/chat/completions refuses\n",
                   error.what());
    }
    const auto* defaults = model->artifact().metadata().generation();
    serve::SamplingDefaults sampling;
    std::vector<int64_t> eos;
    if (defaults) {
      sampling.doSample = defaults->do_sample();
      sampling.temperature = defaults->temperature();
      sampling.topP = run::decimalValue(defaults->top_p());
      sampling.topK = defaults->top_k();
      if (defaults->eos_token_ids())
        eos.assign(defaults->eos_token_ids()->begin(), defaults->eos_token_ids()->end());
    }
    serve::Metrics metrics;
    std::optional<serve::ImageSupport> images;
    if (model->encodesImages()) {
      const auto* settings = model->artifact().metadata().image_processor_json();
      if (!settings || settings->size() == 0)
        throw Error(options.model + ": the artifact holds no image processor settings");
      const run::ImageToken token = run::imageTokenOf(*model, *tokenizer);
      images = serve::ImageSupport{
          token.id, token.placeholder, model->imageTokens(), model->pixelValuesPerImage(),
          image::parseImageProcessorConfig(nlohmann::json::parse(settings->str()),
                                           options.model + ": image processor")};
    }
    serve::Api api(*model, *tokenizer, format, options.modelName, sampling, std::move(images));
    serve::Scheduler scheduler(*model, *tokenizer, eos, metrics,
                               {options.maxWaiting, options.prefillChunk, options.prefixCache});
    serve::ServerOptions serverOptions;
    serverOptions.maxBodyBytes = size_t(options.maxBodyBytes);
    serverOptions.threads = int(std::max<int64_t>(64, 4 * model->maxBatch() + options.maxWaiting));
    serve::Server server(api, scheduler, metrics, serverOptions);
    const int port = server.bind(options.host, options.port);
    std::fprintf(stderr,
                 "fathom-serve: serving '%s' on http://%s:%d (max batch %lld, context %lld, KV "
                 "pool %lld tokens)\n",
                 options.modelName.c_str(), options.host.c_str(), port,
                 static_cast<long long>(model->maxBatch()),
                 static_cast<long long>(model->maxSeqLen()),
                 static_cast<long long>(model->cacheBlocks() * model->blockTokens()));
    std::fflush(stderr);
    std::thread signalWaiter([&] {
      int received = 0;
      sigwait(&signals, &received);
      std::fprintf(stderr, "fathom-serve: stopping\n");
      server.stop();
    });
    signalWaiter.detach();
    server.listen();
    scheduler.stop();
    return 0;
  } catch (const run::UsageError& error) {
    std::cerr << "fathom-serve: error: " << error.message << std::endl;
  } catch (const std::exception& error) {
    std::cerr << "fathom-serve: error: " << error.what() << std::endl;
  }
  return 1;
}
