#pragma once
// The kernel-level pieces of a fathom.mla_attention that every form of it shares (the naive
// form of fathom-decompose, the latent forms of fathom-mla-absorption): the query, the
// compressed KV and rope key, rotary embeddings, the layer's cache, attention and o_proj.
#include "dialects/fathom/FathomDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::fathom {

class MlaLowering {
public:
  // Builds in front of `op`, which the caller replaces with output(...).
  explicit MlaLowering(MlaAttentionOp op);

  int64_t heads() const { return heads_; }
  int64_t nope() const { return nope_; }
  int64_t rope() const { return rope_; }
  int64_t v() const { return v_; }
  int64_t kvLora() const { return kvLora_; }
  Type act() const { return act_; }
  MlaAttentionOp op() const { return op_; }
  OpBuilder& builder() { return builder_; }

  // The query split into heads: its nope part [batch, seq, heads, nope] and its rope part,
  // rotated, [batch, seq, heads, rope].
  struct Query {
    Value nope, rope;
  };
  Query query();
  // kv_a_proj_with_mqa: the normalized latent [batch, seq, kv_lora] and the rotated shared rope
  // key [batch, seq, rope].
  struct CompressedKv {
    Value latent, ropeKey;
  };
  CompressedKv compressedKv();

  // The layer's cache of rows `width` (created on first use; `kind` names it).
  FlatSymbolRefAttr cache(StringRef kind, int64_t width);
  // Appends `pieces` at cache_start and yields the cache [batch, keys, width].
  Value append(FlatSymbolRefAttr cache, ValueRange pieces);

  // Helpers over [batch, len, width] values.
  Value slice(Value input, int64_t offset, int64_t size);
  Value splitHeads(Value input, int64_t heads);
  Value linear(Value input, FlatSymbolRefAttr weight, FlatSymbolRefAttr bias, int64_t width);

  // kv_b_proj decompressing latents [batch, len, kv_lora] into every head's key [.., heads,
  // nope] and value [.., heads, v].
  struct KeysValues {
    Value key, value;
  };
  KeysValues decompress(Value latent);

  // Attention with the op's scale and masks; queries and keys in a nope and a rope piece. The
  // result has the activation dtype unless `resultElement` says otherwise.
  Value attend(Value queryNope, Value queryRope, Value keyNope, Value keyRope, Value value,
               Type resultElement = {});
  // merge_heads + o_proj: the op's result.
  Value output(Value attended);

  // The rope tables for this op's rope, and a rotary op over `input` [.., dim].
  Value rotate(Value input);

private:
  MlaAttentionOp op_;
  ModuleOp module_;
  OpBuilder builder_;
  Type act_;
  int64_t heads_, nope_, rope_, v_, kvLora_;
};

} // namespace mlir::fathom
