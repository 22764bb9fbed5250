// Attention against a scalar reference with HF's eager rounding points. With exactFloats inputs
// every dot product and weighted sum is exact in fp32, so bf16 must match bit for bit.
#include "fathom/cpu/Attention.h"
#include "TestUtil.h"
#include "fathom/cpu/Isa.h"
#include "fathom/runtime/Error.h"

#include <gtest/gtest.h>

#include <limits>

namespace fathom::cpu {
namespace {

// [batch, tokens, heads, dim] tensors; the rope key is shared by all heads ([batch, keys, dim]),
// as MLA's k_rot is.
struct Problem {
  int64_t batch = 2, heads = 3, queryLen = 4, keyLen = 7, keyDim = 16, ropeDim = 8, vDim = 12;
  int64_t kvHeads = 0; // key and value heads; 0: one per query head
  bool causal = true;
  int64_t queryOffset() const { return keyLen - queryLen; }
  int64_t storedHeads() const { return kvHeads ? kvHeads : heads; }
  int64_t kvHeadOf(int64_t h) const { return kvHeads ? h / (heads / kvHeads) : h; }
  int64_t qkDim() const { return keyDim + ropeDim; }
  float scale = 0.0625f;
  std::vector<float> q, k, kRope, v;
  std::vector<uint8_t> keyValid;

  void fill(bool exact, uint32_t seed) {
    auto make = [&](size_t n, uint32_t s) {
      return exact ? test::exactFloats(n, s) : test::randomFloats(n, s);
    };
    q = make(size_t(batch * queryLen * heads * qkDim()), seed);
    k = make(size_t(batch * keyLen * storedHeads() * keyDim), seed + 1);
    kRope = make(size_t(batch * keyLen * ropeDim), seed + 2);
    v = make(size_t(batch * keyLen * storedHeads() * vDim), seed + 3);
    keyValid.assign(size_t(batch * keyLen), 1);
    // Sequence 1 (if any) is left-padded by 3: its first 3 keys are padding.
    for (int64_t j = 0; j < 3 && batch > 1; ++j)
      keyValid[size_t(keyLen + j)] = 0;
  }
};

float qAt(const Problem& p, int64_t b, int64_t i, int64_t h, int64_t d) {
  return p.q[size_t(((b * p.queryLen + i) * p.heads + h) * p.qkDim() + d)];
}
float kAt(const Problem& p, int64_t b, int64_t j, int64_t h, int64_t d) {
  if (d < p.keyDim)
    return p.k[size_t(((b * p.keyLen + j) * p.storedHeads() + p.kvHeadOf(h)) * p.keyDim + d)];
  return p.kRope[size_t((b * p.keyLen + j) * p.ropeDim + d - p.keyDim)];
}
float vAt(const Problem& p, int64_t b, int64_t j, int64_t h, int64_t d) {
  return p.v[size_t(((b * p.keyLen + j) * p.storedHeads() + p.kvHeadOf(h)) * p.vDim + d)];
}

// HF eager attention, one rounding point at a time; `round` is the activation dtype's.
template <class Round> std::vector<float> reference(const Problem& p, Round round) {
  std::vector<float> out(size_t(p.batch * p.queryLen * p.heads * p.vDim));
  for (int64_t b = 0; b < p.batch; ++b)
    for (int64_t h = 0; h < p.heads; ++h)
      for (int64_t i = 0; i < p.queryLen; ++i) {
        auto visible = [&](int64_t j) {
          return (!p.causal || j <= p.queryOffset() + i) && p.keyValid[size_t(b * p.keyLen + j)];
        };
        std::vector<float> scores(size_t(p.keyLen));
        float max = -std::numeric_limits<float>::infinity();
        bool any = false;
        for (int64_t j = 0; j < p.keyLen; ++j) {
          if (!visible(j))
            continue;
          double dot = 0;
          for (int64_t d = 0; d < p.qkDim(); ++d)
            dot += double(qAt(p, b, i, h, d)) * kAt(p, b, j, h, d);
          scores[size_t(j)] = round(round(float(dot)) * p.scale);
          max = std::max(max, scores[size_t(j)]);
          any = true;
        }
        std::vector<float> probs(size_t(p.keyLen), 0.0f);
        if (!any) {
          std::fill(probs.begin(), probs.end(), round(1.0f / float(p.keyLen)));
        } else {
          double sum = 0;
          for (int64_t j = 0; j < p.keyLen; ++j)
            if (visible(j)) {
              scores[size_t(j)] = std::exp(scores[size_t(j)] - max);
              sum += scores[size_t(j)];
            }
          float inverse = 1.0f / float(sum);
          for (int64_t j = 0; j < p.keyLen; ++j)
            if (visible(j))
              probs[size_t(j)] = round(scores[size_t(j)] * inverse);
        }
        for (int64_t d = 0; d < p.vDim; ++d) {
          double acc = 0;
          for (int64_t j = 0; j < p.keyLen; ++j)
            acc += double(probs[size_t(j)]) * vAt(p, b, j, h, d);
          out[size_t(((b * p.queryLen + i) * p.heads + h) * p.vDim + d)] = round(float(acc));
        }
      }
  return out;
}

template <class T> std::vector<T> convert(const std::vector<float>& values) {
  if constexpr (std::is_same_v<T, float>)
    return values;
  else
    return test::toBf16(values);
}

// `tiledRoom`: scratch sized by the call's shape, so a call with many queries takes the tiled
// path; else the eager path's scratch.
template <class T> std::vector<T> run(const Problem& p, ThreadPool& pool, bool tiledRoom = false) {
  std::vector<T> q = convert<T>(p.q), k = convert<T>(p.k), kRope = convert<T>(p.kRope),
                 v = convert<T>(p.v);
  std::vector<T> out(size_t(p.batch * p.queryLen * p.heads * p.vDim));
  AttentionArgs a;
  a.type = std::is_same_v<T, float> ? DType::F32 : DType::BF16;
  a.batch = p.batch;
  a.heads = p.heads;
  a.queryLen = p.queryLen;
  a.keyLen = p.keyLen;
  a.queryOffset = p.queryOffset();
  a.qkDim = p.qkDim();
  a.keyDim = p.keyDim;
  a.vDim = p.vDim;
  a.q = {q.data(), p.queryLen * p.heads * p.qkDim(), p.heads * p.qkDim(), p.qkDim()};
  const int64_t kv = p.storedHeads();
  a.k = {k.data(), p.keyLen * kv * p.keyDim, kv * p.keyDim, p.keyDim};
  a.kRope = {kRope.data(), p.keyLen * p.ropeDim, p.ropeDim, 0}; // shared by every head
  a.v = {v.data(), p.keyLen * kv * p.vDim, kv * p.vDim, p.vDim};
  a.kHeads = a.vHeads = p.kvHeads;
  a.out = out.data();
  a.outBatchStride = p.queryLen * p.heads * p.vDim;
  a.outTokenStride = p.heads * p.vDim;
  a.outHeadStride = p.vDim;
  a.keyValid = p.keyValid.data();
  a.keyValidBatchStride = p.keyLen;
  a.scale = p.scale;
  a.causal = p.causal;
  if (tiledRoom) {
    EXPECT_TRUE(attentionIsTiled(a));
  }
  ScratchBuffer scratch(tiledRoom ? attentionScratchBytes(a, pool)
                                  : attentionScratchBytes(p.keyLen, pool));
  attention(pool, a, scratch.span());
  return out;
}

TEST(Attention, Bf16MatchesHfRoundingPointsExactly) {
  ThreadPool pool(3);
  Problem p;
  p.fill(/*exact=*/true, 1);
  std::vector<uint16_t> got = run<uint16_t>(p, pool);
  std::vector<float> want = reference(p, [](float x) { return roundToBf16(x); });
  test::expectBitsEqual(got, test::toBf16(want));
}

TEST(Attention, PrefillWithPaddingAndDecodeStep) {
  ThreadPool pool(2);
  Problem prefill;
  prefill.queryLen = prefill.keyLen; // sequence 1's first 3 queries see only padding
  prefill.fill(true, 2);
  test::expectBitsEqual(run<uint16_t>(prefill, pool),
                        test::toBf16(reference(prefill, [](float x) { return roundToBf16(x); })));
  Problem decode;
  decode.queryLen = 1;
  decode.fill(true, 3);
  test::expectBitsEqual(run<uint16_t>(decode, pool),
                        test::toBf16(reference(decode, [](float x) { return roundToBf16(x); })));
}

TEST(Attention, FullyMaskedQueriesAverageEveryKeyAsHfDoes) {
  ThreadPool pool(1);
  Problem p;
  p.batch = 1;
  p.queryLen = p.keyLen;
  p.fill(true, 4);
  std::fill(p.keyValid.begin(), p.keyValid.begin() + 3, 0); // left padding of 3
  std::vector<float> got = run<float>(p, pool);
  // Query 0 sees only key 0, which is padding: uniform 1/keyLen weights over all 7 keys.
  for (int64_t d = 0; d < p.vDim; ++d) {
    double mean = 0;
    for (int64_t j = 0; j < p.keyLen; ++j)
      mean += vAt(p, 0, j, 0, d) * double(1.0f / 7.0f);
    EXPECT_NEAR(got[size_t(d)], mean, 1e-6);
  }
}

TEST(Attention, Fp32MatchesTheReference) {
  ThreadPool pool(3);
  Problem p;
  p.fill(/*exact=*/false, 5);
  p.scale = 0.2f;
  std::vector<float> got = run<float>(p, pool);
  std::vector<float> want = reference(p, [](float x) { return x; });
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], 1e-5) << i;
}

TEST(Attention, BitsDoNotDependOnTheThreadCount) {
  ThreadPool one(1), four(4), sixteen(16);
  Problem p;
  p.heads = 8;
  p.fill(false, 6);
  EXPECT_EQ(run<uint16_t>(p, one), run<uint16_t>(p, four));
  // Prefill with left padding: 1 thread attends 7 queries per task, 16 threads 2 (and the
  // padding-only queries' uniform rows fall in either).
  Problem prefill;
  prefill.queryLen = prefill.keyLen;
  prefill.fill(false, 7);
  EXPECT_EQ(run<uint16_t>(prefill, one), run<uint16_t>(prefill, sixteen));
  EXPECT_EQ(run<float>(prefill, one), run<float>(prefill, sixteen));
}

// Many queries with whole keys (LLaMA and SigLIP prefill) go through two GEMMs per head and
// block of 128 query rows, rounding where the eager path does: with exact inputs the same bits.
// Causal prefill with left padding (sequence 1's first queries see only padding), a chunk that
// starts at cache index 77, non-causal attention (SigLIP), and GQA.
TEST(Attention, TiledPathMatchesHfRoundingPointsExactly) {
  ThreadPool pool(2);
  struct Case {
    int64_t queryLen, keyLen, heads, kvHeads;
    bool causal;
  };
  for (Case c : {Case{150, 150, 4, 2, true}, Case{64, 141, 3, 0, true}, Case{200, 200, 2, 1, false},
                 Case{40, 40, 4, 4, false}}) {
    SCOPED_TRACE(std::to_string(c.queryLen) + " queries, " + std::to_string(c.keyLen) + " keys" +
                 (c.causal ? ", causal" : ""));
    Problem p;
    p.queryLen = c.queryLen;
    p.keyLen = c.keyLen;
    p.heads = c.heads;
    p.kvHeads = c.kvHeads;
    p.causal = c.causal;
    p.ropeDim = 0;
    p.keyDim = 24;
    p.vDim = 20;
    p.fill(/*exact=*/true, 21);
    test::expectBitsEqual(run<uint16_t>(p, pool, /*tiledRoom=*/true),
                          test::toBf16(reference(p, [](float x) { return roundToBf16(x); })));
    p.fill(/*exact=*/false, 22);
    std::vector<float> got = run<float>(p, pool, true);
    std::vector<float> want = reference(p, [](float x) { return x; });
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_NEAR(got[i], want[i], 1e-5) << i;
  }
}

TEST(Attention, TiledPathNeedsManyQueriesWholeKeysAndItsScratch) {
  ThreadPool pool(2);
  AttentionArgs shape;
  shape.queryLen = 64;
  shape.keyLen = 64;
  shape.qkDim = shape.keyDim = 16;
  shape.vDim = 16;
  EXPECT_TRUE(attentionIsTiled(shape));
  EXPECT_GT(attentionScratchBytes(shape, pool), attentionScratchBytes(shape.keyLen, pool));
  shape.queryLen = 8; // decode and short prompts stay eager
  EXPECT_FALSE(attentionIsTiled(shape));
  shape.queryLen = 64;
  shape.qkDim = 24; // MLA's split rope key
  EXPECT_FALSE(attentionIsTiled(shape));
}

// Query heads that share key/value heads, and consecutive queries, are attended in blocks that
// read each cached row once (multi-query: MLA's absorbed decode); each lane's arithmetic, and so
// every bit, is unchanged.
TEST(Attention, SharedKeyHeadsMatchHfRoundingPointsExactly) {
  ThreadPool pool(2);
  for (auto [heads, kvHeads] :
       {std::pair{12, 1}, std::pair{8, 2}, std::pair{16, 1}, std::pair{5, 1}}) {
    SCOPED_TRACE(std::to_string(heads) + " query heads, " + std::to_string(kvHeads) + " kv heads");
    for (int64_t queryLen : {1, 4}) {
      Problem p;
      p.heads = heads;
      p.kvHeads = kvHeads;
      p.queryLen = queryLen;
      p.keyDim = 40; // a 16-lane tail, as a 288-wide latent has none but odd head sizes do
      p.fill(true, 9);
      test::expectBitsEqual(run<uint16_t>(p, pool),
                            test::toBf16(reference(p, [](float x) { return roundToBf16(x); })));
      std::vector<float> got = run<float>(p, pool);
      std::vector<float> want = reference(p, [](float x) { return x; });
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], want[i], 1e-5) << i;
    }
  }
}

TEST(Attention, SharedKeyHeadBitsDoNotDependOnTheThreadCount) {
  // The head block shrinks so that every thread gets work: 1 thread attends 8 heads together,
  // 16 threads one head each. Inexact inputs, so the sums' order shows.
  ThreadPool one(1), four(4), sixteen(16);
  Problem p;
  p.heads = 16;
  p.kvHeads = 1;
  p.queryLen = 1;
  p.keyDim = 64;
  p.fill(false, 10);
  std::vector<uint16_t> serial = run<uint16_t>(p, one);
  EXPECT_EQ(serial, run<uint16_t>(p, four));
  EXPECT_EQ(serial, run<uint16_t>(p, sixteen));
  std::vector<float> serialF32 = run<float>(p, one);
  EXPECT_EQ(serialF32, run<float>(p, sixteen));
}

// The AVX2 dot products (8 heads' half-lanes per pass) give the bits of the 16-lane clones,
// which Baseline pinning selects (the clone the hardware picks, with FMA on any AVX2 CPU).
TEST(Attention, Avx2DotProductsGiveTheClonesBits) {
  if (detectedIsa() < Isa::Avx2)
    GTEST_SKIP() << "this CPU lacks AVX2";
  ThreadPool pool(2);
  Problem p;
  p.heads = 16;
  p.kvHeads = 1;
  p.queryLen = 1;
  p.keyLen = 45;
  p.keyDim = 263; // a 16-lane tail
  p.ropeDim = 32;
  p.fill(false, 11);
  const Isa before = gemmIsa();
  setGemmIsa(Isa::Avx2);
  std::vector<uint16_t> avx2 = run<uint16_t>(p, pool);
  std::vector<float> avx2F32 = run<float>(p, pool);
  setGemmIsa(Isa::Baseline);
  std::vector<uint16_t> cloned = run<uint16_t>(p, pool);
  std::vector<float> clonedF32 = run<float>(p, pool);
  setGemmIsa(before);
  EXPECT_EQ(avx2, cloned);
  EXPECT_EQ(avx2F32, clonedF32);
}

TEST(Attention, RejectsInconsistentShapes) {
  ThreadPool pool(1);
  std::vector<float> buffer(64);
  AttentionArgs a;
  a.type = DType::F32;
  a.queryLen = 2;
  a.keyLen = 1; // fewer keys than queries
  a.qkDim = a.keyDim = a.vDim = 4;
  a.q.data = a.k.data = a.v.data = buffer.data();
  a.out = buffer.data();
  EXPECT_THROW(attention(pool, a, {}), Error);
  a.keyLen = 2;
  a.keyDim = 2; // the rest of the key needs kRope
  EXPECT_THROW(attention(pool, a, {}), Error);
  a.keyDim = 4;
  EXPECT_THROW(attention(pool, a, {}), Error); // no scratch
}

} // namespace
} // namespace fathom::cpu
