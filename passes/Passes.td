#ifndef FATHOM_PASSES_TD
#define FATHOM_PASSES_TD

include "mlir/Pass/PassBase.td"

// The default pipeline (compiler/pipeline) runs them in this order; the ones marked
// "optimization" can be switched off (fathom-compile --disable-pass=NAME) without changing what
// the artifact computes beyond rounding.

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

def SpecializeEntryPointsPass : Pass<"fathom-specialize-entry-points", "mlir::ModuleOp"> {
  let summary = "Clones each model-level function into one function per entry point";
  let description = [{
    The model builder writes the network once, as `@model`, and lists in its
    `fathom.entry_points` attribute what it stands for: `prefill` and `decode` for a causal LM,
    `classify` for a classifier. This pass clones the body into `@prefill`, `@decode`, ...
    (each tagged `fathom.entry_point` and `fathom.max_tokens`: max_seq_len, or 1 for decode),
    then erases `@model`, so that later passes can give each entry point its own form (MLA
    absorption rewrites decode, not prefill). Every function with `fathom.entry_points` is
    specialized the same way (DeepSeek-VL's `@vision` gives `encode_image`); one that states
    its own `fathom.max_tokens` (an image's patches) keeps it. A module without such functions
    is left alone.
  }];
  let dependentDialects = ["mlir::fathom::FathomDialect", "mlir::func::FuncDialect"];
}

//===----------------------------------------------------------------------===//
// Block decomposition and the MLA / RoPE optimizations
//===----------------------------------------------------------------------===//

def QuantizePass : Pass<"fathom-quantize", "mlir::ModuleOp"> {
  let summary = "Stores the linear weights quantized (fathom-compile --quantize fp8|int4)";
  let description = [{
    Every projection of attention (`fathom.mla_attention`'s q/kv/o projections,
    `fathom.multi_head_attention`'s q/k/v/o), of the dense MLPs and shared experts
    (`fathom.linear`) and of the routed experts (`fathom.expert_ffn`, per expert and matrix)
    in a function not marked `fathom.unquantized` (DeepSeek-VL's vision tower is) becomes a derived f8E4M3FN param `<weight>.fp8` with one f32 scale
    per 128x128 block, `<weight>.fp8_scale_inv` (edge blocks partial), computed by one
    `fathom.weight_quantize` in the initializer exactly as DeepSeek quantizes: scale = amax /
    448 (1 where amax is 0), q = w / scale rounded to nearest-even E4M3. The quantizer reads the
    checkpoint's values as the checkpoint stores them (through a `<weight>.checkpoint` param
    when the model computes in another dtype). Embeddings, the LM head (and a classifier's
    score head: a `fathom.linear` the function returns), norms and the router gate stay as
    they are (DeepSeek's FP8 checkpoints keep them in bf16), and so do weights that
    are already block-quantized (an FP8 checkpoint keeps its bytes).

    `mode=int4` stores the same weights as INT4, weight-only and asymmetric: `<weight>.int4`
    (ui4 codes, two per byte) with, per row and group of 128 inputs (the last partial), an f32
    `<weight>.int4_scale` and a ui4 `<weight>.int4_zero`, from one
    `fathom.weight_group_quantize`: scale = (max - min) / 15 (1 where max equals min), zero =
    clamp(round(-min / scale), 0, 15), q = clamp(round(w / scale) + zero, 0, 15), rounding
    half to even; w = (q - zero) * scale. An FP8 checkpoint's weights are dequantized in fp32
    and quantized again. Runs on model-level IR, before the blocks are decomposed.
  }];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"fp8\"",
           "the storage format: fp8 or int4">
  ];
  let dependentDialects = ["mlir::fathom::FathomDialect"];
  let statistics = [
    Statistic<"numQuantized", "num-quantized", "Weights stored block-quantized">
  ];
}

def ShardPass : Pass<"fathom-shard", "mlir::ModuleOp"> {
  let summary = "Splits the model over ranks (fathom-compile --tp N --ep M)";
  let description = [{
    Tensor parallelism over groups of `tp` consecutive ranks: each `fathom.mla_attention`
    keeps num_heads / tp heads (q_b_proj or q_proj and kv_b_proj by rows, o_proj by columns;
    the latent projections, their norms and so the latent cache stay whole on every rank), each
    `fathom.multi_head_attention` num_heads / tp query and num_kv_heads / tp key/value heads;
    each gated MLP (`linear` gate and up, `silu_mul`, `linear` down: the dense MLPs and the
    shared experts) keeps intermediate / tp columns; the embedding and the LM head keep vocab
    / tp rows. A row-parallel projection's partial sum and the embedding shard's rows (zeros
    for ids outside it) are summed by `fathom.all_reduce`; the LM head's logits are joined by
    `fathom.all_gather`. Expert parallelism over groups of `ep` ranks: each `fathom.expert_ffn`
    keeps experts / ep whole experts (`expert_start` names the first), every rank routes every
    token with the whole router, computes only its experts' rows and all-reduces the partial
    sum. DeepSeek-VL's vision tower (the encode_image entry point) stays whole on every rank.
    Activations stay replicated, so MoE needs no all-to-all: dispatch is local and the
    combine is the all-reduce a tensor-parallel MLP needs anyway; when tp equals ep the shared
    experts' and routed experts' partial sums share one all-reduce.

    The world is max(tp, ep) ranks (the smaller must divide the larger); a rank's index in a
    group of n is rank % n. Every weight that differs between ranks is a derived param whose
    definition reads `fathom.weight_shard`, `weight_select_shard`, `weight_shard_first` or
    `shard_start`, evaluated once per rank into that rank's weight section. Configurations
    that do not divide (heads, intermediate sizes, experts, vocabulary, FP8 and INT4 blocks)
    are refused with the numbers. Runs on model-level IR after fathom-quantize.
  }];
  let options = [
    Option<"tp", "tp", "int64_t", /*default=*/"1", "tensor-parallel ranks per group">,
    Option<"ep", "ep", "int64_t", /*default=*/"1", "expert-parallel ranks per group">
  ];
  let dependentDialects = ["mlir::fathom::FathomDialect"];
  let statistics = [
    Statistic<"numCollectives", "num-collectives", "Collectives inserted">
  ];
}

def MlaAbsorptionPass : Pass<"fathom-mla-absorption", "mlir::ModuleOp"> {
  let summary = "Optimization: decode attends over a latent KV cache with W_UK and W_UV absorbed";
  let description = [{
    Rewrites every cached `fathom.mla_attention` into kernel-level ops around a latent cache
    (`fathom.cache` rows of kv_lora_rank + qk_rope_head_dim: the normalized compressed KV and
    the roped shared key; 576 values per token for DeepSeek-V3):

    - decode: the query's nope half goes through W_UK (the k_nope rows of kv_b_proj, per head,
      as the derived param `<kv_b_proj>.absorbed_k` [heads, kv_lora, nope]) into the latent
      space, attention runs as multi-query attention over the cache (one shared key and value
      head: latent | rope key, latent), and W_UV (`<kv_b_proj>.absorbed_v` [heads, v, kv_lora])
      maps each head's result back before o_proj. The softmax scale is unchanged.
    - prefill: appends its latents to the same cache, then decompresses every cached latent with
      kv_b_proj and attends in the naive form, which costs fewer multiply-adds for a prompt
      (docs/ARCHITECTURE.md) and matches HF's rounding exactly.

    Uncached attention (classifiers) is left to fathom-decompose. FP8 kv_b_proj weights are
    dequantized by the initializer before they are sliced per head.
  }];
  let dependentDialects = ["mlir::fathom::FathomDialect"];
  let statistics = [
    Statistic<"numAbsorbed", "num-absorbed", "Attention blocks rewritten to the latent cache">
  ];
}

def DecomposePass : Pass<"fathom-decompose", "mlir::ModuleOp"> {
  let summary = "Lowers the model-level blocks (MLA, multi-head attention, MoE) to kernel-level ops";
  let description = [{
    - `fathom.mla_attention`, naive (HF) form: the q projections, kv_a_proj_with_mqa split into
      the compressed KV (normalized) and the rope key, kv_b_proj, `fathom.rope` with cos/sin
      tables the initializer computes (`fathom.rope_table`), then attention. A cached layer
      appends every head's keys and values plus the roped shared key to its `fathom.cache`
      (per-head form) and attends over all cached rows; an uncached one attends to this call.
    - `fathom.multi_head_attention` (LLaMA, SigLIP): q, k and v projections split into heads,
      q and k rotated on their whole head when the op has a rope, attention over key/value head
      groups (causal or not), merge_heads and o_proj. A cached layer appends the rotated keys
      and the values of every key/value head to `layerN.kv_cache` and attends over all cached
      rows.
    - `fathom.moe_router`: the fp32 router GEMM (`fathom.linear` to f32) and `fathom.moe_route`.
    - `fathom.expert_ffn`: `fathom.moe_dispatch`, `fathom.gather_rows`, gate and up through
      `fathom.expert_linear`, `fathom.silu_mul`, down, `fathom.moe_combine` (eager order).

    Blocks an earlier pass already lowered are gone by then; everything else is left alone.
  }];
  let dependentDialects = ["mlir::fathom::FathomDialect"];
}

def ExpertGroupingPass : Pass<"fathom-expert-grouping", "mlir::ModuleOp"> {
  let summary = "Optimization: routed experts as two grouped GEMMs over stacked weights";
  let description = [{
    Rewrites what fathom-decompose writes for `fathom.expert_ffn` (gate and up through
    `fathom.expert_linear`, `fathom.silu_mul`, down through `fathom.expert_linear`, one weight
    per expert) into `fathom.grouped_gate_up` (SiLU(gate) * up fused into the GEMM) and
    `fathom.grouped_linear`, each over one stacked param: `<experts>.gate_up_proj`
    [experts, 2, inter, hidden] and `<experts>.down_proj` [experts, hidden, inter]. Where the
    checkpoint already stores the experts fused (transformers v5's `gate_up_proj` and
    `down_proj`) the stacked param is that tensor, byte for byte; otherwise the initializer
    concatenates the per-expert weights (FP8 ones with their block scales, per expert and
    matrix as the checkpoint stores them). Routing, dispatch and combine are unchanged, so the
    result is the same bits; what changes is that one call runs every chosen expert's tiles.
    Chains whose experts differ in type or quantization are left alone.
  }];
  let dependentDialects = ["mlir::fathom::FathomDialect"];
  let statistics = [
    Statistic<"numGrouped", "num-grouped", "Expert blocks rewritten to grouped GEMMs">
  ];
}

def RopeFusionPass : Pass<"fathom-rope-fusion", "mlir::ModuleOp"> {
  let summary = "Optimization: folds interleaved RoPE into weight rows and rotates inside kernels";
  let description = [{
    Two rewrites of `fathom.rope`:

    - Layout folding. A rope in the `interleaved` (V3 rope_interleave) or `complex` (V2) mode
      whose input is a window of a projection's output gets the projection's rows permuted by
      the initializer (`fathom.weight_deinterleave_rows` into the derived param
      `<weight>.rope_halves`, the bias too), so the GEMM writes rotate-half pairs and the rope
      becomes `rotate_half` (exactly HF's values) or `complex_halves`. FP8 weights keep their
      scales when every permuted row stays inside its 128-row block; otherwise the rope is left
      as it is. Complex ropes are folded all together or not at all, because their output layout
      changes and queries and keys must agree.
    - Kernel fusion. A rope whose only user is attention's query_rope is applied by the attention
      kernel as it loads the query; one whose only user is a cache_append piece is applied as
      the piece is written into the cache. No separate pass over memory remains for them.
  }];
  let dependentDialects = ["mlir::fathom::FathomDialect"];
  let statistics = [
    Statistic<"numFolded", "num-folded", "Ropes whose interleaved layout went into weight rows">,
    Statistic<"numFused", "num-fused", "Ropes applied inside attention or cache_append">
  ];
}

def ResidualNormFusionPass : Pass<"fathom-residual-norm-fusion", "mlir::ModuleOp"> {
  let summary = "Optimization: each residual add and the RMSNorm of its sum as one kernel";
  let description = [{
    Rewrites `%s = fathom.add %a, %b` and `%n = fathom.rms_norm %s` (the pre-attention and
    pre-MLP norms of every layer after the first, and the final norm) into
    `%s, %n = fathom.add_rms_norm %a, %b`, which reads the operands once, writes the sum the
    residual stream goes on with, and normalizes each row while it is in cache: one pass over
    the rows instead of three, and one kernel call instead of two. The fused op rounds where
    the two did (the sum to the element type first, then rms_norm's roundings), so the bits
    are the same. An add with several rms_norm users fuses the first; the others read the sum.
  }];
  let dependentDialects = ["mlir::fathom::FathomDialect"];
  let statistics = [
    Statistic<"numFused", "num-fused", "Residual adds fused with the RMSNorm of their sum">
  ];
}

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def DropUnusedParamsPass : Pass<"fathom-drop-unused-params", "mlir::ModuleOp"> {
  let summary = "Removes fathom.param declarations (and derived definitions) nothing reads";
  let description = [{
    Checkpoints carry tensors a compiled entry point never reads: the multi-token-prediction
    layer (model.layers.N at N = num_hidden_layers), a tied lm_head's duplicate, heads of other
    tasks; rewrites leave params behind (a projection whose rows RoPE fusion permuted). Dropping
    their declarations keeps them out of the artifact's weight table. A param stays when any
    symbol use in the module other than its own `fathom.define_param` names it, including a
    quantized param's `scale` and initializer reads; a dropped derived param takes its
    definition and the initializer ops only it used along.
  }];
  let dependentDialects = ["mlir::fathom::FathomDialect"];
  let statistics = [
    Statistic<"numDropped", "num-dropped", "Number of unused params removed">
  ];
}

//===----------------------------------------------------------------------===//
// Lowering to a target
//===----------------------------------------------------------------------===//

def LowerToKernelsPass : Pass<"fathom-lower-to-kernels", "mlir::ModuleOp"> {
  let summary = "Binds every op of the entry points to a kernel of the target";
  let description = [{
    Asks the target (compiler/targets/<name>) which kernel runs each op of every entry
    function, for its operand types and attributes, and records the answer as the op's
    `fathom.kernel` attribute ("view" for slices and head reshapes that only re-describe a
    buffer), and the target's spelling as the module's `fathom.target` ("cpu", "cuda:sm_90a";
    the option takes a bare name for its default arch). An op the target cannot run, a model-level block left undecomposed or a dtype it
    lacks is an error naming the op and the reason.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"", "the target to lower for">
  ];
  let dependentDialects = ["mlir::fathom::FathomDialect"];
}

def PlanMemoryPass : Pass<"fathom-plan-memory", "mlir::ModuleOp"> {
  let summary = "Places every intermediate value of the entry points in one activation arena";
  let description = [{
    Each value that owns a buffer (kernel results and entry inputs; not views, caches or the
    entry's result, which the runtime sizes per call) is sized for the module's max_batch and
    max_seq_len (per its rows: tokens, keys, head rows, routed copies, one per sequence), given
    a lifetime from its definition to its last use (through the views of it), and placed at the
    lowest free offset, largest first, offsets aligned as the module's `fathom.target` asks
    (64 bytes on the CPU, 256 on CUDA; 64 without one). Records `fathom.arena_offsets`
    (bytes, per result) on each op, `fathom.arena_size` on each entry function. Needs
    fathom-lower-to-kernels first.
  }];
  let dependentDialects = ["mlir::fathom::FathomDialect"];
}

#endif // FATHOM_PASSES_TD
