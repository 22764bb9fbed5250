// A Fathom artifact, loaded as fathom-run loads it (checksums verified, the program checked at
// the plan's extremes) under a 64 MiB plan budget; one that loads runs a short prefill and one
// decode step, so a program the loader admits must also run without faulting. The metadata
// checksum is recomputed first, as an attacker would, so mutations reach the program checks.
#include "FuzzSupport.h"
#include "fathom/artifact/ArtifactFile.h"
#include "fathom/artifact/Checksum.h"
#include "fathom/executor/Generate.h"
#include "fathom/executor/Model.h"
#include "fathom/runtime/Error.h"

#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fathom;
  fuzz::clearScratch();
  std::string bytes(reinterpret_cast<const char*>(data), size);
  artifact::ArtifactHeader header;
  if (size >= sizeof header) {
    std::memcpy(&header, bytes.data(), sizeof header);
    if (header.metadataOffset <= size && header.metadataSize <= size - header.metadataOffset) {
      header.metadataXxh64 = xxh64(bytes.data() + header.metadataOffset, header.metadataSize);
      std::memcpy(bytes.data(), &header, sizeof header);
    }
  }
  auto path = fuzz::writeScratchFile("model.fathom", bytes);
  try {
    executor::LoadOptions options;
    options.threads = 1;
    options.memoryLimit = uint64_t(64) << 20;
    auto model = executor::Model::load(path.string(), options);
    executor::GenerationOptions generation;
    generation.maxNewTokens = 2;
    (void)executor::generate(*model, {{0, 1}}, generation);
  } catch (const Error&) {
  }
  return 0;
}
