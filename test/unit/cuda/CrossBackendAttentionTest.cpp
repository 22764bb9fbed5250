// The attention kernels on CUDA against the CPU's (label gpu): rope in its four modes, the cache
// append with a rotated piece, attention (MLA's two-piece keys, shared key heads, causal, a
// padded key, query_start, the fused query rotation) and head_matmul.
#include "CrossBackendFixture.h"

namespace fathom::testing {
namespace {

constexpr int64_t kTableRows = 32;

void addTables(HarnessCase& kase, fb::RopeMode mode, DType activation, int64_t dim) {
  const bool complex = mode == fb::RopeMode::Complex || mode == fb::RopeMode::ComplexHalves;
  const DType tables = complex ? DType::F32 : activation;
  kase.weights.push_back(tableWeight("cos", tables, kTableRows, dim / 2, 0.0f));
  kase.weights.push_back(tableWeight("sin", tables, kTableRows, dim / 2, 1.5707963f));
}

std::unique_ptr<fb::FusedRopeT> fusedRope(int32_t positions, int32_t cos, fb::RopeMode mode) {
  auto rope = std::make_unique<fb::FusedRopeT>();
  rope->positions = view(positions, 1, 1);
  rope->cos = cos;
  rope->sin = cos + 1;
  rope->mode = mode;
  return rope;
}

const fb::RopeMode kModes[] = {fb::RopeMode::RotateHalf, fb::RopeMode::Interleaved,
                               fb::RopeMode::Complex, fb::RopeMode::ComplexHalves};

TEST_F(CrossBackend, RopeInEveryModeAndType) {
  for (fb::RopeMode mode : kModes)
    for (DType type : {DType::F32, DType::BF16})
      for (bool inPlace : {false, true}) {
        HarnessCase kase{std::string("rope ") + fb::EnumNameRopeMode(mode) + " " +
                         std::string(dtypeName(type)) + (inPlace ? " in place" : "")};
        kase.buffers.push_back(randomBuffer(rng_, type, 2, 3, 4 * 64)); // 4 heads of 64
        kase.buffers.push_back(randomBuffer(rng_, type, 2, 3, 4 * 64));
        kase.buffers.push_back(randomBuffer(rng_, DType::I64, 2, 3, 1, float(kTableRows)));
        addTables(kase, mode, type, 64);
        fb::RopeCallT call;
        call.x = view(0, 256, 64, 4, 64);
        call.out = view(inPlace ? 0 : 1, 256, 64, 4, 64);
        call.rope = fusedRope(2, 0, mode);
        kase.call.params.Set(std::move(call));
        expectSame(kase, kExact);
      }
}

TEST_F(CrossBackend, CacheAppendRotatesOnePiece) {
  for (DType type : {DType::F32, DType::BF16}) {
    HarnessCase kase{"cache_append " + std::string(dtypeName(type))};
    kase.buffers.push_back(randomBuffer(rng_, type, 2, 3, 32));  // the latent
    kase.buffers.push_back(randomBuffer(rng_, type, 2, 3, 8));   // the rope key
    kase.buffers.push_back(randomBuffer(rng_, type, 2, 10, 40)); // the cache, 10 rows each
    kase.buffers.push_back(indexBuffer({0, 4}, 1));              // cache_start
    kase.buffers.push_back(randomBuffer(rng_, DType::I64, 2, 3, 1, float(kTableRows)));
    addTables(kase, fb::RopeMode::RotateHalf, type, 8);
    fb::CacheAppendCallT call;
    call.pieces.push_back(*view(0, 32, 32));
    call.pieces.push_back(*view(1, 8, 8));
    call.cache = view(2, 40, 40);
    call.cache_start = view(3, 1, 1);
    call.rope_piece = 1;
    call.rope = fusedRope(4, 0, fb::RopeMode::RotateHalf);
    kase.call.params.Set(std::move(call));
    expectSame(kase, kExact);
  }
}

struct AttentionShape {
  int64_t heads, kHeads, keyDim, ropeDim, valueDim;
  bool causal, queryStart, rotate;
};

HarnessCase attentionCase(std::mt19937& rng, DType type, const AttentionShape& s) {
  const int64_t batch = 2, queries = 3, keys = 7;
  HarnessCase kase{std::string("attention ") + std::string(dtypeName(type)) + " heads " +
                   std::to_string(s.heads) + "/" + std::to_string(s.kHeads) +
                   (s.causal ? " causal" : "") + (s.queryStart ? " query_start" : "") +
                   (s.rotate ? " rotated" : "")};
  kase.buffers.push_back(randomBuffer(rng, type, batch, queries, s.heads * s.keyDim));   // 0 q
  kase.buffers.push_back(randomBuffer(rng, type, batch, keys, s.kHeads * s.keyDim));     // 1 k
  kase.buffers.push_back(randomBuffer(rng, type, batch, keys, s.kHeads * s.valueDim));   // 2 v
  kase.buffers.push_back(maskBuffer({1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1}, batch)); // 3
  kase.buffers.push_back(randomBuffer(rng, type, batch, queries, s.heads * s.valueDim)); // 4 out
  kase.buffers.push_back(randomBuffer(rng, type, batch, queries, s.heads * s.ropeDim));  // 5
  kase.buffers.push_back(randomBuffer(rng, type, batch, keys, s.ropeDim));               // 6
  kase.buffers.push_back(indexBuffer({4, 2}, 1));                                        // 7
  kase.buffers.push_back(randomBuffer(rng, DType::I64, batch, queries, 1, float(kTableRows)));
  fb::AttentionCallT call;
  call.q = view(0, uint64_t(s.heads * s.keyDim), uint32_t(s.keyDim), uint32_t(s.heads),
                uint64_t(s.keyDim));
  call.k = view(1, uint64_t(s.kHeads * s.keyDim), uint32_t(s.keyDim), uint32_t(s.kHeads),
                uint64_t(s.keyDim));
  call.v = view(2, uint64_t(s.kHeads * s.valueDim), uint32_t(s.valueDim), uint32_t(s.kHeads),
                uint64_t(s.valueDim));
  call.key_mask = view(3, 1, 1);
  call.out = view(4, uint64_t(s.heads * s.valueDim), uint32_t(s.valueDim), uint32_t(s.heads),
                  uint64_t(s.valueDim));
  if (s.ropeDim > 0) {
    call.q_rope = view(5, uint64_t(s.heads * s.ropeDim), uint32_t(s.ropeDim), uint32_t(s.heads),
                       uint64_t(s.ropeDim));
    call.k_rope = view(6, uint64_t(s.ropeDim), uint32_t(s.ropeDim));
  }
  if (s.queryStart)
    call.query_start = view(7, 1, 1);
  if (s.rotate) {
    addTables(kase, fb::RopeMode::RotateHalf, type, s.ropeDim);
    call.rope = fusedRope(8, 0, fb::RopeMode::RotateHalf);
  }
  call.scale = 1.0f / std::sqrt(float(s.keyDim + s.ropeDim));
  call.causal = s.causal;
  kase.call.params.Set(std::move(call));
  return kase;
}

TEST_F(CrossBackend, AttentionOverTwoPieceKeysMasksAndStarts) {
  const AttentionShape shapes[] = {
      {4, 4, 16, 0, 16, true, false, false},  // multi-head, causal
      {4, 1, 32, 8, 32, true, false, true},   // MLA absorbed: one key head, rope piece rotated
      {4, 2, 16, 8, 24, false, true, false},  // grouped heads, query_start, not causal
      {8, 1, 512, 64, 512, true, true, true}, // DeepSeek's absorbed widths
  };
  for (DType type : {DType::F32, DType::BF16})
    for (const AttentionShape& shape : shapes)
      expectSame(attentionCase(rng_, type, shape),
                 type == DType::F32 ? Tolerance{1e-5, 1e-6} : Tolerance{1.0 / 64, 1e-3});
}

// Decode over long contexts (one query per sequence, thousands of keys): where the rows are few
// the CUDA kernel splits each row's keys into runs (split-KV); the result is the one-block
// kernel's up to the order of its sums. MLA's absorbed widths, one shared key head, a masked
// prefix, the query placed by query_start; the second sequence sees no key at all (HF's
// uniform softmax over the row).
TEST_F(CrossBackend, SplitKvDecodeOverLongContexts) {
  for (DType type : {DType::F32, DType::BF16})
    for (int64_t keys : {int64_t(700), int64_t(3000)}) {
      const int64_t batch = 2, heads = 16, keyDim = 512, ropeDim = 64, valueDim = 512;
      HarnessCase kase{"split-KV decode " + std::string(dtypeName(type)) + " over " +
                       std::to_string(keys) + " keys"};
      std::vector<uint8_t> mask(size_t(batch * keys), 1);
      for (int64_t j = 0; j < 40; ++j)
        mask[size_t(j)] = 0; // the first sequence's left padding
      for (int64_t j = 0; j < keys; ++j)
        mask[size_t(keys + j)] = 0; // the second sees nothing
      kase.buffers.push_back(randomBuffer(rng_, type, batch, 1, heads * keyDim));   // 0 q
      kase.buffers.push_back(randomBuffer(rng_, type, batch, keys, keyDim, 0.3f));  // 1 k
      kase.buffers.push_back(randomBuffer(rng_, type, batch, keys, valueDim));      // 2 v
      kase.buffers.push_back(maskBuffer(mask, batch));                              // 3
      kase.buffers.push_back(randomBuffer(rng_, type, batch, 1, heads * valueDim)); // 4 out
      kase.buffers.push_back(randomBuffer(rng_, type, batch, 1, heads * ropeDim));  // 5
      kase.buffers.push_back(randomBuffer(rng_, type, batch, keys, ropeDim, 0.3f)); // 6
      kase.buffers.push_back(indexBuffer({keys - 1, keys - 300}, 1));               // 7
      fb::AttentionCallT call;
      call.q =
          view(0, uint64_t(heads * keyDim), uint32_t(keyDim), uint32_t(heads), uint64_t(keyDim));
      call.k = view(1, uint64_t(keyDim), uint32_t(keyDim));
      call.v = view(2, uint64_t(valueDim), uint32_t(valueDim));
      call.key_mask = view(3, 1, 1);
      call.out = view(4, uint64_t(heads * valueDim), uint32_t(valueDim), uint32_t(heads),
                      uint64_t(valueDim));
      call.q_rope =
          view(5, uint64_t(heads * ropeDim), uint32_t(ropeDim), uint32_t(heads), uint64_t(ropeDim));
      call.k_rope = view(6, uint64_t(ropeDim), uint32_t(ropeDim));
      call.query_start = view(7, 1, 1);
      call.scale = 1.0f / std::sqrt(float(keyDim + ropeDim));
      call.causal = true;
      kase.call.params.Set(std::move(call));
      expectSame(kase, type == DType::F32 ? Tolerance{1e-5, 1e-6} : Tolerance{1.0 / 64, 1e-3});
    }
}

// Prefill (a call of eight or more queries): the CUDA kernel tiles the queries, one warp each,
// the keys and values staged once per tile. 37 queries (a partial last tile) after cached keys
// (query_start), padding in the mask, MLA's absorbed form with a rotated rope piece and grouped
// heads without one, causal and not.
TEST_F(CrossBackend, TiledPrefillAttention) {
  struct Shape {
    int64_t heads, kHeads, keyDim, ropeDim, valueDim;
    bool causal, rotate;
  };
  const Shape shapes[] = {{4, 1, 64, 32, 64, true, true},
                          {4, 2, 48, 0, 40, false, false},
                          {2, 1, 512, 64, 512, true, false}};
  for (DType type : {DType::F32, DType::BF16})
    for (const Shape& s : shapes) {
      const int64_t batch = 2, queries = 37, keys = 57;
      HarnessCase kase{"tiled prefill " + std::string(dtypeName(type)) + " heads " +
                       std::to_string(s.heads) + "/" + std::to_string(s.kHeads) + " dims " +
                       std::to_string(s.keyDim) + "+" + std::to_string(s.ropeDim)};
      std::vector<uint8_t> mask(size_t(batch * keys), 1);
      for (int64_t j = 0; j < 6; ++j)
        mask[size_t(keys + j)] = 0; // the second sequence's left padding
      kase.buffers.push_back(randomBuffer(rng_, type, batch, queries, s.heads * s.keyDim));   // 0
      kase.buffers.push_back(randomBuffer(rng_, type, batch, keys, s.kHeads * s.keyDim));     // 1
      kase.buffers.push_back(randomBuffer(rng_, type, batch, keys, s.kHeads * s.valueDim));   // 2
      kase.buffers.push_back(maskBuffer(mask, batch));                                        // 3
      kase.buffers.push_back(randomBuffer(rng_, type, batch, queries, s.heads * s.valueDim)); // 4
      kase.buffers.push_back(randomBuffer(rng_, type, batch, queries, s.heads * s.ropeDim));  // 5
      kase.buffers.push_back(randomBuffer(rng_, type, batch, keys, s.ropeDim));               // 6
      kase.buffers.push_back(indexBuffer({20, 5}, 1));                                        // 7
      kase.buffers.push_back(
          randomBuffer(rng_, DType::I64, batch, queries, 1, float(kTableRows))); // 8
      fb::AttentionCallT call;
      call.q = view(0, uint64_t(s.heads * s.keyDim), uint32_t(s.keyDim), uint32_t(s.heads),
                    uint64_t(s.keyDim));
      call.k = view(1, uint64_t(s.kHeads * s.keyDim), uint32_t(s.keyDim), uint32_t(s.kHeads),
                    uint64_t(s.keyDim));
      call.v = view(2, uint64_t(s.kHeads * s.valueDim), uint32_t(s.valueDim), uint32_t(s.kHeads),
                    uint64_t(s.valueDim));
      call.key_mask = view(3, 1, 1);
      call.out = view(4, uint64_t(s.heads * s.valueDim), uint32_t(s.valueDim), uint32_t(s.heads),
                      uint64_t(s.valueDim));
      if (s.ropeDim > 0) {
        call.q_rope = view(5, uint64_t(s.heads * s.ropeDim), uint32_t(s.ropeDim), uint32_t(s.heads),
                           uint64_t(s.ropeDim));
        call.k_rope = view(6, uint64_t(s.ropeDim), uint32_t(s.ropeDim));
      }
      call.query_start = view(7, 1, 1);
      if (s.rotate) {
        addTables(kase, fb::RopeMode::RotateHalf, type, s.ropeDim);
        call.rope = fusedRope(8, 0, fb::RopeMode::RotateHalf);
      }
      call.scale = 1.0f / std::sqrt(float(s.keyDim + s.ropeDim));
      call.causal = s.causal;
      kase.call.params.Set(std::move(call));
      expectSame(kase, type == DType::F32 ? Tolerance{1e-5, 1e-6} : Tolerance{1.0 / 64, 1e-3});
    }
}

TEST_F(CrossBackend, HeadMatmulOverStridedHeads) {
  for (DType type : {DType::F32, DType::BF16}) {
    HarnessCase kase{"head_matmul " + std::string(dtypeName(type))};
    kase.buffers.push_back(randomBuffer(rng_, type, 1, 5, 4 * 24)); // 4 heads of 16, 24 apart
    kase.buffers.push_back(randomBuffer(rng_, type, 1, 5, 4 * 8));
    kase.weights.push_back(randomWeight(rng_, "heads", type, {4, 8, 16}, 0.2f));
    fb::HeadMatmulCallT call;
    call.x = view(0, 96, 16, 4, 24);
    call.out = view(1, 32, 8, 4, 8);
    call.weight = 0;
    kase.call.params.Set(std::move(call));
    expectSame(kase, type == DType::F32 ? Tolerance{1e-5, 1e-6} : kBf16Ulp);
  }
}

} // namespace
} // namespace fathom::testing
