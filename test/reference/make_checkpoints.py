#!/usr/bin/env python3
"""Create the tiny random Hugging Face checkpoints under test/reference/checkpoints/.

Every checkpoint is written the way the Hugging Face side writes it:
  - tiny-v3, tiny-v3-seqcls, tiny-v3-tokcls, tiny-v2-lite, tiny-vl: `save_pretrained` (transformers 5.23),
    weights in bfloat16 (e_score_correction_bias stays float32, as transformers keeps it), so the fp32 and the
    bf16 reference runs see the same weight values;
  - tiny-v3-fused: tiny-v3 converted by this script to the fused expert layout transformers uses in memory
    (mlp.experts.gate_up_proj [E, 2*I, H] and mlp.experts.down_proj [E, H, I]); everything else identical;
  - tiny-v3-fp8: written by this script in the layout DeepSeek publishes (FP8 E4M3 block-quantized weights with
    float32 `weight_scale_inv`, per-expert tensor names, 3 shards + model.safetensors.index.json, an MTP layer
    model.layers.{num_hidden_layers}.*, a hub-style config.json with rope_scaling and quantization_config).
Plus the tokenizer (tokenizer.json, tokenizer_config.json from test/reference/tokenizer/) in each folder, and for
tiny-vl the processor files written by DeepseekVLProcessor.save_pretrained.

Weights are drawn from one torch.Generator per checkpoint (common.SEED + offset), CPU, single thread.
Run:  OMP_NUM_THREADS=1 python3 make_checkpoints.py      (after make_tokenizer.py)
"""
import json
import os
import shutil
import tempfile

import common
from common import BOS, EOS, IMAGE, IMAGE_ID, PAD_ID, SEED, log

torch = common.setup_torch()
import numpy as np  # noqa: E402
from safetensors import safe_open  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from torch import nn  # noqa: E402
from transformers import (  # noqa: E402
    DeepseekV2Config,
    DeepseekV2ForCausalLM,
    DeepseekV3Config,
    DeepseekV3ForCausalLM,
    DeepseekV3ForSequenceClassification,
    DeepseekV3ForTokenClassification,
    DeepseekVLConfig,
    DeepseekVLForConditionalGeneration,
    DeepseekVLProcessor,
    GenerationConfig,
    LlamaConfig,
    PreTrainedTokenizerFast,
    SiglipVisionConfig,
)
from transformers.models.deepseek_vl.image_processing_pil_deepseek_vl import DeepseekVLImageProcessorPil  # noqa: E402

FP8_BLOCK = 128
FP8_MAX = 448.0
E_BIAS_RANGE = 0.3  # e_score_correction_bias ~ U(-0.3, 0.3): sigmoid scores spread about as much
NORM_RANGE = 0.25  # norm weights ~ 1 + U(-0.25, 0.25)


def generator(name):
    return torch.Generator().manual_seed(SEED + common.CHECKPOINT_SEED_OFFSET[name])


def _normal(g, shape, std):
    return torch.randn(shape, generator=g, dtype=torch.float32) * std


def _uniform(g, shape, lo, hi):
    return torch.rand(shape, generator=g, dtype=torch.float32) * (hi - lo) + lo


@torch.no_grad()
def randomize_(model, g):
    """Overwrite every parameter (and the router bias buffer) with scale-aware random values.

    Linear/conv weights ~ N(0, 1/fan_in) so activations stay O(1) and every sub-block visibly changes the
    logits; embeddings ~ N(0, 1); norm weights ~ 1 + U(-.25, .25) (never all-ones); biases ~ N(0, 0.1);
    DeepSeek-V3 e_score_correction_bias ~ U(-0.3, 0.3) (changes routing for many tokens).
    """
    done = set()
    for mname, mod in model.named_modules():
        cls = type(mod).__name__
        pre = mname + "." if mname else ""
        if isinstance(mod, nn.Embedding):
            mod.weight.copy_(_normal(g, mod.weight.shape, 1.0))
            done.add(pre + "weight")
        elif isinstance(mod, nn.Linear):
            mod.weight.copy_(_normal(g, mod.weight.shape, mod.in_features**-0.5))
            done.add(pre + "weight")
            if mod.bias is not None:
                mod.bias.copy_(_normal(g, mod.bias.shape, 0.1))
                done.add(pre + "bias")
        elif isinstance(mod, nn.Conv2d):
            fan_in = mod.weight[0].numel()
            mod.weight.copy_(_normal(g, mod.weight.shape, fan_in**-0.5))
            mod.bias.copy_(_normal(g, mod.bias.shape, 0.1))
            done.update([pre + "weight", pre + "bias"])
        elif isinstance(mod, nn.LayerNorm):
            mod.weight.copy_(_uniform(g, mod.weight.shape, 1 - NORM_RANGE, 1 + NORM_RANGE))
            mod.bias.copy_(_normal(g, mod.bias.shape, 0.1))
            done.update([pre + "weight", pre + "bias"])
        elif cls.endswith("RMSNorm"):
            mod.weight.copy_(_uniform(g, mod.weight.shape, 1 - NORM_RANGE, 1 + NORM_RANGE))
            done.add(pre + "weight")
        elif cls.endswith("Experts"):
            e, two_i, h = mod.gate_up_proj.shape
            mod.gate_up_proj.copy_(_normal(g, mod.gate_up_proj.shape, h**-0.5))
            mod.down_proj.copy_(_normal(g, mod.down_proj.shape, (two_i // 2) ** -0.5))
            done.update([pre + "gate_up_proj", pre + "down_proj"])
        elif cls.endswith("TopkRouter"):
            mod.weight.copy_(_normal(g, mod.weight.shape, mod.weight.shape[1] ** -0.5))
            done.add(pre + "weight")
            if hasattr(mod, "e_score_correction_bias"):
                b = mod.e_score_correction_bias
                b.copy_(_uniform(g, b.shape, -E_BIAS_RANGE, E_BIAS_RANGE))
    missing = [n for n, _ in model.named_parameters() if n not in done]
    if missing:
        raise SystemExit(f"randomize_: parameters not covered: {missing}")


def fresh_dir(name):
    d = os.path.join(common.CKPT_DIR, name)
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    return d


def copy_tokenizer(d):
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(os.path.join(common.TOKENIZER_DIR, f), os.path.join(d, f))


def save_bf16(model, name):
    """save_pretrained in bfloat16 exactly as transformers does it: save the fp32 model, reload it with
    dtype=torch.bfloat16 (transformers keeps `_keep_in_fp32_modules_strict` tensors, i.e. the V3 router bias,
    in float32) and save_pretrained again."""
    d = fresh_dir(name)
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        m2 = type(model).from_pretrained(tmp, dtype=torch.bfloat16)
        m2.save_pretrained(d)
    return d


# ----------------------------------------------------------------------------------------------------------
# configs

YARN_V3 = {
    "type": "yarn",
    "factor": 4.0,
    "original_max_position_embeddings": 64,
    "beta_fast": 32,
    "beta_slow": 1,
    "mscale": 1.0,
    "mscale_all_dim": 0.8,
}


def tiny_v3_config(**over):
    kw = dict(
        vocab_size=common.VOCAB,
        hidden_size=64,
        intermediate_size=128,
        moe_intermediate_size=32,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=4,
        q_lora_rank=32,
        kv_lora_rank=32,
        qk_nope_head_dim=16,
        qk_rope_head_dim=8,
        v_head_dim=16,
        n_routed_experts=16,
        num_experts_per_tok=4,
        n_group=4,
        topk_group=2,
        n_shared_experts=1,
        first_k_dense_replace=1,
        norm_topk_prob=True,
        routed_scaling_factor=2.5,
        hidden_act="silu",
        rms_norm_eps=1e-6,
        max_position_embeddings=256,
        rope_theta=10000.0,
        rope_scaling=dict(YARN_V3),
        rope_interleave=True,
        tie_word_embeddings=False,
        attention_bias=False,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=None,
    )
    kw.update(over)
    return DeepseekV3Config(**kw)


# FP8 checkpoint: dims that are not multiples of 128, several with 2-3 blocks per direction.
FP8_DIMS = dict(
    vocab_size=common.VOCAB,
    hidden_size=160,
    intermediate_size=272,
    moe_intermediate_size=136,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=4,
    q_lora_rank=136,
    kv_lora_rank=144,
    qk_nope_head_dim=32,
    qk_rope_head_dim=16,
    v_head_dim=32,
    n_routed_experts=8,
    num_experts_per_tok=2,
    n_group=2,
    topk_group=1,
    n_shared_experts=1,
    first_k_dense_replace=1,
    norm_topk_prob=True,
    routed_scaling_factor=2.5,
    max_position_embeddings=256,
)
FP8_ROPE_SCALING = {
    "beta_fast": 32,
    "beta_slow": 1,
    "factor": 4,
    "mscale": 1.0,
    "mscale_all_dim": 1.0,
    "original_max_position_embeddings": 64,
    "type": "yarn",
}
FP8_QUANT_CONFIG = {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8", "weight_block_size": [128, 128]}


def fp8_hub_config():
    """config.json in the DeepSeek hub style (the keys of deepseek-ai/DeepSeek-V3's config.json, minus auto_map
    and transformers_version): rope_scaling + rope_theta rather than v5's rope_parameters."""
    c = dict(FP8_DIMS)
    c.update(
        architectures=["DeepseekV3ForCausalLM"],
        attention_bias=False,
        attention_dropout=0.0,
        bos_token_id=0,
        eos_token_id=1,
        ep_size=1,
        hidden_act="silu",
        initializer_range=0.02,
        model_type="deepseek_v3",
        moe_layer_freq=1,
        num_nextn_predict_layers=1,
        pretraining_tp=1,
        quantization_config=FP8_QUANT_CONFIG,
        rms_norm_eps=1e-06,
        rope_scaling=FP8_ROPE_SCALING,
        rope_theta=10000,
        scoring_func="sigmoid",
        tie_word_embeddings=False,
        topk_method="noaux_tc",
        torch_dtype="bfloat16",
        use_cache=True,
    )
    return dict(sorted(c.items()))


def tiny_v2_lite_config():
    return DeepseekV2Config(
        vocab_size=common.VOCAB,
        hidden_size=64,
        intermediate_size=128,
        moe_intermediate_size=32,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=4,
        q_lora_rank=None,
        kv_lora_rank=32,
        qk_nope_head_dim=16,
        qk_rope_head_dim=8,
        v_head_dim=16,
        n_routed_experts=16,
        num_experts_per_tok=3,
        n_shared_experts=2,
        n_group=1,
        topk_group=1,
        topk_method="greedy",
        norm_topk_prob=False,
        routed_scaling_factor=1.0,
        first_k_dense_replace=1,
        hidden_act="silu",
        rms_norm_eps=1e-6,
        max_position_embeddings=256,
        rope_theta=10000.0,
        rope_scaling={
            "type": "yarn",
            "factor": 4.0,
            "original_max_position_embeddings": 64,
            "beta_fast": 32,
            "beta_slow": 1,
            "mscale": 0.707,
            "mscale_all_dim": 0.707,
        },
        tie_word_embeddings=False,
        bos_token_id=0,
        eos_token_id=1,
    )


def tiny_v2_mlp_bias_config():
    """DeepSeek-V2 (not Lite): a q LoRA, group-limited greedy routing, and mlp_bias (biases on the dense MLP
    and the shared experts). norm_topk_prob is set but HF's V2 router never renormalizes."""
    c = tiny_v2_lite_config()
    c.q_lora_rank = 24
    c.mlp_bias = True
    c.topk_method = "group_limited_greedy"
    c.n_group = 4
    c.topk_group = 2
    c.norm_topk_prob = True
    c.routed_scaling_factor = 1.5
    return c


def tiny_vl_config():
    vision = SiglipVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_channels=3,
        image_size=32,
        patch_size=8,
        hidden_act="gelu",
        layer_norm_eps=1e-6,
        attention_dropout=0.0,
        vision_use_head=False,
    )
    text = LlamaConfig(
        vocab_size=common.VOCAB,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        head_dim=16,
        hidden_act="silu",
        max_position_embeddings=256,
        rms_norm_eps=1e-6,
        rope_theta=10000.0,
        tie_word_embeddings=False,
        attention_bias=False,
        mlp_bias=False,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=PAD_ID,
    )
    return DeepseekVLConfig(text_config=text, vision_config=vision, image_token_id=IMAGE_ID, tie_word_embeddings=False)


def tiny_vl_gqa_config():
    """tiny-vl with the options real LLaMA/SigLIP configs use that tiny-vl does not: GQA (2 key/value heads for
    4 query heads), Llama 3.1's rope (factor 4, low/high freq factor 1/4, original context 64: the 8 frequencies
    of head_dim 16 fall in all three bands) and the SigLIP default gelu_pytorch_tanh."""
    c = tiny_vl_config()
    c.vision_config.hidden_act = "gelu_pytorch_tanh"
    c.text_config.num_key_value_heads = 2
    c.text_config.rope_parameters = {"rope_type": "llama3", "rope_theta": 10000.0, "factor": 4.0,
                                     "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                     "original_max_position_embeddings": 64}
    return DeepseekVLConfig(text_config=c.text_config, vision_config=c.vision_config, image_token_id=IMAGE_ID,
                            tie_word_embeddings=False)


# ----------------------------------------------------------------------------------------------------------
# expert layout conversion and FP8


def fused_to_per_expert(sd):
    """In-memory (fused) expert tensors -> hub per-expert names. gate_up_proj[e] = cat(gate_e, up_e) on dim 0."""
    out = {}
    for k, v in sd.items():
        if k.endswith("mlp.experts.gate_up_proj"):
            pre = k[: -len("gate_up_proj")]
            inter = v.shape[1] // 2
            for e in range(v.shape[0]):
                out[f"{pre}{e}.gate_proj.weight"] = v[e, :inter].clone()
                out[f"{pre}{e}.up_proj.weight"] = v[e, inter:].clone()
        elif k.endswith("mlp.experts.down_proj"):
            pre = k[: -len("down_proj")]
            for e in range(v.shape[0]):
                out[f"{pre}{e}.down_proj.weight"] = v[e].clone()
        else:
            out[k] = v
    return out


def per_expert_to_fused(sd):
    """Hub per-expert names -> fused mlp.experts.gate_up_proj / down_proj (stacked in expert order)."""
    import re

    pat = re.compile(r"^(.*\.mlp\.experts)\.(\d+)\.(gate_proj|up_proj|down_proj)\.weight$")
    groups, out = {}, {}
    for k, v in sd.items():
        m = pat.match(k)
        if m:
            groups.setdefault(m.group(1), {})[(int(m.group(2)), m.group(3))] = v
        else:
            out[k] = v
    for pre, t in groups.items():
        n = 1 + max(e for e, _ in t)
        out[pre + ".gate_up_proj"] = torch.stack([torch.cat([t[(e, "gate_proj")], t[(e, "up_proj")]], 0) for e in range(n)])
        out[pre + ".down_proj"] = torch.stack([t[(e, "down_proj")] for e in range(n)])
    return out


def fp8_quantize(w):
    """Per 128x128 block (edge blocks partial): scale = amax/448 (fp32), q = (w/scale) -> float8_e4m3fn (RNE).
    Returns (q [M,N] float8_e4m3fn, scale_inv [ceil(M/128), ceil(N/128)] float32); dequant = float(q) * scale_inv."""
    w = w.to(torch.float32)
    m, n = w.shape
    bm, bn = -(-m // FP8_BLOCK), -(-n // FP8_BLOCK)
    q = torch.empty((m, n), dtype=torch.float8_e4m3fn)
    s = torch.empty((bm, bn), dtype=torch.float32)
    for i in range(bm):
        for j in range(bn):
            blk = w[i * FP8_BLOCK : (i + 1) * FP8_BLOCK, j * FP8_BLOCK : (j + 1) * FP8_BLOCK]
            scale = blk.abs().max() / FP8_MAX
            s[i, j] = scale
            q[i * FP8_BLOCK : (i + 1) * FP8_BLOCK, j * FP8_BLOCK : (j + 1) * FP8_BLOCK] = (blk / scale).to(
                torch.float8_e4m3fn
            )
    return q, s


def is_fp8_quantized(name):
    """Which hub tensors DeepSeek stores as FP8: every linear weight in self_attn and mlp (dense, experts,
    shared experts); not embeddings, lm_head, norms, the router (mlp.gate.*), or the MTP eh_proj/shared_head."""
    if not name.endswith(".weight"):
        return False
    if ".self_attn." in name:
        return name.split(".")[-2] in ("q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj", "q_proj")
    if ".mlp." in name:
        return name.split(".")[-2] in ("gate_proj", "up_proj", "down_proj")
    return False


# ----------------------------------------------------------------------------------------------------------
# checkpoints


def make_tiny_v3():
    name = "tiny-v3"
    torch.manual_seed(SEED)  # only for transformers' own init, which randomize_ then overwrites completely
    model = DeepseekV3ForCausalLM(tiny_v3_config())
    randomize_(model, generator(name))
    d = save_bf16(model, name)
    copy_tokenizer(d)
    log(f"{name}: written")
    return d


def expert_layout_written(d):
    with safe_open(os.path.join(d, "model.safetensors"), "pt") as f:
        keys = list(f.keys())
    if any(k.endswith("mlp.experts.gate_up_proj") for k in keys):
        return "fused"
    if any(".mlp.experts.0.gate_proj.weight" in k for k in keys):
        return "per-expert"
    raise SystemExit("unknown expert layout")


def make_tiny_v3_other_layout(src):
    layout = expert_layout_written(src)
    other = "tiny-v3-fused" if layout == "per-expert" else "tiny-v3-per-expert"
    assert other == "tiny-v3-fused", "transformers 5.23 is expected to write the per-expert layout"
    with safe_open(os.path.join(src, "model.safetensors"), "pt") as f:
        meta = f.metadata()
        sd = {k: f.get_tensor(k) for k in f.keys()}
    conv = per_expert_to_fused(sd)
    d = fresh_dir(other)
    save_file({k: v.contiguous() for k, v in sorted(conv.items())}, os.path.join(d, "model.safetensors"), metadata=meta)
    for f in ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(os.path.join(src, f), os.path.join(d, f))
    # transformers must load both layouts to the very same in-memory weights, with no missing/unexpected keys.
    a, ia = DeepseekV3ForCausalLM.from_pretrained(src, output_loading_info=True)
    b, ib = DeepseekV3ForCausalLM.from_pretrained(d, output_loading_info=True)
    assert not any(ia.values()) and not any(ib.values()), (ia, ib)
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa), "layouts load differently"
    log(f"{other}: written (save_pretrained wrote the {layout} layout); both load to identical weights")
    return d, layout


def make_classifier(kind, src):
    name = f"tiny-v3-{kind}"
    if kind == "seqcls":
        cls = DeepseekV3ForSequenceClassification
        id2label = {0: "negative", 1: "neutral", 2: "positive"}
    else:
        cls = DeepseekV3ForTokenClassification
        id2label = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}
    label2id = {v: k for k, v in id2label.items()}
    # tiny-v3's (bf16) backbone, loaded in fp32; the new `score` head is then drawn from our generator.
    model = cls.from_pretrained(
        src, dtype=torch.float32, num_labels=len(id2label), id2label=id2label, label2id=label2id, pad_token_id=PAD_ID
    )
    g = generator(name)
    with torch.no_grad():
        model.score.weight.copy_(_normal(g, model.score.weight.shape, model.score.in_features**-0.5))
        if model.score.bias is not None:
            model.score.bias.copy_(_normal(g, model.score.bias.shape, 0.1))
    d = save_bf16(model, name)
    copy_tokenizer(d)
    log(f"{name}: written")
    return d


def make_tiny_v2_lite():
    name = "tiny-v2-lite"
    torch.manual_seed(SEED)
    model = DeepseekV2ForCausalLM(tiny_v2_lite_config())
    randomize_(model, generator(name))
    d = save_bf16(model, name)
    copy_tokenizer(d)
    log(f"{name}: written")
    return d


def make_tiny_v2_mlp_bias():
    name = "tiny-v2-mlp-bias"
    torch.manual_seed(SEED)
    model = DeepseekV2ForCausalLM(tiny_v2_mlp_bias_config())
    randomize_(model, generator(name))
    d = save_bf16(model, name)
    copy_tokenizer(d)
    log(f"{name}: written")
    return d


def make_test_image():
    """A deterministic 45x30 RGB PNG (landscape, so the processor resizes to 32x21 and pads top/bottom):
    smooth gradients, a disc, stripes and mild noise."""
    from PIL import Image

    os.makedirs(common.IMAGE_DIR, exist_ok=True)
    h, w = 30, 45
    rng = np.random.default_rng(SEED)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / (w - 1)
    g = 255 * y / (h - 1)
    b = 128 + 100 * np.sin(x / 3.0) * np.cos(y / 4.0)
    disc = (x - 30) ** 2 + (y - 12) ** 2 < 8**2
    r[disc], g[disc], b[disc] = 250, 40, 30
    stripes = (x.astype(int) // 3) % 2 == 0
    b[(y > 22) & stripes] = 10
    img = np.stack([r, g, b], -1) + rng.normal(0, 6, (h, w, 3))
    img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    Image.fromarray(img, "RGB").save(common.IMAGE_PATH, format="PNG", optimize=False, compress_level=9)
    return common.IMAGE_PATH


def vl_processor():
    tok = PreTrainedTokenizerFast(
        tokenizer_file=os.path.join(common.TOKENIZER_DIR, "tokenizer.json"),
        bos_token=BOS,
        eos_token=EOS,
        pad_token=EOS,
        extra_special_tokens={"image_token": IMAGE},
        add_bos_token=True,
        add_eos_token=False,
        padding_side="left",
        clean_up_tokenization_spaces=False,
        model_max_length=256,
    )
    ip = DeepseekVLImageProcessorPil(
        size={"height": 32, "width": 32}, image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5], min_size=14
    )
    return DeepseekVLProcessor(image_processor=ip, tokenizer=tok, chat_template=common.DEEPSEEK_VL_CHAT_TEMPLATE,
                               num_image_tokens=16)


def make_tiny_vl(name="tiny-vl", config=tiny_vl_config):
    torch.manual_seed(SEED)
    model = DeepseekVLForConditionalGeneration(config())
    randomize_(model, generator(name))
    d = save_bf16(model, name)
    vl_processor().save_pretrained(d)
    make_test_image()
    log(f"{name}: written")
    return d


def make_tiny_v3_fp8():
    name = "tiny-v3-fp8"
    g = generator(name)
    n_layers = FP8_DIMS["num_hidden_layers"]
    # Draw n_layers + 1 decoder layers; the last one becomes the MTP layer's decoder block.
    cfg = DeepseekV3Config(**{**FP8_DIMS, "num_hidden_layers": n_layers + 1}, rope_scaling=dict(FP8_ROPE_SCALING),
                           tie_word_embeddings=False, bos_token_id=0, eos_token_id=1)
    torch.manual_seed(SEED)
    model = DeepseekV3ForCausalLM(cfg)
    randomize_(model, g)
    sd = fused_to_per_expert({k: v.detach().clone() for k, v in model.state_dict().items()})
    hdim = FP8_DIMS["hidden_size"]
    mtp = f"model.layers.{n_layers}."
    # MTP extras, named as in deepseek-ai/DeepSeek-V3 (README_WEIGHTS.md).
    sd[mtp + "embed_tokens.weight"] = sd["model.embed_tokens.weight"].clone()
    sd[mtp + "enorm.weight"] = _uniform(g, (hdim,), 1 - NORM_RANGE, 1 + NORM_RANGE)
    sd[mtp + "hnorm.weight"] = _uniform(g, (hdim,), 1 - NORM_RANGE, 1 + NORM_RANGE)
    sd[mtp + "eh_proj.weight"] = _normal(g, (hdim, 2 * hdim), (2 * hdim) ** -0.5)
    sd[mtp + "shared_head.norm.weight"] = _uniform(g, (hdim,), 1 - NORM_RANGE, 1 + NORM_RANGE)
    sd[mtp + "shared_head.head.weight"] = sd["lm_head.weight"].clone()

    tensors = {}
    for k in sorted(sd):
        v = sd[k]
        if is_fp8_quantized(k):
            q, s = fp8_quantize(v)
            tensors[k] = q
            tensors[k + "_scale_inv"] = s
        elif k.endswith("e_score_correction_bias"):
            tensors[k] = v.to(torch.float32)
        else:
            tensors[k] = v.to(torch.bfloat16)

    def shard_of(k):
        if k.startswith("model.layers.0.") or k == "model.embed_tokens.weight":
            return 1
        if k.startswith(mtp):
            return 3
        return 2  # model.layers.1.*, model.norm.weight, lm_head.weight

    d = fresh_dir(name)
    n_shards = 3
    weight_map, total = {}, 0
    for i in range(1, n_shards + 1):
        fname = f"model-{i:05d}-of-{n_shards:05d}.safetensors"
        part = {k: v.contiguous() for k, v in tensors.items() if shard_of(k) == i}
        save_file(part, os.path.join(d, fname), metadata={"format": "pt"})
        for k, v in part.items():
            weight_map[k] = fname
            total += v.numel() * v.element_size()
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(fp8_hub_config(), f, indent=2)
        f.write("\n")
    GenerationConfig(bos_token_id=0, eos_token_id=1).save_pretrained(d)
    copy_tokenizer(d)
    log(f"{name}: written ({len(tensors)} tensors, {n_shards} shards)")
    return d


def main():
    os.makedirs(common.CKPT_DIR, exist_ok=True)
    src = make_tiny_v3()
    _, layout = make_tiny_v3_other_layout(src)
    make_classifier("seqcls", src)
    make_classifier("tokcls", src)
    make_tiny_v3_fp8()
    make_tiny_v2_lite()
    make_tiny_v2_mlp_bias()
    make_tiny_vl()
    make_tiny_vl("tiny-vl-gqa", tiny_vl_gqa_config)
    common.dump_json(os.path.join(common.CKPT_DIR, "layout.json"), {"save_pretrained_expert_layout": layout})


if __name__ == "__main__":
    main()
