#ifndef FATHOM_KERNEL_OPS_TD
#define FATHOM_KERNEL_OPS_TD

// Kernel-level ops: what fathom-decompose and fathom-mla-absorption lower the DeepSeek blocks
// into, and what targets have kernels for (with embedding, rms_norm, linear, add, silu_mul and
// lm_head, which both levels share). Tensors are [batch, seq, width] or, split into heads,
// [batch, seq, heads, dim]; ops that gather rows produce [rows, width].

//===----------------------------------------------------------------------===//
// Views: reshapes and windows that need no kernel when the layout allows
//===----------------------------------------------------------------------===//

def Fathom_SliceOp : Fathom_Op<"slice", [Pure]> {
  let summary = "a window of the last dimension";
  let description = [{
    `result[..., i] = input[..., offset + i]` for i < size. Lowers to a strided view of the
    input's buffer, never to a copy.
  }];
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$offset, I64Attr:$size);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `[` $offset `,` $size `]` attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Fathom_SplitHeadsOp : Fathom_Op<"split_heads", [Pure]> {
  let summary = "[batch, seq, heads * dim] -> [batch, seq, heads, dim]";
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Fathom_MergeHeadsOp : Fathom_Op<"merge_heads", [Pure]> {
  let summary = "[batch, seq, heads, dim] -> [batch, seq, heads * dim]";
  let description = [{
    A view when the heads are packed, else a copy (the target decides).
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

def Fathom_RopeOp : Fathom_Op<"rope", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>, AllTypesMatch<["input", "result"]>]> {
  let summary = "rotary position embedding driven by precomputed cos/sin tables";
  let description = [{
    Rotates the last dimension (dim) of `input` [batch, seq, dim] or [batch, seq, heads, dim]
    by the rows `positions` [batch, seq] of the tables `cos` and `sin` ([max_positions,
    dim / 2] params the initializer computes). `mode` says how elements pair and round:
    `rotate_half` (HF apply_rotary_pos_emb: pairs (x_j, x_{j+dim/2}), every product and sum
    rounded to the dtype), `interleaved` (HF apply_rotary_pos_emb_interleave: pairs
    (x_2j, x_2j+1), result in the rotate-half layout), `complex` (DeepSeek-V2 apply_rotary_emb:
    pairs (x_2j, x_2j+1) in and out, fp32 arithmetic, one rounding) and `complex_halves` (the
    complex arithmetic on rotate-half pairs). A position outside the tables is a runtime error.
  }];
  let arguments = (ins AnyRankedTensor:$input, RankedTensorOf<[AnySignlessInteger]>:$positions,
                       FlatSymbolRefAttr:$cos, FlatSymbolRefAttr:$sin, Fathom_RopeModeAttr:$mode);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `,` $positions `,` $cos `,` $sin $mode attr-dict `:` type($input) `,` type($positions)
  }];
  let hasVerifier = 1;
}

def Fathom_AttentionOp : Fathom_Op<"attention", [Pure, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "scaled dot-product attention, causal with a padding mask";
  let description = [{
    query [batch, q_len, heads, dk] (plus `query_rope` [batch, q_len, heads, dr]), key [batch,
    keys, kv_heads, dk] (plus `key_rope` [batch, keys, rope_heads, dr]), value [batch, keys,
    v_heads, dv] -> [batch, q_len, heads, dv]. Each key and value head serves a contiguous
    group of query heads (heads must be a multiple of each head count), so a single shared
    head is multi-query attention. Scores are `scale * (q.k + q_rope.k_rope)` with HF's eager
    rounding to the key's element type, softmax in fp32; the query and the result may be f32
    where the keys are bf16 (no extra rounding point).

    Query t of sequence b sits at key query_start[b] + t (without `query_start`: keys - q_len);
    with `causal` it sees the keys up to that one, and never a key whose `key_mask` [batch,
    keys] is false. With `rope_positions` and tables `rope_cos`/`rope_sin` the kernel rotates
    query_rope on load (`rope_mode`), which is what fathom-rope-fusion makes of a fathom.rope
    that only feeds attention.
  }];
  let arguments = (ins AnyRankedTensor:$query, Optional<AnyRankedTensor>:$query_rope,
                       AnyRankedTensor:$key, Optional<AnyRankedTensor>:$key_rope,
                       AnyRankedTensor:$value, RankedTensorOf<[I1]>:$key_mask,
                       Optional<RankedTensorOf<[AnySignlessInteger]>>:$query_start,
                       Optional<RankedTensorOf<[AnySignlessInteger]>>:$rope_positions,
                       F32Attr:$scale, UnitAttr:$causal,
                       OptionalAttr<FlatSymbolRefAttr>:$rope_cos,
                       OptionalAttr<FlatSymbolRefAttr>:$rope_sin,
                       OptionalAttr<Fathom_RopeModeAttr>:$rope_mode);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    `q` `(` $query (`,` $query_rope^)? `)` `k` `(` $key (`,` $key_rope^)? `)` `v` `(` $value `)`
    `mask` `(` $key_mask `)` (`start` `(` $query_start^ `)`)?
    (`rope` `(` $rope_positions^ `)`)? `scale` $scale attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Fathom_CacheOp : Fathom_Op<"cache", [Symbol]> {
  let summary = "per-sequence state that entry points append to: one layer's KV cache";
  let description = [{
    Storage for max_batch x max_seq_len rows of `row` (one element type, one width). The
    passes that lower attention declare a cache per layer and choose its row: every head's
    keys and values plus the shared rope key (naive form), or the latent and the rope key
    (MLA absorption). The memory planner sizes it and the runtime keeps it across calls.

    Example: `fathom.cache @model.layers.0.self_attn.cache : tensor<576xbf16>`
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, TypeAttrOf<AnyStaticShapeTensor>:$row);
  let assemblyFormat = "$sym_name `:` $row attr-dict";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::RankedTensorType getRowType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getRow());
    }
  }];
}

def Fathom_CacheAppendOp : Fathom_Op<"cache_append", [AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "writes this call's rows into a cache and returns every cached row";
  let description = [{
    Writes the pieces [batch, seq, w_i] side by side (their widths sum to the cache row) into
    rows cache_start[b] + t of sequence b, then yields the cache as [batch, keys, row] where
    keys is the entry point's key count (the key_mask's length). With `rope_positions`, the
    piece `rope_piece` is rotated on its way in (fathom-rope-fusion).
  }];
  let arguments = (ins FlatSymbolRefAttr:$cache, Variadic<AnyRankedTensor>:$pieces,
                       RankedTensorOf<[AnySignlessInteger]>:$cache_start,
                       Optional<RankedTensorOf<[AnySignlessInteger]>>:$rope_positions,
                       OptionalAttr<I64Attr>:$rope_piece,
                       OptionalAttr<FlatSymbolRefAttr>:$rope_cos,
                       OptionalAttr<FlatSymbolRefAttr>:$rope_sin,
                       OptionalAttr<Fathom_RopeModeAttr>:$rope_mode);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $cache `(` $pieces `)` `start` `(` $cache_start `)` (`rope` `(` $rope_positions^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Fathom_HeadMatmulOp : Fathom_Op<"head_matmul", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "a separate projection per head: out[.., h, :] = x[.., h, :] @ weight[h]^T";
  let description = [{
    x [batch, seq, heads, in], weight [heads, out, in] (nn.Linear's layout per head) ->
    [batch, seq, heads, out]; fp32 accumulation, one rounding to the result's element type
    (which may differ from the input's). MLA absorption uses it to fold W_UK into the query and
    to apply W_UV after attention.
  }];
  let arguments = (ins AnyRankedTensor:$input, FlatSymbolRefAttr:$weight);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `,` $weight attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Rows
//===----------------------------------------------------------------------===//

def Fathom_SelectRowsOp : Fathom_Op<"select_rows", [Pure]> {
  let summary = "gathers rows of a [batch, seq, width] tensor by flat index b * seq + t";
  let description = [{
    The rows that reach a head: the last position of each prompt, every position, or the pooled
    token of a classifier. An index outside the batch is a runtime error.
  }];
  let arguments = (ins AnyRankedTensor:$input, RankedTensorOf<[AnySignlessInteger]>:$rows);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `,` $rows attr-dict `:` type($input) `,` type($rows) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Fathom_LastTokenRowsOp : Fathom_Op<"last_token_rows", [Pure]> {
  let summary = "per sequence, the flat row of the last token whose id is not pad_id";
  let description = [{
    HF's GenericForSequenceClassification pooling: argmax(arange(seq) * (ids != pad_id)), i.e.
    the last non-pad position, or position 0 when every id is the pad id. Result [batch] of
    flat indices b * seq + t.
  }];
  let arguments = (ins RankedTensorOf<[AnySignlessInteger]>:$ids, I64Attr:$pad_id);
  let results = (outs RankedTensorOf<[AnySignlessInteger]>:$rows);
  let assemblyFormat = "$ids `pad` $pad_id attr-dict `:` type($ids) `->` type($rows)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

def Fathom_MoeRouteOp : Fathom_Op<"moe_route", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "top-k expert selection from fp32 router logits";
  let description = [{
    fathom.moe_router after its GEMM: `logits` [batch, seq, experts] f32 in, weights and
    expert indices [batch, seq, top_k] out, by the router's rules (see fathom.moe_router).
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$logits, OptionalAttr<FlatSymbolRefAttr>:$score_bias,
                       Fathom_RouterScoringAttr:$scoring, I64Attr:$top_k, I64Attr:$n_group,
                       I64Attr:$topk_group, BoolAttr:$norm_topk_prob,
                       F32Attr:$routed_scaling_factor);
  let results = (outs RankedTensorOf<[F32]>:$weights, RankedTensorOf<[I32]>:$indices);
  let assemblyFormat = [{
    $logits attr-dict `:` type($logits) `->` type($weights) `,` type($indices)
  }];
  let hasVerifier = 1;
}

def Fathom_MoeDispatchOp : Fathom_Op<"moe_dispatch", [Pure]> {
  let summary = "groups (token, slot) pairs by expert";
  let description = [{
    From indices [batch, seq, top_k]: `offsets` [num_experts + 1] (expert e owns grouped rows
    [offsets[e], offsets[e + 1])), `row_token` [pairs] (the flat token of each grouped row) and
    `slot_row` [pairs] (the grouped row of pair t * top_k + k), experts ascending and tokens
    ascending within an expert.

    With `expert_start` (a tensor<1xi64> param: an expert shard's first global expert) the
    experts are start .. start + num_experts - 1 of `indices`; pairs routed elsewhere get no
    grouped row (slot_row -1, and rows past offsets[num_experts] point at token 0).
  }];
  let arguments = (ins RankedTensorOf<[I32]>:$indices, I64Attr:$num_experts,
                       OptionalAttr<FlatSymbolRefAttr>:$expert_start);
  let results = (outs RankedTensorOf<[I32]>:$offsets, RankedTensorOf<[I32]>:$row_token,
                      RankedTensorOf<[I32]>:$slot_row);
  let assemblyFormat = [{
    $indices attr-dict `:` type($indices) `->` type($offsets) `,` type($row_token) `,`
    type($slot_row)
  }];
  let hasVerifier = 1;
}

def Fathom_GatherRowsOp : Fathom_Op<"gather_rows", [Pure]> {
  let summary = "out[i] = x[rows[i]] over flat token rows";
  let arguments = (ins AnyRankedTensor:$input, RankedTensorOf<[I32]>:$rows);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `,` $rows attr-dict `:` type($input) `,` type($rows) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Fathom_ExpertLinearOp : Fathom_Op<"expert_linear", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "grouped rows through their expert's projection";
  let description = [{
    Rows [offsets[e], offsets[e + 1]) of x [rows, in] go through weights[e] [out, in]; one list
    entry per expert, in expert order.
  }];
  let arguments = (ins AnyRankedTensor:$input, RankedTensorOf<[I32]>:$offsets,
                       FlatSymbolRefArrayAttr:$weights);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `,` $offsets attr-dict `:` type($input) `,` type($offsets) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Fathom_GroupedGateUpOp : Fathom_Op<"grouped_gate_up", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "grouped rows through their expert's gate and up projections, SiLU(gate) * up";
  let description = [{
    `weight` stacks every expert's gate and up projections, [experts, 2, inter, hidden] (gate
    first, as transformers v5's `gate_up_proj` stores them). Rows [offsets[e], offsets[e + 1])
    of x [rows, hidden] give result rows silu(x gate_e^T) * (x up_e^T) [rows, inter], with the
    roundings of two `linear`s and a `silu_mul`. One grouped GEMM: experts without rows cost
    nothing.
  }];
  let arguments = (ins AnyRankedTensor:$input, RankedTensorOf<[I32]>:$offsets,
                       FlatSymbolRefAttr:$weight);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `,` $offsets `,` $weight attr-dict `:` type($input) `,` type($offsets) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def Fathom_GroupedLinearOp : Fathom_Op<"grouped_linear", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "grouped rows through their expert's matrix of a stacked weight";
  let description = [{
    `weight` stacks every expert's projection, [experts, out, in]; rows [offsets[e],
    offsets[e + 1]) of x [rows, in] go through matrix e. One grouped GEMM.
  }];
  let arguments = (ins AnyRankedTensor:$input, RankedTensorOf<[I32]>:$offsets,
                       FlatSymbolRefAttr:$weight);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `,` $offsets `,` $weight attr-dict `:` type($input) `,` type($offsets) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def Fathom_MoeCombineOp : Fathom_Op<"moe_combine", [Pure]> {
  let summary = "each token's weighted sum of its experts' grouped output rows";
  let description = [{
    result[t] = sum_k weights[t, k] * expert_out[slot_row[t * top_k + k]], in `order`: `eager`
    (transformers' eager loop: experts ascending, each weighted row rounded to the dtype and
    added into a zeroed accumulator) or `grouped` (fp32 sum over the slots, one rounding).
    Slots whose slot_row is -1 (routed to another rank's experts) add nothing.
  }];
  let arguments = (ins AnyRankedTensor:$expert_out, RankedTensorOf<[I32]>:$slot_row,
                       RankedTensorOf<[I32]>:$indices, RankedTensorOf<[F32]>:$weights,
                       Fathom_CombineOrderAttr:$order);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $expert_out `,` $slot_row `,` $indices `,` $weights $order attr-dict `:` type($expert_out) `,`
    type($slot_row) `,` type($indices) `,` type($weights) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Fusions
//===----------------------------------------------------------------------===//

def Fathom_AddRmsNormOp : Fathom_Op<"add_rms_norm", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    AllTypesMatch<["lhs", "rhs", "sum", "result"]>]> {
  let summary = "a residual add and the RMSNorm of its sum, in one pass over the rows";
  let description = [{
    `sum = lhs + rhs`, rounded to the element type as `fathom.add` rounds it, and `result =
    rms_norm(sum)` with `weight` and `epsilon` exactly as `fathom.rms_norm` computes it from
    that rounded sum; both are results, since the residual stream goes on with `sum`. What
    fathom-residual-norm-fusion writes for an add whose sum an rms_norm reads: the same bits
    as the two ops, with the rows read once instead of three passes over memory.
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs, FlatSymbolRefAttr:$weight,
                       F32Attr:$epsilon);
  let results = (outs AnyRankedTensor:$sum, AnyRankedTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs `,` $weight `eps` $epsilon attr-dict `:` type($result)";
  let hasVerifier = 1;
}

#endif // FATHOM_KERNEL_OPS_TD
