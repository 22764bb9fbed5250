// fathom-run: runs a Fathom artifact on its target, CPU or CUDA, one process or mpirun's ranks
// (see run/RunOptions.cpp for the options).
#include "common/Hints.h"
#include "common/ProgressBar.h"
#include "common/Version.h"
#include "run/Commands.h"
#include "run/Profile.h"
#include "run/Ranks.h"
#include "run/RunOptions.h"

#include "fathom/runtime/Error.h"
#ifdef FATHOM_HAVE_NCCL
#include "fathom/comm/Nccl.h"
#endif

#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  using namespace fathom::run;
  if (fathom::tools::printedVersion(argc, argv, "fathom-run"))
    return 0;
  Ranks ranks; // outlives the model: MPI ends with it
  try {
    RunOptions options = parseRunOptions(argc, argv);
    if (options.help) {
      std::cout << kUsage;
      return 0;
    }
    if (auto why = fathom::tools::notAnArtifact(options.model))
      throw fathom::Error(*why);
    if (options.info)
      return printInfo(options.model, options.json);
#ifdef FATHOM_HAVE_NCCL
    // CUDA artifacts' ranks talk over NCCL (its unique id sent over MPI), self-tested on the
    // device before anything loads.
    joinRanks(options.model, ranks, [](std::unique_ptr<fathom::comm::Communicator> mpi) {
      auto world = fathom::comm::ncclWorld(std::move(mpi));
      fathom::comm::deviceSelfTest(*world);
      return std::unique_ptr<fathom::comm::Communicator>(std::move(world));
    });
#else
    joinRanks(options.model, ranks);
#endif
    if (options.chat && ranks.comm->size() > 1)
      throw UsageError{"--chat reads stdin, which mpirun gives rank 0 only; a sharded artifact "
                       "takes --prompt, --prompt-ids or --input"};
    if (ranks.quiet && !std::freopen("/dev/null", "w", stdout))
      throw fathom::Error("cannot silence rank " + std::to_string(ranks.comm->rank()));
    fathom::tools::warnAboutThreads("fathom-run", options.threads);
    // Checking the weights of a small artifact takes a blink: a bar from 1 GB on. Every rank
    // shows its own.
    const std::string label =
        ranks.comm->size() > 1
            ? "rank " + std::to_string(ranks.comm->rank()) + ": verifying weights"
            : std::string("verifying weights");
    fathom::tools::ProgressBar bar(label.c_str(), true, uint64_t(1) << 30);
    fathom::executor::LoadOptions load;
    load.threads = options.threads;
    load.progress = [&](uint64_t done, uint64_t total) { bar.update(done, total); };
    load.kvCacheTokens = options.kvCacheTokens;
    load.recordDecode = !options.eager;
    load.communicator = ranks.comm.get();
    // Ranks verify their weights at their own pace: the first collective after loading waits
    // for the slowest, later ones --comm-timeout.
    ranks.comm->setTimeout(std::chrono::hours(24));
    auto model = fathom::executor::Model::load(options.model, load);
    ranks.comm->barrier();
    ranks.comm->setTimeout(std::chrono::seconds(options.commTimeoutSeconds));
    silenceAfterLoad(ranks);
    model->program().setProfiling(options.profile);
    int status = model->head() != "causal_lm" ? classify(*model, options)
                 : options.chat               ? chat(*model, options)
                 : !options.input.empty()     ? generateFromInput(*model, options)
                 : !options.prompts.empty()   ? generateFromText(*model, options)
                                              : generateFromIds(*model, options);
    if (options.profile)
      printProfile(model->program().profile(), stderr);
    return status;
  } catch (const UsageError& error) {
    std::cerr << "fathom-run: error: " << error.message << std::endl;
  } catch (const fathom::comm::CommError& error) {
    // A peer died or stalled: every rank that noticed says so (rank 0 may be the dead one), and
    // the world ends now, since its unfinished collectives would hang MPI's shutdown.
    std::fprintf(ranks.errors, "fathom-run: error: rank %d: %s\n", ranks.comm->rank(),
                 error.what());
    std::fflush(ranks.errors);
    ranks.comm->abortWorld(1);
  } catch (const std::exception& error) {
    // Under mpirun every rank meets the same error; rank 0 says it.
    if (!ranks.quiet)
      std::cerr << "fathom-run: error: " << error.what() << std::endl;
  }
  return 1;
}
