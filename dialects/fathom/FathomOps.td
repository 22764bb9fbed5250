#ifndef FATHOM_OPS_TD
#define FATHOM_OPS_TD

include "FathomDialect.td"
include "FathomAttrs.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def Fathom_ParamOp : Fathom_Op<"param", [Symbol,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "a model weight, named by symbol";
  let description = [{
    Declares a weight of the model. `type` is the tensor the artifact stores; `source` names
    the checkpoint tensor it comes from (absent for weights that compile-time weight work
    creates) and `source_dtype` its element type there when the artifact stores another one
    (a bf16 checkpoint compiled for fp32, say). A block-quantized weight names the symbol of
    its scale tensor, which must be an f32 `fathom.param` with one entry per block; a u4
    (INT4) weight also names its `zero`, a u4 `fathom.param` of the scale's shape.
    `source_offset` (elements) places the weight
    inside a larger source tensor whose bytes it occupies contiguously: one expert's gate rows
    of transformers v5's fused `mlp.experts.gate_up_proj`, say.

    A param without `source` is derived: the module's initializer (`fathom.define_param`)
    computes it from other params at compile time (RoPE tables, row-permuted or absorbed
    projections).

    Example:
    ```mlir
    fathom.param @model.layers.0.self_attn.kv_b_proj.weight : tensor<4096x512xbf16>
        {source = "model.layers.0.self_attn.kv_b_proj.weight"}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, TypeAttrOf<AnyStaticShapeTensor>:$type,
                       OptionalAttr<StrAttr>:$source,
                       OptionalAttr<Fathom_DTypeAttr>:$source_dtype,
                       OptionalAttr<Fathom_BlockQuantAttr>:$quantization,
                       OptionalAttr<FlatSymbolRefAttr>:$scale,
                       OptionalAttr<I64Attr>:$source_offset,
                       OptionalAttr<FlatSymbolRefAttr>:$zero);
  let assemblyFormat = [{
    $sym_name `:` $type (`quantized` $quantization^ `scale` $scale)? attr-dict
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::RankedTensorType getTensorType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getType());
    }
  }];
}

//===----------------------------------------------------------------------===//
// Model-level tensor ops
//===----------------------------------------------------------------------===//

def Fathom_EmbeddingOp : Fathom_Op<"embedding", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "gathers rows of an embedding table";
  let description = [{
    `result[..., :] = table[ids[...], :]`; the result has the ids' shape plus the hidden
    dimension. Ids outside the table are a runtime error.

    A vocabulary shard (fathom-shard) names `vocab_start`, a tensor<1xi64> param holding the
    first id its table holds, and `vocab_size`, the whole vocabulary: ids in [start, start +
    rows) read row id - start, the other ids of the vocabulary give zeros (an all-reduce over
    the shards then gives every row once).
  }];
  let arguments = (ins RankedTensorOf<[AnySignlessInteger]>:$ids, FlatSymbolRefAttr:$table,
                       OptionalAttr<FlatSymbolRefAttr>:$vocab_start,
                       OptionalAttr<I64Attr>:$vocab_size);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$ids `,` $table attr-dict `:` type($ids) `->` type($result)";
}

def Fathom_RmsNormOp : Fathom_Op<"rms_norm", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>, AllTypesMatch<["input", "result"]>]> {
  let summary = "root-mean-square normalization over the last dimension";
  let description = [{
    `result = weight * (x * rsqrt(mean(x^2) + epsilon))`, statistics in fp32. In bf16 the
    normalized value is rounded to bf16 before the multiply by the weight, as HF does.
  }];
  let arguments = (ins AnyRankedTensor:$input, FlatSymbolRefAttr:$weight, F32Attr:$epsilon);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `,` $weight `eps` $epsilon attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Fathom_LinearOp : Fathom_Op<"linear", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "x @ weight^T (+ bias), weight stored [out, in] as in nn.Linear";
  let description = [{
    Products are accumulated in fp32 and rounded once to the result's element type, which is
    the input's, or f32 for a bf16 input (HF's fp32 router logits: F.linear(x.float(), w.float())).
  }];
  let arguments = (ins AnyRankedTensor:$input, FlatSymbolRefAttr:$weight,
                       OptionalAttr<FlatSymbolRefAttr>:$bias);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^)? attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Fathom_SiluMulOp : Fathom_Op<"silu_mul", [Pure, SameOperandsAndResultType]> {
  let summary = "silu(gate) * up, the gated MLP activation";
  let arguments = (ins AnyRankedTensor:$gate, AnyRankedTensor:$up);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($result)";
}

def Fathom_AddOp : Fathom_Op<"add", [Pure, SameOperandsAndResultType, Commutative]> {
  let summary = "elementwise sum (residual connections)";
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Fathom_LmHeadOp : Fathom_Op<"lm_head", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "projects final hidden states to vocabulary logits";
  let description = [{
    hidden [..., hidden] -> logits [..., vocab] with weight [vocab, hidden] (the embedding
    table when tied). Kept apart from `fathom.linear` because it is where logits leave the
    model: sharding splits it by vocabulary and decode keeps only the last position.
  }];
  let arguments = (ins AnyRankedTensor:$input, FlatSymbolRefAttr:$weight);
  let results = (outs AnyRankedTensor:$logits);
  let assemblyFormat = "$input `,` $weight attr-dict `:` type($input) `->` type($logits)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Collectives (fathom-shard): the ranks of a group are `parts` consecutive ranks of the world.
// They move data between processes, so they are never removed or merged like pure ops.
//===----------------------------------------------------------------------===//

def Fathom_AllReduceOp : Fathom_Op<"all_reduce", [SameOperandsAndResultType]> {
  let summary = "the elementwise sum of every rank's input over a group of `parts` ranks";
  let description = [{
    Summed in fp32 in rank order on every rank of the group, then rounded once to the element
    type, so every rank of the group holds the same bits. Tensor parallelism sums the partial
    outputs of row-parallel projections (o_proj, down_proj) and of vocabulary-sharded
    embeddings with it; expert parallelism the partial sums of the experts each rank holds.
  }];
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$parts);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `parts` $parts attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Fathom_AllGatherOp : Fathom_Op<"all_gather", []> {
  let summary = "every rank's input of a group of `parts` ranks, side by side along the last dimension";
  let description = [{
    result[..., i * n : (i + 1) * n] = input of the group's i-th rank, n the input's last
    dimension: the vocabulary-sharded LM head's logits, made whole on every rank.
  }];
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$parts);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `parts` $parts attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Vision tower (SigLIP)
//===----------------------------------------------------------------------===//

def Fathom_PatchifyOp : Fathom_Op<"patchify", [Pure]> {
  let summary = "images [n, channels * height * width] -> patches [n, patches, channels * p * p]";
  let description = [{
    Each row of `input` is one image, channels-first ([channels, height, width] row-major, as
    HF's pixel_values). It is cut into non-overlapping `patch_size` squares in row-major order
    (patch row * (width / p) + patch column, as Conv2d(stride = p).flatten(2).transpose(1, 2)
    orders them), each flattened as (channel, row, column), the layout of a Conv2d weight [out,
    channels, p, p]. A `fathom.linear` over the patches with that weight viewed as [out,
    channels * p * p] is the strided convolution. Values are converted to the result's element
    type (HF casts pixel_values to the model dtype first).
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input, I64Attr:$channels, I64Attr:$height,
                       I64Attr:$width, I64Attr:$patch_size);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Fathom_MaskedScatterOp : Fathom_Op<"masked_scatter", [Pure,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "replaces the rows of one token id by rows of another tensor, in order";
  let description = [{
    torch's `input.masked_scatter(ids == token_id, source)`: the k-th position (row-major over
    [batch, seq]) whose id is `token_id` takes row k of `source` [rows, width], converted to
    the input's element type. DeepSeek-VL writes each image's embeddings at its image tokens
    this way. The number of such positions must equal the rows of `source` (a runtime error
    otherwise), except that a source without rows leaves the input as it is (HF merges only
    when it is given pixel values).
  }];
  let arguments = (ins AnyRankedTensor:$input, RankedTensorOf<[AnySignlessInteger]>:$ids,
                       RankedTensorOf<[F32]>:$source, I64Attr:$token_id);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `,` $ids `,` $source `token` $token_id attr-dict `:` type($input) `,` type($ids) `,`
    type($source)
  }];
  let hasVerifier = 1;
}

def Fathom_LayerNormOp : Fathom_Op<"layer_norm", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>, AllTypesMatch<["input", "result"]>]> {
  let summary = "nn.LayerNorm over the last dimension, with weight and bias";
  let description = [{
    `result = (x - mean) / sqrt(var + epsilon) * weight + bias` (biased variance), computed in
    fp32 and rounded once to the element type, as torch's CPU layer_norm does for bf16.
  }];
  let arguments = (ins AnyRankedTensor:$input, FlatSymbolRefAttr:$weight, FlatSymbolRefAttr:$bias,
                       F32Attr:$epsilon);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `,` $weight `,` $bias `eps` $epsilon attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Fathom_GeluOp : Fathom_Op<"gelu", [Pure, SameOperandsAndResultType]> {
  let summary = "GELU, exact (erf) or one of HF's tanh approximations";
  let description = [{
    `approximation` names the formula and where it rounds, after the config's `hidden_act`:
    - `erf` ("gelu", nn.GELU()): x * 0.5 * (1 + erf(x / sqrt(2))) in fp32, one rounding;
    - `tanh` ("gelu_pytorch_tanh", gelu(approximate="tanh")):
      0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))) in fp32, one rounding;
    - `tanh_unfused` ("gelu_new", NewGELUActivation): the same formula as separate torch
      operations, each rounded to the tensor's dtype (only bf16 tells it from `tanh`).
  }];
  let arguments = (ins AnyRankedTensor:$input,
                       DefaultValuedAttr<Fathom_GeluApproximationAttr,
                                         "::mlir::fathom::GeluApproximation::erf">:$approximation);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input (`approximation` $approximation^)? attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Multi-head attention (LLaMA, SigLIP)
//===----------------------------------------------------------------------===//

def Fathom_MultiHeadAttentionOp : Fathom_Op<"multi_head_attention", [AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>, AllTypesMatch<["input", "result"]>]> {
  let summary = "one layer's multi-head attention with separate q, k, v and output projections";
  let description = [{
    HF's LlamaAttention and SiglipAttention: q = q_proj(x), k = k_proj(x), v = v_proj(x) (each
    with its optional bias), split into `num_heads` query heads and `num_kv_heads` key/value
    heads of `head_dim` (each key/value head serves a contiguous group of query heads: GQA,
    or plain multi-head attention when the counts are equal); with `rope`, q and k are rotated
    on their whole head (`rope_mode`, by `positions`); eager attention with `scale`, causal when
    `causal` is set, keys absent in `key_mask` skipped; o_proj over the merged heads.

    With `cache_start` (causal only) the layer keeps a KV cache across entry-point calls, as
    fathom.mla_attention does: this call's keys and values go to rows cache_start[b] + t and
    attention sees every cached key. Without it the layer attends to this call's tokens only
    (the vision tower).
  }];
  let arguments = (ins AnyRankedTensor:$input,
                       Optional<RankedTensorOf<[AnySignlessInteger]>>:$positions,
                       RankedTensorOf<[I1]>:$key_mask,
                       Optional<RankedTensorOf<[AnySignlessInteger]>>:$cache_start,
                       I64Attr:$layer, I64Attr:$num_heads, I64Attr:$num_kv_heads,
                       I64Attr:$head_dim, F32Attr:$scale, UnitAttr:$causal,
                       OptionalAttr<Fathom_RopeAttr>:$rope,
                       OptionalAttr<Fathom_RopeModeAttr>:$rope_mode,
                       FlatSymbolRefAttr:$q_proj, FlatSymbolRefAttr:$k_proj,
                       FlatSymbolRefAttr:$v_proj, FlatSymbolRefAttr:$o_proj,
                       OptionalAttr<FlatSymbolRefAttr>:$q_proj_bias,
                       OptionalAttr<FlatSymbolRefAttr>:$k_proj_bias,
                       OptionalAttr<FlatSymbolRefAttr>:$v_proj_bias,
                       OptionalAttr<FlatSymbolRefAttr>:$o_proj_bias);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input (`positions` `(` $positions^ `)`)? `mask` `(` $key_mask `)`
    (`cache_start` `(` $cache_start^ `)`)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// DeepSeek blocks
//===----------------------------------------------------------------------===//

def Fathom_MlaAttentionOp : Fathom_Op<"mla_attention", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>, AllTypesMatch<["input", "result"]>]> {
  let summary = "DeepSeek multi-head latent attention of one decoder layer";
  let description = [{
    The whole MLA block of decoder layer `layer` in the naive (HF) form, model-spec A3:
    q = q_b_proj(rms_norm(q_a_proj(x))) (or q_proj(x) without a q LoRA), the compressed KV
    c = kv_a_layernorm(kv_a_proj_with_mqa(x)[:kv_lora_rank]) with one shared rope key, keys
    and values decompressed by kv_b_proj, rope on the rope halves (`rope_mode`: rotate_half,
    interleaved for V3's rope_interleave, complex for V2), causal attention over the cached and
    new positions (keys absent in `key_mask` are skipped), o_proj.

    With `cache_start` the layer keeps a KV cache across entry-point calls: this call's tokens
    are appended at positions cache_start[b] + t of sequence b and attention sees every cached
    key. Which form the cache takes (per-head keys and values, or the latent) is for the passes
    that lower this op to decide (fathom-decompose, fathom-mla-absorption). Without it the layer
    attends only to this call's tokens (classification).

    `input` is [batch, seq, hidden]; `positions` [batch, seq]; `key_mask` [batch, keys] covers
    the cached keys followed by the new ones; `cache_start` [batch].
  }];
  let arguments = (ins AnyRankedTensor:$input, RankedTensorOf<[AnySignlessInteger]>:$positions,
                       RankedTensorOf<[I1]>:$key_mask,
                       Optional<RankedTensorOf<[AnySignlessInteger]>>:$cache_start,
                       I64Attr:$layer, I64Attr:$num_heads, I64Attr:$qk_nope_head_dim,
                       I64Attr:$qk_rope_head_dim, I64Attr:$v_head_dim, I64Attr:$kv_lora_rank,
                       F32Attr:$scale, F32Attr:$lora_norm_epsilon, Fathom_RopeAttr:$rope,
                       Fathom_RopeModeAttr:$rope_mode,
                       OptionalAttr<FlatSymbolRefAttr>:$q_proj,
                       OptionalAttr<FlatSymbolRefAttr>:$q_a_proj,
                       OptionalAttr<FlatSymbolRefAttr>:$q_a_layernorm,
                       OptionalAttr<FlatSymbolRefAttr>:$q_b_proj,
                       FlatSymbolRefAttr:$kv_a_proj_with_mqa,
                       FlatSymbolRefAttr:$kv_a_layernorm,
                       FlatSymbolRefAttr:$kv_b_proj,
                       FlatSymbolRefAttr:$o_proj,
                       OptionalAttr<FlatSymbolRefAttr>:$q_a_proj_bias,
                       OptionalAttr<FlatSymbolRefAttr>:$kv_a_proj_with_mqa_bias,
                       OptionalAttr<FlatSymbolRefAttr>:$o_proj_bias);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `,` $positions `,` $key_mask (`cache_start` $cache_start^)? attr-dict `:`
    type($input) `,` type($positions) `,` type($key_mask) (`,` type($cache_start)^)?
  }];
  let hasVerifier = 1;
}

def Fathom_MoeRouterOp : Fathom_Op<"moe_router", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "picks each token's experts and their weights";
  let description = [{
    Router logits in fp32 from `gate` [experts, hidden]; scores by `scoring` (sigmoid for
    V3, softmax for V2). With `score_bias` (V3's e_score_correction_bias) the bias steers the
    selection only. With n_group > 1, tokens first keep their top `topk_group` groups (group
    score: sum of the top two for sigmoid routers, max for softmax ones), then the top `top_k`
    experts among those. Weights come from the unbiased scores, renormalised when
    `norm_topk_prob`, times `routed_scaling_factor`. Results: weights [tokens..., top_k] f32
    and expert indices [tokens..., top_k] i32.
  }];
  let arguments = (ins AnyRankedTensor:$input, FlatSymbolRefAttr:$gate,
                       OptionalAttr<FlatSymbolRefAttr>:$score_bias,
                       Fathom_RouterScoringAttr:$scoring, I64Attr:$top_k, I64Attr:$n_group,
                       I64Attr:$topk_group, BoolAttr:$norm_topk_prob,
                       F32Attr:$routed_scaling_factor);
  let results = (outs RankedTensorOf<[F32]>:$weights, RankedTensorOf<[I32]>:$indices);
  let assemblyFormat = [{
    $input `,` $gate attr-dict `:` type($input) `->` type($weights) `,` type($indices)
  }];
  let hasVerifier = 1;
}

def Fathom_ExpertFfnOp : Fathom_Op<"expert_ffn", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>, AllTypesMatch<["input", "result"]>]> {
  let summary = "the weighted sum of each token's routed experts' gated MLPs";
  let description = [{
    result[t] = sum_k weights[t, k] * down_e(silu(gate_e(x_t)) * up_e(x_t)), e = indices[t, k].
    `gate_proj`, `up_proj` and `down_proj` list every expert's weights in expert order
    ([moe_intermediate, hidden], [moe_intermediate, hidden], [hidden, moe_intermediate]).
    Expert-grouped GEMM rewrites this into permute / grouped GEMM / combine.

    An expert shard (fathom-shard) names `expert_start`, a tensor<1xi64> param holding the
    global index of its first expert: the lists hold experts [start, start + n) of the router's
    and the sum runs over the routed experts among them only (a partial sum).
  }];
  let arguments = (ins AnyRankedTensor:$input, RankedTensorOf<[F32]>:$weights,
                       RankedTensorOf<[I32]>:$indices, FlatSymbolRefArrayAttr:$gate_proj,
                       FlatSymbolRefArrayAttr:$up_proj, FlatSymbolRefArrayAttr:$down_proj,
                       OptionalAttr<FlatSymbolRefAttr>:$expert_start);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `,` $weights `,` $indices attr-dict `:` type($input) `,` type($weights) `,`
    type($indices)
  }];
  let hasVerifier = 1;
}

include "FathomKernelOps.td"
include "FathomWeightOps.td"

#endif // FATHOM_OPS_TD
