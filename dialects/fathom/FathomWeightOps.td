#ifndef FATHOM_WEIGHT_OPS_TD
#define FATHOM_WEIGHT_OPS_TD

include "mlir/IR/RegionKindInterface.td"

// Compile-time weight work. Passes that need a weight in another form (row-permuted, sliced per
// head, dequantized, pre-multiplied, a RoPE table) declare a derived fathom.param and define it
// inside the module's fathom.initializer from other params. The artifact writer evaluates each
// derived param on its own while it streams the weights, so memory stays bounded by the few
// tensors one definition reads.

def Fathom_InitializerOp : Fathom_Op<"initializer", [NoTerminator, SingleBlock, NoRegionArguments,
    IsolatedFromAbove, HasParent<"::mlir::ModuleOp">]> {
  let summary = "holds the definitions of the module's derived params";
  let description = [{
    At most one per module; each derived param is defined once inside it.
  }];
  let hasVerifier = 1;
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "attr-dict-with-keyword $body";
  let extraClassDeclaration = [{
    ::mlir::Block& getBlock() { return getBody().front(); }
  }];
}

def Fathom_ParamValueOp : Fathom_Op<"param_value", [Pure, HasParent<"InitializerOp">,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "the value of a param, as stored";
  let arguments = (ins FlatSymbolRefAttr:$param);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = "$param attr-dict `:` type($result)";
}

def Fathom_DefineParamOp : Fathom_Op<"define_param", [HasParent<"InitializerOp">,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "defines a derived param as a value of the initializer";
  let arguments = (ins FlatSymbolRefAttr:$param, AnyStaticShapeTensor:$value);
  let assemblyFormat = "$param `=` $value attr-dict `:` type($value)";
}

def Fathom_WeightSliceOp : Fathom_Op<"weight_slice", [Pure]> {
  let summary = "the range [offset, offset + size) of one dimension";
  let arguments = (ins AnyStaticShapeTensor:$input, I64Attr:$dim, I64Attr:$offset,
                       I64Attr:$size);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = [{
    $input `dim` $dim `[` $offset `,` $size `]` attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Fathom_WeightReshapeOp : Fathom_Op<"weight_reshape", [Pure]> {
  let summary = "the same row-major elements under another shape";
  let arguments = (ins AnyStaticShapeTensor:$input);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Fathom_WeightTransposeOp : Fathom_Op<"weight_transpose", [Pure]> {
  let summary = "swaps the last two dimensions";
  let arguments = (ins AnyStaticShapeTensor:$input);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Fathom_WeightDeinterleaveRowsOp : Fathom_Op<"weight_deinterleave_rows", [Pure,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "a row permutation: within each window, even rows first, then odd rows";
  let description = [{
    For every k, rows [offset + k * period, offset + k * period + size) of dim 0 are reordered
    to rows 0, 2, 4, ..., then 1, 3, 5, ... of the window; other rows stay. RoPE fusion applies
    it to the rope rows of each head of a projection, so that a rope_interleave layout comes
    out of the GEMM already in the rotate-half layout.
  }];
  let arguments = (ins AnyStaticShapeTensor:$input, I64Attr:$offset, I64Attr:$size,
                       I64Attr:$period);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = [{
    $input `window` `(` $offset `,` $size `,` $period `)` attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
}

def Fathom_WeightConcatOp : Fathom_Op<"weight_concat", [Pure]> {
  let summary = "joins tensors along one dimension";
  let arguments = (ins Variadic<AnyStaticShapeTensor>:$inputs, I64Attr:$dim);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = "$inputs `dim` $dim attr-dict `:` type($inputs) `->` type($result)";
  let hasVerifier = 1;
}

def Fathom_WeightConvertOp : Fathom_Op<"weight_convert", [Pure]> {
  let summary = "changes the element type (widening exactly, narrowing round-to-nearest-even)";
  let arguments = (ins AnyStaticShapeTensor:$input);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Fathom_WeightDequantizeOp : Fathom_Op<"weight_dequantize", [Pure]> {
  let summary = "block-quantized weight times its per-block scale";
  let description = [{
    DeepSeek's FP8 format: w[i, j] = float(q[i, j]) * scale[i / block_rows, j / block_cols] in
    fp32, then rounded once to the result's element type (bf16 or f32), as the kernels do on
    the fly and as HF dequantizes a checkpoint it loads in bf16. INT4 (ui4 data, with its ui4
    `zero` of the scale's shape): w = float(q - zero) * scale, one fp32 multiply.
  }];
  let arguments = (ins AnyStaticShapeTensor:$input, AnyStaticShapeTensor:$scale,
                       Optional<AnyStaticShapeTensor>:$zero,
                       I64Attr:$block_rows, I64Attr:$block_cols);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale (`zero` $zero^)? `block` `(` $block_rows `,` $block_cols `)` attr-dict `:`
    type($input) `,` type($scale) (`,` type($zero)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

def Fathom_WeightQuantizeOp : Fathom_Op<"weight_quantize", [Pure]> {
  let summary = "DeepSeek's FP8 block quantization: one fp32 scale per block";
  let description = [{
    Per block: scale = amax / 448 (1 for an all-zero block), q = e4m3(w / scale) with
    round-to-nearest-even; results are the f8E4M3FN data and the [ceil(M / block_rows),
    ceil(N / block_cols)] f32 scales (the checkpoint's weight_scale_inv).
  }];
  let arguments = (ins AnyStaticShapeTensor:$input, I64Attr:$block_rows, I64Attr:$block_cols);
  let results = (outs AnyStaticShapeTensor:$data, AnyStaticShapeTensor:$scale);
  let assemblyFormat = [{
    $input `block` `(` $block_rows `,` $block_cols `)` attr-dict `:` type($input) `->`
    type($data) `,` type($scale)
  }];
  let hasVerifier = 1;
}

def Fathom_WeightGroupQuantizeOp : Fathom_Op<"weight_group_quantize", [Pure]> {
  let summary = "asymmetric INT4 quantization in groups along the input dimension";
  let description = [{
    Per row and group of `group` inputs (the last group partial), in fp32: scale =
    (max - min) / 15 (1 where max equals min), zero = clamp(round(-min / scale), 0, 15),
    q = clamp(round(w / scale) + zero, 0, 15), rounding half to even. Results: the ui4 codes
    (the input's shape), the f32 scales and the ui4 zero points, both [rows, ceil(cols /
    group)]; dequantized as (q - zero) * scale.
  }];
  let arguments = (ins AnyStaticShapeTensor:$input, I64Attr:$group);
  let results = (outs AnyStaticShapeTensor:$data, AnyStaticShapeTensor:$scale,
                      AnyStaticShapeTensor:$zero);
  let assemblyFormat = [{
    $input `group` `(` $group `)` attr-dict `:` type($input) `->` type($data) `,` type($scale)
    `,` type($zero)
  }];
  let hasVerifier = 1;
}

def Fathom_WeightMatmulOp : Fathom_Op<"weight_matmul", [Pure]> {
  let summary = "lhs [.., m, k] @ rhs [.., k, n] in fp32, rounded once to the result type";
  let arguments = (ins AnyStaticShapeTensor:$lhs, AnyStaticShapeTensor:$rhs);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Fathom_RopeTableOp : Fathom_Op<"rope_table", [Pure]> {
  let summary = "the cos or sin table of a rotary embedding for positions 0 .. n - 1";
  let description = [{
    table[p, j] = T(fp32(cos(fp32(p) * inv_freq[j])) * attention_factor) (or sin), j < dim / 2,
    with inv_freq as HF computes it for `rope` (plain, linear or YaRN with its ramp) in fp32.
    The result type gives the positions, dim / 2 and T.
  }];
  let arguments = (ins Fathom_RopeAttr:$rope, Fathom_TablePartAttr:$part);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = "$part $rope attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Per-rank weights (fathom-shard). The initializer is evaluated once per rank of the world the
// module is compiled for (`fathom.world_size`); these ops are where ranks differ. A rank's
// index in a group of `parts` consecutive ranks is rank % parts.
//===----------------------------------------------------------------------===//

def Fathom_WeightShardOp : Fathom_Op<"weight_shard", [Pure]> {
  let summary = "this rank's 1 / parts of one dimension";
  let description = [{
    The range [i * n, (i + 1) * n) of dimension `dim`, n = extent / parts, i = rank % parts:
    a tensor-parallel slice (heads, intermediate columns, vocabulary rows).
  }];
  let arguments = (ins AnyStaticShapeTensor:$input, I64Attr:$dim, I64Attr:$parts);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = [{
    $input `dim` $dim `parts` $parts attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Fathom_WeightSelectShardOp : Fathom_Op<"weight_select_shard", [Pure]> {
  let summary = "the input of this rank: input rank % parts of `parts` alike tensors";
  let description = [{
    Expert parallelism: local expert k of a rank is global expert i * (experts / parts) + k,
    i = rank % parts; the inputs list that expert of every i.
  }];
  let arguments = (ins Variadic<AnyStaticShapeTensor>:$inputs);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($result)";
  let hasVerifier = 1;
}

def Fathom_WeightShardFirstOp : Fathom_Op<"weight_shard_first", [Pure, SameOperandsAndResultType]> {
  let summary = "the input on the first rank of each group of `parts`, zeros on the others";
  let description = [{
    A bias added before an all-reduce: one rank of the group adds it, so the sum holds it once.
  }];
  let arguments = (ins AnyStaticShapeTensor:$input, I64Attr:$parts);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = "$input `parts` $parts attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Fathom_ShardStartOp : Fathom_Op<"shard_start", [Pure]> {
  let summary = "(rank % parts) * stride, as a tensor<1xi64>";
  let description = [{
    Where this rank's slice starts in the whole: the first token id of a vocabulary shard, the
    first global expert of an expert shard. Kernels read it as a weight.
  }];
  let arguments = (ins I64Attr:$parts, I64Attr:$stride);
  let results = (outs RankedTensorOf<[I64]>:$result);
  let assemblyFormat = "`parts` $parts `stride` $stride attr-dict `:` type($result)";
  let hasVerifier = 1;
}

#endif // FATHOM_WEIGHT_OPS_TD
