// A checkpoint folder's JSON files (config.json, model.safetensors.index.json,
// generation_config.json, tokenizer_config.json, preprocessor_config.json), opened as
// fathom-compile opens it, then summarized as --inspect does and planned as --report does.
#include "FuzzSupport.h"
#include "fathom/frontend/Checkpoint.h"
#include "fathom/frontend/ModelSummary.h"
#include "fathom/runtime/Error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fathom;
  static const char* kFiles[] = {"config.json", "model.safetensors.index.json",
                                 "generation_config.json", "tokenizer_config.json",
                                 "preprocessor_config.json"};
  fuzz::clearScratch();
  std::vector<std::string_view> parts = fuzz::splitParts(data, size, std::size(kFiles));
  for (size_t i = 0; i < parts.size(); ++i)
    if (i == 0 || !parts[i].empty())
      fuzz::writeScratchFile(kFiles[i], parts[i]);
  try {
    frontend::CheckpointOptions options;
    options.requireWeights = false;
    options.inventoryErrorsAreFatal = false;
    frontend::Checkpoint checkpoint = frontend::Checkpoint::open(fuzz::scratchFolder(), options);
    (void)frontend::formatSummaryText(checkpoint);
    (void)frontend::summaryJson(checkpoint).dump();
    (void)checkpoint.weightCatalog();
  } catch (const Error&) {
  }
  return 0;
}
