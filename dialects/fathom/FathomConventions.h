#pragma once
// Names of the discardable attributes that tie a fathom module together: what the model builder
// sets, the passes read and rewrite, and the artifact emitter serializes.
namespace mlir::fathom {

// Module: the checkpoint's model_type, and the limits the module is compiled for.
inline constexpr const char* kModelTypeAttr = "fathom.model_type";
inline constexpr const char* kMaxSeqLenAttr = "fathom.max_seq_len";
inline constexpr const char* kMaxBatchAttr = "fathom.max_batch";
// The ranks the module runs on (fathom-shard; absent: 1) and how they split the model: heads,
// dense MLPs, shared experts and the vocabulary over groups of `tp` ranks, routed experts over
// groups of `ep`.
inline constexpr const char* kWorldSizeAttr = "fathom.world_size";
inline constexpr const char* kTensorParallelAttr = "fathom.tp";
inline constexpr const char* kExpertParallelAttr = "fathom.ep";
// The model-level @model function: the entry points it stands for (fathom-specialize-entry-points).
inline constexpr const char* kModelFunction = "model";
inline constexpr const char* kEntryPointsAttr = "fathom.entry_points";
// An entry function: its name, and how many tokens per sequence one call takes.
inline constexpr const char* kEntryPointAttr = "fathom.entry_point";
inline constexpr const char* kMaxTokensAttr = "fathom.max_tokens";
// A model-level function whose weights fathom-quantize leaves in the compute dtype: DeepSeek-VL's
// vision tower, prefill-shaped work once per image, where quantized CPU GEMMs are slower than
// bf16 and the weights are a small part of the model.
inline constexpr const char* kUnquantizedAttr = "fathom.unquantized";
// Entry-function arguments: which run-time input each is.
inline constexpr const char* kInputAttr = "fathom.input";

// Entry point and input names (the runtime's side of the contract: runtime/executor).
inline constexpr const char* kPrefill = "prefill";
inline constexpr const char* kDecode = "decode";
inline constexpr const char* kClassify = "classify";
inline constexpr const char* kEncodeImage = "encode_image";
inline constexpr const char* kIdsInput = "ids";
inline constexpr const char* kPositionsInput = "positions";
inline constexpr const char* kKeyMaskInput = "key_mask";
inline constexpr const char* kCacheStartInput = "cache_start";
inline constexpr const char* kHeadRowsInput = "head_rows";
inline constexpr const char* kPixelValuesInput = "pixel_values";
inline constexpr const char* kImageEmbeddingsInput = "image_embeddings";

// Set by fathom-lower-to-kernels: the target kernel an op runs as ("view" for ops that only
// re-describe a buffer), and on the module the target's spelling ("cuda:sm_90a"). Set by
// fathom-plan-memory: arena byte offsets of an op's results (aligned as the target asks), and
// the arena size of an entry function.
inline constexpr const char* kKernelAttr = "fathom.kernel";
inline constexpr const char* kTargetAttr = "fathom.target";
inline constexpr const char* kViewKernel = "view";
inline constexpr const char* kArenaOffsetsAttr = "fathom.arena_offsets";
inline constexpr const char* kArenaSizeAttr = "fathom.arena_size";

} // namespace mlir::fathom
