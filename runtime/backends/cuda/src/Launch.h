#pragma once
// Host entry points of the device kernels (the .cu files): each checks nothing the table entry
// (src/*Kernels.cpp) has not already checked, enqueues on `stream` and returns the launch
// status. Activations are F32 or BF16; DeviceRows give every operand's addressing.
#include "DeviceRows.h"
#include "fathom/runtime/DType.h"

#include <cuda_runtime_api.h>

namespace fathom::cuda {

// out = a + b, one rounding to the type (the residual add).
cudaError_t launchAdd(DType type, const DeviceRows& a, const DeviceRows& b, const DeviceRows& out,
                      cudaStream_t stream);
// out = round(round(silu(gate)) * up) (HF's act_fn(gate) * up).
cudaError_t launchSiluMul(DType type, const DeviceRows& gate, const DeviceRows& up,
                          const DeviceRows& out, cudaStream_t stream);
// Copies elements of `elementBytes` from in's rows and heads to out's (same rows and width).
cudaError_t launchCopy(size_t elementBytes, const DeviceRows& in, const DeviceRows& out,
                       cudaStream_t stream);
// out[i] = in[i] converted from `from` to `to` (F32 or BF16, nearest even), count packed elements.
cudaError_t launchConvert(DType from, const void* in, DType to, void* out, int64_t count,
                          cudaStream_t stream);
// out[i] = in[rows[i]] (flat row indices); an index outside in's rows sets kRowOutOfRange and
// leaves that output row as it was.
cudaError_t launchSelectRows(size_t elementBytes, const DeviceRows& in, const int64_t* rows,
                             const DeviceRows& out, unsigned* error, cudaStream_t stream);
// out[b] = b * tokens + the last t whose id is not `pad` (0 when none).
cudaError_t launchLastTokenRows(const DeviceRows& ids, int64_t pad, int64_t* out,
                                cudaStream_t stream);
// out[i] = table[ids[i] - firstId] converted to outType; ids of another vocabulary shard give
// zeros; ids outside [0, vocabulary) set kIdOutOfRange and give zeros.
cudaError_t launchEmbedding(DType tableType, const void* table, int64_t tableRows, int64_t width,
                            const int64_t* ids, int64_t count, DType outType, void* out,
                            int64_t firstId, int64_t vocabulary, unsigned* error,
                            cudaStream_t stream);
// HF RMSNorm of x (or, with b, of sum = x + b, which is also stored): fp32 statistics,
// inverse = 1 / sqrt(mean(x^2) + eps); in bf16 the normalized row is rounded before the weight
// multiplies it.
cudaError_t launchAddRmsNorm(DType type, const DeviceRows& x, const DeviceRows* b,
                             const DeviceRows* sum, DType weightType, const void* weight, float eps,
                             const DeviceRows& out, cudaStream_t stream);

// A rotary embedding as the kernels apply it (the kernel ABI's RopeMode; RopeRow.h on the CPU):
// RotateHalf / Interleaved round every product and sum to the activation type, tables in that
// type; Complex / ComplexHalves multiply in fp32 with f32 tables and round once.
enum class RopeLayout : uint8_t { RotateHalf, Interleaved, Complex, ComplexHalves };
struct DeviceRope {
  RopeLayout layout = RopeLayout::RotateHalf;
  int64_t dim = 0; // rotated width (even)
  const void* cos = nullptr;
  const void* sin = nullptr;
  int64_t tableRows = 0;
  const int64_t* positions = nullptr; // one per (sequence, token)
  int64_t positionBatchStride = 0;
};
inline constexpr int64_t kMaxRopeDim = 512;

// out = rope(x) per row and head (out may be x).
cudaError_t launchRope(DType type, const DeviceRows& x, const DeviceRows& out,
                       const DeviceRope& rope, unsigned* error, cudaStream_t stream);

// Row t of sequence b of the pieces goes, side by side, to cache row starts[b] + t; piece
// `ropePiece` (-1: none) rotated by `rope`. A row past `capacity` sets kCacheFull.
inline constexpr int kMaxCachePieces = 4;
struct CacheAppend {
  DType type = DType::BF16;
  int pieces = 0;
  DeviceRows piece[kMaxCachePieces];
  DeviceRows cache;
  const int64_t* starts = nullptr;
  int64_t capacity = 0;
  int ropePiece = -1;
  DeviceRope rope;
};
cudaError_t launchCacheAppend(const CacheAppend& args, unsigned* error, cudaStream_t stream);

// HF's eager attention for one layer (Attention.cpp's arithmetic): per query the scores
// round(round(q.k [+ q_rope.k_rope]) * scale) in the key type, softmax over the visible keys
// (max, exp, a double sum, 1 / sum), probabilities rounded to the key type, fp32 sums of
// probability x value, rounded to out's type. A query that sees no key averages every value.
inline constexpr int64_t kMaxAttentionDim = 1024;
struct Attention {
  DType kvType = DType::BF16, qType = DType::BF16, qRopeType = DType::BF16, outType = DType::BF16;
  int64_t batch = 0, heads = 0, queryLen = 0, keyLen = 0;
  int64_t keyDim = 0, ropeDim = 0, valueDim = 0;
  DeviceRows q, qRope, k, kRope, v, out;
  int64_t kHeads = 1, kRopeHeads = 1, vHeads = 1;
  const uint8_t* keyValid = nullptr; // [batch, keys] bool
  int64_t keyValidBatchStride = 0;
  const int64_t* queryStart = nullptr; // null: keyLen - queryLen
  bool causal = false;
  float scale = 1.0f;
  bool rotateQuery = false;
  DeviceRope rope; // rotates q_rope on load
};
// Device scratch for split-KV attention (decode over long contexts): per run of a row's keys
// its max, whether it saw a key, its double sum and its partial output of valueDim floats, for
// at most capacityRuns runs. Null maxima: never split. targetBlocks: the blocks a call should
// fill the GPU with (a few per multiprocessor); a call of fewer rows over at least
// kMinSplitKeys keys splits each row's keys into up to kMaxSplits runs.
inline constexpr int64_t kMinSplitKeys = 512;
inline constexpr int64_t kMaxSplits = 64;
struct SplitScratch {
  float* maxima = nullptr;
  int* visible = nullptr;
  double* totals = nullptr;
  float* partials = nullptr;
  int64_t capacityRuns = 0, targetBlocks = 0;
  int64_t splits = 1; // set per launch
};
// The scratch of `runs` runs: its bytes, and its arrays carved from `memory` (that many bytes of
// device memory) for calls that fill the GPU with targetBlocks blocks.
size_t splitScratchBytes(int64_t runs);
SplitScratch carveSplitScratch(void* memory, int64_t runs, int64_t targetBlocks);
// The runs a call's rows are split into (1: the one-block-per-row kernel).
int64_t attentionSplits(const Attention& args, const SplitScratch& scratch);
cudaError_t launchAttention(const Attention& args, unsigned* error, cudaStream_t stream,
                            const SplitScratch& scratch = {});

// DeepSeek's routers (MoeRouter.cpp), one thread per token: indices [tokens, topK] i32 and
// weights f32, slots in descending score order (the CPU keeps torch's unsorted order; the set,
// and with it every combine, is the same up to the order of an fp32 sum).
enum class RouterMethod : uint8_t { SigmoidGroupTop2, SoftmaxGreedy, SoftmaxGroupMax };
inline constexpr int64_t kMaxRoutedExperts = 1024;
struct MoeRoute {
  RouterMethod method = RouterMethod::SigmoidGroupTop2;
  int64_t tokens = 0, experts = 0, topK = 0, groups = 1, topkGroup = 1;
  bool normTopkProb = true;
  float scaling = 1.0f;
  const float* logits = nullptr;
  const float* bias = nullptr;
  int32_t* indices = nullptr;
  float* weights = nullptr;
};
cudaError_t launchMoeRoute(const MoeRoute& args, cudaStream_t stream);

// Groups (token, slot) pairs by local expert (moeDispatch in MoeCombine.cpp): offsets
// [experts + 1], rowToken and slotRow [pairs]; pairs of another shard's experts get slot -1.
struct MoeDispatch {
  int64_t pairs = 0, topK = 0, experts = 0, firstExpert = 0, totalExperts = 0;
  const int32_t* indices = nullptr;
  int32_t* offsets = nullptr;
  int32_t* rowToken = nullptr;
  int32_t* slotRow = nullptr;
};
cudaError_t launchMoeDispatch(const MoeDispatch& args, unsigned* error, cudaStream_t stream);

// out[i] = x[rows[i]] (i32 indices into packed rows).
cudaError_t launchGatherRows(size_t elementBytes, const std::byte* x, int64_t ldx, int64_t xRows,
                             const int32_t* rows, int64_t count, int64_t width, std::byte* out,
                             int64_t ldOut, unsigned* error, cudaStream_t stream);

// Rows of expert e ([offsets[e], offsets[e + 1])) through matrix e of a stacked weight
// [experts, (2,) out, in] (F32, BF16, or FP8 with scales [experts, (2,) ceil(out / blockRows),
// ceil(in / blockCols)]); gated: out = round(round(silu(round(gate))) * round(up)).
struct GroupedLinear {
  DType type = DType::BF16;
  DType weightType = DType::BF16;
  int64_t experts = 0, in = 0, out = 0, rows = 0;
  bool gated = false;
  const int32_t* offsets = nullptr;
  const void* x = nullptr;
  int64_t ldx = 0;
  void* y = nullptr;
  int64_t ldy = 0;
  const void* weight = nullptr;
  const float* scales = nullptr;
  int64_t blockRows = 0, blockCols = 0;
};
cudaError_t launchGroupedLinear(const GroupedLinear& args, unsigned* error, cudaStream_t stream);

// out[t] = the weighted sum of token t's expert rows (MoeCombine.cpp): EagerExpertLoop adds in
// expert order, each term and sum rounded to bf16; GroupedMm in slot order in fp32.
struct MoeCombine {
  DType type = DType::BF16;
  bool eagerOrder = false;
  int64_t tokens = 0, topK = 0, hidden = 0, expertRows = 0;
  const void* expertOut = nullptr;
  int64_t ldExpertOut = 0;
  const int32_t* slotRow = nullptr;
  const int32_t* indices = nullptr;
  const float* weights = nullptr;
  void* out = nullptr;
  int64_t ldOut = 0;
};
inline constexpr int64_t kMaxCombineTopK = 64;
cudaError_t launchMoeCombine(const MoeCombine& args, unsigned* error, cudaStream_t stream);

// y[rows, out] = x W^T (+ bias) with W FP8 E4M3 in blockRows x blockCols blocks of fp32
// scales, each weight dequantized to the activation type (round(code * scale)) before an fp32
// dot product; the output rounded once. x, y: F32 or BF16 rows.
struct DequantLinear {
  DType type = DType::BF16; // x and y
  const void* x = nullptr;
  int64_t ldx = 0;
  void* y = nullptr;
  int64_t ldy = 0;
  int64_t rows = 0, in = 0, out = 0;
  const uint8_t* weight = nullptr;
  const float* scales = nullptr;
  int64_t blockRows = 0, blockCols = 0;
  DType biasType = DType::F32;
  const void* bias = nullptr; // null: none
};
cudaError_t launchDequantLinear(const DequantLinear& args, cudaStream_t stream);

// linear_fp8: x quantized per row per 128 columns into xCodes / xScales (device scratch of
// rows x in bytes and rows x in / 128 floats), then the W8A8 block GEMM (LinearFp8.cu).
// in % 128 == 0 and 128x128 weight blocks.
struct Fp8BlockLinear : DequantLinear {
  uint8_t* xCodes = nullptr;
  float* xScales = nullptr;
};
cudaError_t launchFp8BlockLinear(const Fp8BlockLinear& args, cudaStream_t stream);
// Its first half alone: x quantized into xCodes / xScales, the scales row-major [rows, in / 128]
// or, scalesByBlock, block-major [in / 128, rows] (what cuBLASLt's VEC128 mode reads).
cudaError_t launchFp8Quantize(const Fp8BlockLinear& args, bool scalesByBlock, cudaStream_t stream);

// The vision tower's kernels, with the CPU's arithmetic (runtime/backends/cpu/src/Vision.cpp;
// products and sums rounded one at a time, never fused).
// nn.LayerNorm per row: fp32 mean and biased variance, (x - mean) / sqrt(var + eps) * weight +
// bias rounded once; weight and bias F32 or BF16 vectors of the row's width.
cudaError_t launchLayerNorm(DType type, const DeviceRows& x, DType weightType, const void* weight,
                            const void* bias, float eps, const DeviceRows& out,
                            cudaStream_t stream);
// GELU over `count` packed elements: erf, tanh (one rounding) or HF's gelu_new (every op
// rounded to the type).
enum class GeluForm : uint8_t { Erf, Tanh, TanhUnfused };
cudaError_t launchGelu(DType type, const void* x, void* out, int64_t count, GeluForm form,
                       cudaStream_t stream);
// images [n, channels, height, width] f32 -> out [n * patches, channels * patch * patch] in
// outType, patch (i, j) at row i * (width / patch) + j, values ordered (channel, row, column).
cudaError_t launchPatchify(const float* images, int64_t n, int64_t channels, int64_t height,
                           int64_t width, int64_t patch, DType outType, void* out,
                           cudaStream_t stream);
// out = x with the k-th row whose id is tokenId replaced by f32 source row k (torch's
// masked_scatter); sourceRows 0: out = x. Image tokens that are not sourceRows in number set
// kImageRowsMismatch and leave out = x. slots: device scratch of x.rows() int64.
struct MaskedScatter {
  DType type = DType::F32; // x and out
  DeviceRows x, ids, out;
  int64_t tokenId = 0;
  const float* source = nullptr;
  int64_t sourceRows = 0, sourceStride = 0;
  int64_t* slots = nullptr;
};
cudaError_t launchMaskedScatter(const MaskedScatter& args, unsigned* error, cudaStream_t stream);

// The next token of each row of logits, as runtime/backends/cpu/src/Sampling.cpp chooses it
// (argmax; or temperature, top-k, top-p and the draw `uniforms[r]`), one block per row. A row
// holding NaN or +inf reports its first such entry instead. Top-k's survivors (values at or
// above the k-th largest, ties included) are sorted in shared memory: a row with more than
// kMaxDeviceCandidates of them reports token kChoiceOnHost, as does one where nothing has a
// positive probability, and the host chooses for the step.
inline constexpr int64_t kMaxDeviceCandidates = 2048;
inline constexpr int64_t kChoiceOnHost = -2;
struct DeviceChoice {
  int64_t token = -1;
  int64_t nonFinite = -1;
  int32_t nan = 0, unused = 0;
};
struct SelectTokens {
  DType type = DType::F32; // the logits: F32 or BF16
  const void* logits = nullptr;
  int64_t rows = 0, n = 0, rowStride = 0;
  bool sample = false;
  float temperature = 1.0f;
  int64_t k = 0; // top-k's k, 1 <= k <= kMaxDeviceCandidates when sampling
  double topP = 1.0;
  int64_t minKeep = 1;
  const double* uniforms = nullptr; // [rows], device memory
  DeviceChoice* out = nullptr;      // [rows], device memory
};
cudaError_t launchSelectTokens(const SelectTokens& args, cudaStream_t stream);

} // namespace fathom::cuda
