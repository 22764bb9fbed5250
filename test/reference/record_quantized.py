#!/usr/bin/env python3
"""Record what Hugging Face transformers computes in fp32 on weights quantized and dequantized with
Fathom's `--quantize` recipes, for checking `fathom-compile --quantize fp8|int4 --dtype fp32`.

FP8 (DeepSeek's block quantization, as `fathom-quantize` stores it): every linear weight of attention
(q_proj / q_a_proj / q_b_proj, kv_a_proj_with_mqa, kv_b_proj, o_proj; LLaMA's q/k/v/o_proj), of the dense MLPs, of the shared
experts and of each routed expert (per expert and per matrix: gate, up, down; transformers v5 stores the
experts fused as gate_up_proj [E, 2I, H] and down_proj [E, H, I]), per 128 x 128 block, edge blocks partial:
    scale = amax / 448 (1 where amax is 0),  q = (w / scale).to(float8_e4m3fn)  (round to nearest even),
    w_ref = float32(q) * scale.
INT4 (weight-only, asymmetric, the same weights), per row and group of 128 inputs (the last partial), in fp32:
    scale = (max - min) / 15 (1 where max == min),  zero = clamp(round(-min / scale), 0, 15),
    q = clamp(round(w / scale) + zero, 0, 15)  (torch.round: half to even),  w_ref = (q - zero) * scale.
Embeddings, lm_head, norms and the router gate are left alone, and so is DeepSeek-VL's vision tower and aligner
(only its LLaMA language model is quantized; its text cases are recorded). Then the fp32 model runs the cases of
record_outputs.py (forward logits at every position, 16-token greedy continuations with their step logits).

Writes outputs/<name>.<recipe>.json and outputs/<name>.<recipe>.safetensors (same schema as record_outputs.py, fp32 runs
only). tiny-v3-fused has the same weights as tiny-v3 and uses its file; tiny-v3-fp8 is FP8 already (its
fp8 build keeps its bytes, so its ordinary reference applies; its int4 build requantizes, recorded here).

Run:  OMP_NUM_THREADS=1 python3 record_quantized.py [--recipe fp8|int4] [checkpoint ...]  (both recipes by default)
"""
import os
import sys
import tempfile

import common
from common import log

torch = common.setup_torch()
from safetensors.torch import save_file  # noqa: E402

import record_outputs as ro  # noqa: E402

CHECKPOINTS = ["tiny-v3", "tiny-v2-lite", "tiny-v2-mlp-bias", "tiny-vl-gqa"]
# INT4 requantizes an FP8 checkpoint's weights (dequantized in fp32 first, as HF loads them).
EXTRA = {"int4": ["tiny-v3-fp8"]}
BLOCK = 128
GROUP = 128
ATTENTION = ("q_proj", "q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj", "k_proj", "v_proj", "o_proj")
MLP = ("gate_proj", "up_proj", "down_proj")


def fp8_roundtrip(w):
    """DeepSeek's 128 x 128 block FP8 quantization of a 2-D fp32 weight, dequantized again in fp32."""
    rows, cols = w.shape
    out = torch.empty_like(w)
    for r in range(0, rows, BLOCK):
        for c in range(0, cols, BLOCK):
            block = w[r:r + BLOCK, c:c + BLOCK]
            amax = block.abs().max()
            scale = amax / 448.0 if amax > 0 else torch.tensor(1.0, dtype=torch.float32)
            q = (block / scale).to(torch.float8_e4m3fn)
            out[r:r + BLOCK, c:c + BLOCK] = q.to(torch.float32) * scale
    return out


def int4_roundtrip(w):
    """Asymmetric INT4 per row and group of 128 inputs of a 2-D fp32 weight, dequantized again in fp32."""
    out = torch.empty_like(w)
    for c in range(0, w.shape[1], GROUP):
        group = w[:, c:c + GROUP]
        lo = group.min(dim=1, keepdim=True).values
        hi = group.max(dim=1, keepdim=True).values
        scale = torch.where(hi == lo, torch.ones_like(hi), (hi - lo) / 15.0)
        zero = torch.clamp(torch.round(-lo / scale), 0, 15)
        q = torch.clamp(torch.round(group / scale) + zero, 0, 15)
        out[:, c:c + GROUP] = (q - zero) * scale
    return out


RECIPES = {
    "fp8": (fp8_roundtrip, "fp8: per 128x128 block scale = amax/448 (1 if amax == 0), "
                           "q = (w/scale).to(float8_e4m3fn), w_ref = float32(q) * scale"),
    "int4": (int4_roundtrip, "int4: per row and 128-input group scale = (max-min)/15 (1 if max == min), "
                             "zero = clamp(round(-min/scale), 0, 15), q = clamp(round(w/scale) + zero, 0, 15), "
                             "w_ref = (q - zero) * scale"),
}


@torch.no_grad()
def quantize_model(model, roundtrip):
    count = 0
    decoder = model.model.language_model if hasattr(model.model, "language_model") else model.model
    for layer in decoder.layers:
        attn = layer.self_attn
        for name in ATTENTION:
            proj = getattr(attn, name, None)
            if proj is not None:
                proj.weight.copy_(roundtrip(proj.weight))
                count += 1
        mlp = layer.mlp
        dense = [mlp] if hasattr(mlp, "gate_proj") else []
        if hasattr(mlp, "shared_experts"):
            dense.append(mlp.shared_experts)
        for block in dense:
            for name in MLP:
                getattr(block, name).weight.copy_(roundtrip(getattr(block, name).weight))
                count += 1
        if hasattr(mlp, "experts"):
            experts = mlp.experts
            inter = experts.gate_up_proj.shape[1] // 2
            for e in range(experts.gate_up_proj.shape[0]):
                for part in (slice(0, inter), slice(inter, 2 * inter)):
                    experts.gate_up_proj[e, part].copy_(roundtrip(experts.gate_up_proj[e, part]))
                experts.down_proj[e].copy_(roundtrip(experts.down_proj[e]))
                count += 3
    return count


def record(name, recipe):
    ckpt = os.path.join(common.CKPT_DIR, name)
    cls_name = common.CHECKPOINTS[name]
    is_vl = cls_name == "DeepseekVLForConditionalGeneration"
    cases = ro.build_cases(ckpt, is_vl)
    rec = ro.Recorder()
    if name == "tiny-v3-fp8":  # dequantized manually in fp32, as record_outputs.py does
        with tempfile.TemporaryDirectory() as plain:
            ro.dequantize_fp8_checkpoint(ckpt, plain)
            model = ro.load_model(cls_name, plain, torch.float32)
    else:
        model = ro.load_model(cls_name, ckpt, torch.float32)
    roundtrip, description = RECIPES[recipe]
    quantized = quantize_model(model, roundtrip)
    runs = {}
    for c in cases:
        log(f"  {name} {recipe} {c['name']}")
        runs[c["name"]] = {"fp32": ro.run_causal(model, c, "fp32", rec, debug=False)}
    result = {
        "schema": "fathom-hf-reference/1",
        "checkpoint": name,
        "checkpoint_dir": f"checkpoints/{name}",
        "model_class": cls_name,
        "task": "causal_lm",
        "tensors_file": f"{name}.{recipe}.safetensors",
        "versions": common.versions(),
        "weights": {
            "quantization": description + "; attention, dense MLP, shared and routed expert (per expert and "
                                          "matrix) linear weights",
            "quantized_matrices": quantized,
        },
        "settings": {"device": "cpu", "torch_threads": 1, "attn_implementation": "eager",
                     "experts_implementation": "eager", "dtypes": {"fp32": "torch.float32"},
                     "generate": {"do_sample": False, "max_new_tokens": ro.MAX_NEW_TOKENS, "output_logits": True}},
        "cases": [dict(ro.public_case(c), runs=runs[c["name"]]) for c in cases],
    }
    return result, rec


def main():
    args = sys.argv[1:]
    recipes = list(RECIPES)
    if len(args) >= 2 and args[0] == "--recipe":
        recipes, args = [args[1]], args[2:]
        if recipes[0] not in RECIPES:
            sys.exit(f"record_quantized.py: unknown recipe {recipes[0]} (known: {', '.join(RECIPES)})")
    for recipe in recipes:
        for name in args or CHECKPOINTS + EXTRA.get(recipe, []):
            log(f"recording {name} ({recipe})")
            result, rec = record(name, recipe)
            save_file(dict(sorted(rec.tensors.items())),
                      os.path.join(common.OUT_DIR, f"{name}.{recipe}.safetensors"), metadata={"format": "pt"})
            common.dump_json(os.path.join(common.OUT_DIR, f"{name}.{recipe}.json"), result)


if __name__ == "__main__":
    main()
