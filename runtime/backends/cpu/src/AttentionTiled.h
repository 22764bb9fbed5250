#pragma once
// Internal: attention for many queries at once (prefill, SigLIP's 576 x 576 image blocks) as
// two GEMMs per head and block of query rows, with HF's eager rounding points between them.
#include "fathom/cpu/Attention.h"

namespace fathom::cpu::detail {

// Whether the tiled path serves these arguments: enough queries, keys read whole from k (no
// split rope key or query rotation), and queries of the key dtype.
bool tiledAttentionApplies(const AttentionArgs& a);
// Its scratch: the head's keys and transposed values, a block's scores and probabilities, and
// the GEMMs' own.
size_t tiledAttentionScratchBytes(const AttentionArgs& a, const ThreadPool& pool);
void attentionTiled(ThreadPool& pool, const AttentionArgs& a, Scratch scratch);

} // namespace fathom::cpu::detail
