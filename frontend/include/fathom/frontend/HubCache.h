#pragma once
// Checkpoints in the local Hugging Face hub cache, as huggingface_hub lays it out
// (<cache>/models--<org>--<name>/{refs/main, snapshots/<revision>/...}): a cache folder or a
// repo id ("org/name") resolves to its snapshot folder. Nothing is downloaded.
#include <string>

namespace fathom::frontend {

// The hub cache folder: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.
std::string hubCacheDirectory();

// `argument` as a checkpoint folder: a hub cache folder (models--org--name) becomes the snapshot
// refs/main names (or its only snapshot); a repo id that is not a path becomes that snapshot in
// hubCacheDirectory(); anything else is returned as it is. Throws fathom::Error when a cache
// folder has no usable snapshot, or a repo id is in neither place, naming what was looked for.
std::string resolveCheckpointPath(const std::string& argument);

} // namespace fathom::frontend
