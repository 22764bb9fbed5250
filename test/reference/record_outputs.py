#!/usr/bin/env python3
"""Record what Hugging Face transformers computes for the tiny checkpoints.

For each checkpoint under checkpoints/ and each dtype (fp32, bf16), the model is loaded with
`from_pretrained(dir, dtype=..., attn_implementation="eager", experts_implementation="eager")` on CPU (one
thread) and run on a fixed set of prompts:
  - forward logits at every position (model(input_ids, attention_mask, position_ids));
  - 16-token greedy continuations via model.generate(do_sample=False, max_new_tokens=16) with its KV cache,
    plus the per-step logits generate saw;
  - for the classification heads: the classification logits instead of continuations;
  - debugging intermediates for one prompt ("gen1_1"): hidden states after every layer, and for MoE layers the
    router's logits / selected experts / routing weights.
Writes outputs/<name>.json (cases, ids, tensor names, versions, config summary) and outputs/<name>.safetensors.
See README.md for the exact schema.

Run:  OMP_NUM_THREADS=1 python3 record_outputs.py [checkpoint ...]
"""
import json
import os
import sys
import tempfile

import common
from common import BOS_ID, EOS_ID, PAD_ID, SEED, log

torch = common.setup_torch()
from safetensors import safe_open  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoProcessor  # noqa: E402

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
ST_DTYPE = {torch.float32: "F32", torch.bfloat16: "BF16", torch.int64: "I64"}
MAX_NEW_TOKENS = 16
# The per-step logits of generate() are ~1.4 MB of the ~4.5 MB of outputs; set False to drop them
# (the "generate" objects then have no "logits" entry).
STORE_GENERATE_LOGITS = True

# Real text (King James Bible, public domain) used for the prompts.
GEN_1_1 = "In the beginning God created the heaven and the earth."
GEN_1_1_5 = (
    "In the beginning God created the heaven and the earth. And the earth was without form, and void; and darkness "
    "was upon the face of the deep. And the Spirit of God moved upon the face of the waters. And God said, Let there "
    "be light: and there was light. And God saw the light, that it was good: and God divided the light from the "
    "darkness. And God called the light Day, and the darkness he called Night. And the evening and the morning were "
    "the first day."
)
BATCH_TEXTS = [
    "And God said, Let there be light.",
    "Jesus wept.",
    "The LORD is my shepherd; I shall not want.",
]
CHAT_MESSAGES = [{"role": "user", "content": "Who created the heaven and the earth?"}]
VL_IMAGE_MESSAGES = [
    {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe this image."}]},
]
# A second image for the multi-image cases (RGBA: its alpha is dropped by convert("RGB")).
VL_SECOND_IMAGE = "images/astronaut-200x160-rgba.png"
VL_TWO_IMAGE_MESSAGES = [
    {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Compare this picture"},
                                 {"type": "image"}, {"type": "text", "text": "with this one."}]},
]
VL_SECOND_CONVERSATION = [
    {"role": "user", "content": [{"type": "text", "text": "Who made the heaven?"}]},
    {"role": "assistant", "content": [{"type": "text", "text": "God."}]},
    {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "And this?"}]},
]
LONG_LEN = 80


# ----------------------------------------------------------------------------------------------------------
# prompts


def build_cases(ckpt_dir, is_vl=False):
    tok = Tokenizer.from_file(os.path.join(ckpt_dir, "tokenizer.json"))

    def enc(text):
        return tok.encode(text, add_special_tokens=False).ids

    if is_vl:
        # The VL tokenizer.json (written by the processor's save_pretrained) has a TemplateProcessing
        # post-processor that prepends BOS; encode without it and add BOS explicitly like for the others.
        assert tok.encode("a", add_special_tokens=True).ids[0] == BOS_ID
    g = torch.Generator().manual_seed(SEED + common.CHECKPOINT_SEED_OFFSET["cases"])
    rand5 = torch.randint(3, 509, (5,), generator=g).tolist()
    cases = []

    def single(name, ids, description, text=None):
        cases.append({"name": name, "description": description, "text": text, "input_ids": [ids],
                      "attention_mask": [[1] * len(ids)], "position_ids": None})

    single("bos_only", [BOS_ID], "just BOS (1 token)")
    single("random5", rand5, "5 random non-special ids, no BOS (generator seed SEED+100)")
    single("gen1_1", [BOS_ID] + enc(GEN_1_1), "BOS + Genesis 1:1 through the tokenizer", GEN_1_1)
    if not is_vl:
        tcfg = json.load(open(os.path.join(ckpt_dir, "tokenizer_config.json"), encoding="utf-8"))
        from transformers.utils.chat_template_utils import render_jinja_template

        rendered, _ = render_jinja_template(conversations=[CHAT_MESSAGES], chat_template=tcfg["chat_template"],
                                            add_generation_prompt=True, bos_token=common.BOS, eos_token=common.EOS,
                                            pad_token=common.EOS)
        text = rendered[0]
        ids = enc(text)  # the template emits BOS itself; encode with add_special_tokens=False
        assert ids[0] == BOS_ID and ids[-1] == common.ASSISTANT_ID
        single("chat", ids, "V3 chat template (user turn + generation prompt), rendered like transformers, "
                            "encoded with add_special_tokens=False", text)
    long_ids = ([BOS_ID] + enc(GEN_1_1_5))[:LONG_LEN]
    assert len(long_ids) == LONG_LEN
    single("long80", long_ids, f"BOS + Genesis 1:1-5, truncated to {LONG_LEN} ids (positions past "
                               "original_max_position_embeddings=64)", GEN_1_1_5)

    rows = [[BOS_ID] + enc(t) for t in BATCH_TEXTS]
    width = max(len(r) for r in rows)
    ids = [[PAD_ID] * (width - len(r)) + r for r in rows]
    mask = [[0] * (width - len(r)) + [1] * len(r) for r in rows]
    # What transformers 5.23 generate() uses: cumsum(mask) - 1, padded slots set to 0.
    pos = [[(sum(m[: i + 1]) - 1) if m[i] else 0 for i in range(width)] for m in mask]
    cases.append({"name": "batch3", "description": "3 prompts, LEFT-padded with the pad token (id 1, = EOS as in "
                  "V3's tokenizer_config), attention_mask, position_ids = cumsum(mask)-1 with padded slots 0",
                  "text": BATCH_TEXTS, "input_ids": ids, "attention_mask": mask, "position_ids": pos})
    return cases


def ends_in_pad_case(ckpt_dir):
    """Sequence classification pools the last token whose id is not the pad id, whatever the attention
    mask says (GenericForSequenceClassification): rows that end in the pad id (1, = EOS) as real, attended
    tokens, and a row of nothing but the pad id (pooled at position 0)."""
    tok = Tokenizer.from_file(os.path.join(ckpt_dir, "tokenizer.json"))
    ends = [BOS_ID] + tok.encode("Jesus wept.", add_special_tokens=False).ids + [PAD_ID, PAD_ID]
    width = len(ends)
    plain = ([BOS_ID] + tok.encode(BATCH_TEXTS[2], add_special_tokens=False).ids)[:width]
    ids = [ends, plain, [PAD_ID] * width]
    return {"name": "ends_in_pad", "description": "3 rows, all attended: one ending in two pad ids, one without "
            "pad, one of pad ids only; positions 0..L-1", "text": None, "input_ids": ids,
            "attention_mask": [[1] * width for _ in ids], "position_ids": None}


def vl_image_case(ckpt_dir):
    from PIL import Image

    proc = AutoProcessor.from_pretrained(ckpt_dir, backend="pil")
    ip_cls = type(proc.image_processor).__name__
    assert ip_cls == "DeepseekVLImageProcessorPil", ip_cls
    prompt = proc.apply_chat_template(VL_IMAGE_MESSAGES, add_generation_prompt=True, tokenize=False)
    image = Image.open(common.IMAGE_PATH)
    enc = proc(text=prompt, images=[image], return_tensors="pt")
    ids = enc["input_ids"].tolist()
    assert ids[0][0] == BOS_ID and ids[0].count(common.IMAGE_ID) == 16
    return {
        "name": "image",
        "description": "DeepSeek-VL chat template with one image (images/test-45x30.png) through "
                       "AutoProcessor (PIL backend): BOS added by the tokenizer, <image_placeholder> expanded to 16 ids",
        "text": prompt,
        "messages": VL_IMAGE_MESSAGES,
        "image": "images/test-45x30.png",
        "image_processor_class": ip_cls,
        "input_ids": ids,
        "attention_mask": enc["attention_mask"].tolist(),
        "position_ids": None,
        "pixel_values_tensor": enc["pixel_values"],
    }


def vl_multi_image_cases(ckpt_dir):
    """Two images in one prompt, and a left-padded batch of two conversations (the second with its
    image in a later turn). Pixel values hold every image of the case in prompt order; positions
    are cumsum(mask) - 1 with padded slots 0, as generate() computes them."""
    from PIL import Image

    proc = AutoProcessor.from_pretrained(ckpt_dir, backend="pil")
    first = Image.open(common.IMAGE_PATH)
    # tiny-vl's processor leaves do_convert_rgb unset, and HF's PIL backend then fails to pad an
    # RGBA image; convert("RGB") (alpha dropped) is what DeepSeek-VL's own loader does.
    second = Image.open(os.path.join(common.HERE, VL_SECOND_IMAGE)).convert("RGB")
    cases = []
    prompt = proc.apply_chat_template(VL_TWO_IMAGE_MESSAGES, add_generation_prompt=True, tokenize=False)
    enc = proc(text=prompt, images=[first, second], return_tensors="pt")
    assert enc["input_ids"][0].tolist().count(common.IMAGE_ID) == 32
    cases.append({
        "name": "two_images",
        "description": "one user turn with two images (images/test-45x30.png, then " + VL_SECOND_IMAGE +
                       ") through AutoProcessor (PIL backend)",
        "text": prompt, "messages": VL_TWO_IMAGE_MESSAGES,
        "images": ["images/test-45x30.png", VL_SECOND_IMAGE],
        "input_ids": enc["input_ids"].tolist(), "attention_mask": enc["attention_mask"].tolist(),
        "position_ids": None, "pixel_values_tensor": enc["pixel_values"],
    })
    prompts = [proc.apply_chat_template(m, add_generation_prompt=True, tokenize=False)
               for m in (VL_IMAGE_MESSAGES, VL_SECOND_CONVERSATION)]
    proc.tokenizer.padding_side = "left"
    enc = proc(text=prompts, images=[second, first], return_tensors="pt", padding=True)
    mask = enc["attention_mask"]
    positions = (mask.cumsum(-1) - 1).clamp(min=0) * mask
    cases.append({
        "name": "batch2_images",
        "description": "two DeepSeek-VL conversations, LEFT-padded (pad id " + str(proc.tokenizer.pad_token_id) +
                       "): [" + VL_SECOND_IMAGE + ", text] and a three-turn chat whose last turn has "
                       "images/test-45x30.png; position_ids = cumsum(mask)-1 with padded slots 0",
        "text": prompts, "messages": [VL_IMAGE_MESSAGES, VL_SECOND_CONVERSATION],
        "images": [VL_SECOND_IMAGE, "images/test-45x30.png"],
        "input_ids": enc["input_ids"].tolist(), "attention_mask": mask.tolist(),
        "position_ids": positions.tolist(), "pixel_values_tensor": enc["pixel_values"],
    })
    return cases


# ----------------------------------------------------------------------------------------------------------
# model loading


def is_moe(cls_name):
    return cls_name.startswith("DeepseekV")


def load_model(cls_name, path, dtype):
    cls = getattr(transformers, cls_name)
    kw = dict(dtype=dtype, attn_implementation="eager")
    if is_moe(cls_name):
        kw["experts_implementation"] = "eager"
    model, info = cls.from_pretrained(path, output_loading_info=True, **kw)
    bad = {k: v for k, v in info.items() if v}
    if bad:  # a missing key would be silently re-initialised: refuse
        raise SystemExit(f"{path}: loading problems: {bad}")
    model.eval()
    if is_moe(cls_name):
        assert model.config._experts_implementation == "eager"
    assert model.config._attn_implementation == "eager"
    return model


def dequantize_fp8_checkpoint(fp8_dir, out_dir):
    """Write a plain (unquantized) float32 copy of the FP8 checkpoint into out_dir: every `W` with a
    `W_scale_inv` becomes float32(W) * scale_inv[i // 128, j // 128] (fp32 multiply; edge blocks partial);
    every other tensor is upcast; the MTP layer (model.layers.{num_hidden_layers}.*) is dropped. The config is
    the hub config without quantization_config. Loading it with dtype=bfloat16 rounds the products to bf16."""
    cfg = json.load(open(os.path.join(fp8_dir, "config.json")))
    index = json.load(open(os.path.join(fp8_dir, "model.safetensors.index.json")))
    raw = {}
    for shard in sorted(set(index["weight_map"].values())):
        with safe_open(os.path.join(fp8_dir, shard), "pt") as f:
            for k in f.keys():
                raw[k] = f.get_tensor(k)
    mtp = f"model.layers.{cfg['num_hidden_layers']}."
    block = cfg["quantization_config"]["weight_block_size"]
    out = {}
    for k, v in raw.items():
        if k.startswith(mtp) or k.endswith("_scale_inv"):
            continue
        if k + "_scale_inv" in raw:
            s = raw[k + "_scale_inv"].to(torch.float32)
            s_full = s.repeat_interleave(block[0], 0)[: v.shape[0]].repeat_interleave(block[1], 1)[:, : v.shape[1]]
            out[k] = v.to(torch.float32) * s_full
        else:
            out[k] = v.to(torch.float32)
    cfg.pop("quantization_config")
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    save_file({k: out[k].contiguous() for k in sorted(out)}, os.path.join(out_dir, "model.safetensors"),
              metadata={"format": "pt"})
    return len(out)


def try_hf_fp8_path(fp8_dir, ref_logits, input_ids):
    """Informational: what transformers' own FP8 loading does on CPU (it switches to dequantize=True)."""
    from transformers import DeepseekV3ForCausalLM, FineGrainedFP8Config

    result = {}
    for label, extra in [("auto (CPU -> dequantize=True)", {}),
                         ("FineGrainedFP8Config(dequantize=True)",
                          {"quantization_config": FineGrainedFP8Config(dequantize=True)})]:
        try:
            m = DeepseekV3ForCausalLM.from_pretrained(fp8_dir, dtype=torch.bfloat16, attn_implementation="eager",
                                                      experts_implementation="eager", **extra)
            with torch.no_grad():
                lg = m(torch.tensor(input_ids)).logits
            diff = (lg.float() - ref_logits.float()).abs().max().item()
            result[label] = f"loaded; max |logits - reference| on gen1_1 (bf16) = {diff:.6g}"
        except Exception as e:  # noqa: BLE001
            msg = str(e).strip().splitlines()[0][:300]
            result[label] = f"failed: {type(e).__name__}: {msg}"
    return result


# ----------------------------------------------------------------------------------------------------------
# recording


class Recorder:
    def __init__(self):
        self.tensors = {}

    def add(self, name, t):
        assert name not in self.tensors, name
        t = t.detach().contiguous()
        self.tensors[name] = t
        return {"name": name, "dtype": ST_DTYPE[t.dtype], "shape": list(t.shape)}


def router_hooks(model, store):
    handles = []
    for name, mod in model.named_modules():
        if type(mod).__name__.endswith("TopkRouter"):
            layer = int(name.split(".layers.")[1].split(".")[0])

            def hook(m, inp, out, layer=layer):
                logits, weights, idx = out
                order = torch.argsort(idx, dim=-1)  # topk(sorted=False): report experts in ascending id order
                store[layer] = (logits, torch.gather(weights, -1, order), torch.gather(idx, -1, order))

            handles.append(mod.register_forward_hook(hook))
    return handles


def config_summary(model):
    c = model.config
    keys = ["model_type", "vocab_size", "hidden_size", "intermediate_size", "moe_intermediate_size",
            "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "q_lora_rank", "kv_lora_rank",
            "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "n_routed_experts", "num_experts_per_tok",
            "n_group", "topk_group", "n_shared_experts", "first_k_dense_replace", "norm_topk_prob",
            "routed_scaling_factor", "topk_method", "rope_interleave", "rope_parameters", "rms_norm_eps",
            "max_position_embeddings", "tie_word_embeddings", "bos_token_id", "eos_token_id", "pad_token_id",
            "num_labels", "id2label", "image_token_id"]
    out = {}
    for k in keys:
        if hasattr(c, k) and (k != "num_labels" or "Classification" in type(model).__name__) and \
                (k != "id2label" or "Classification" in type(model).__name__):
            v = getattr(c, k)
            out[k] = {str(a): b for a, b in v.items()} if isinstance(v, dict) else v
    for sub in ("text_config", "vision_config"):
        if hasattr(c, sub):
            out[sub] = {k: v for k, v in getattr(c, sub).to_diff_dict().items() if k != "transformers_version"}
    return out


def derived_values(model, rec, dtype_name):
    """Values transformers derives from the config, read from the loaded modules."""
    d = {}
    base = model.model
    lm = getattr(base, "language_model", base)
    rot = lm.rotary_emb
    d["rope_type"] = getattr(rot, "rope_type", None)
    d["rope_attention_factor"] = float(rot.attention_scaling)
    attn = lm.layers[0].self_attn
    d["softmax_scale"] = float(attn.scaling)
    if dtype_name == "fp32":
        d["inv_freq"] = rec.add("rope.inv_freq", rot.inv_freq.float())
    pos = torch.arange(model.config.get_text_config().max_position_embeddings)[None]
    dt = DTYPES[dtype_name]
    x = torch.zeros(1, 1, dtype=dt)
    emb = rot(x, pos)
    if isinstance(emb, tuple):  # V3 / llama: (cos, sin) cast to the activation dtype
        d["cos"] = rec.add(f"rope.{dtype_name}.cos", emb[0][0])
        d["sin"] = rec.add(f"rope.{dtype_name}.sin", emb[1][0])
    else:  # V2: complex freqs_cis (fp32 complex, never cast), stored as [..., 2] = (real, imag)
        d["freqs_cis"] = rec.add(f"rope.{dtype_name}.freqs_cis", torch.view_as_real(emb[0]).contiguous())
    return d


@torch.no_grad()
def run_causal(model, case, dtype_name, rec, debug):
    dt = DTYPES[dtype_name]
    ids = torch.tensor(case["input_ids"])
    mask = torch.tensor(case["attention_mask"])
    kw = {"attention_mask": mask}
    if case["position_ids"] is not None:
        kw["position_ids"] = torch.tensor(case["position_ids"])
    if "pixel_values_tensor" in case:
        kw["pixel_values"] = case["pixel_values_tensor"].to(dt)
    pre = f"{case['name']}.{dtype_name}"
    run = {}
    store = {}
    handles = router_hooks(model, store) if debug else []
    out = model(input_ids=ids, output_hidden_states=debug, **kw)
    for h in handles:
        h.remove()
    logits = out.logits
    assert logits.dtype == dt, (logits.dtype, dt)
    run["logits"] = rec.add(f"{pre}.logits", logits)
    run["argmax_last"] = logits[:, -1].argmax(-1).tolist()
    if getattr(out, "image_hidden_states", None) is not None:
        run["image_features"] = rec.add(f"{pre}.image_features", out.image_hidden_states)
    if debug:
        run["hidden_states"] = [rec.add(f"{pre}.hidden_states.{i}", h) for i, h in enumerate(out.hidden_states)]
        run["router"] = {}
        for layer in sorted(store):
            lg, w, idx = store[layer]
            run["router"][str(layer)] = {
                "logits": rec.add(f"{pre}.layers.{layer}.router.logits", lg),
                "topk_weights": rec.add(f"{pre}.layers.{layer}.router.topk_weights", w),
                "topk_indices": rec.add(f"{pre}.layers.{layer}.router.topk_indices", idx),
            }

    gkw = {"attention_mask": mask}
    if "pixel_values" in kw:
        gkw["pixel_values"] = kw["pixel_values"]
    g = model.generate(input_ids=ids, do_sample=False, max_new_tokens=MAX_NEW_TOKENS, output_logits=True,
                       return_dict_in_generate=True, **gkw)
    new = g.sequences[:, ids.shape[1]:]
    step_logits = torch.stack(g.logits, dim=1)  # [B, steps, V], generate upcasts to float32
    assert torch.equal(step_logits.to(dt).to(step_logits.dtype), step_logits)
    eos = model.generation_config.eos_token_id
    gen = {
        "new_ids": new.tolist(),
        "num_steps": int(new.shape[1]),
        "stopped_at_eos": [bool((r == eos).any()) for r in new],
        "first_eos_step": [int((r == eos).nonzero()[0, 0]) if bool((r == eos).any()) else None for r in new],
        # generate() fills finished rows with pad_token_id, or with eos_token_id when pad_token_id is None
        "pad_token_id_after_eos": model.generation_config.pad_token_id if model.generation_config.pad_token_id
        is not None else eos,
        "logits": rec.add(f"{pre}.generate.logits", step_logits.to(dt)) if STORE_GENERATE_LOGITS else None,
        # generate()'s prefill step vs the last-position forward logits above: same inputs, but generate computes
        # lm_head on the last position only (logits_to_keep=1), so fp32 GEMM rounding may differ in the last bits
        "prefill_logits_max_abs_diff_vs_forward": float((step_logits[:, 0] - logits[:, -1].float()).abs().max()),
    }
    run["generate"] = gen
    return run


@torch.no_grad()
def run_classifier(model, case, dtype_name, rec):
    dt = DTYPES[dtype_name]
    kw = {"attention_mask": torch.tensor(case["attention_mask"])}
    if case["position_ids"] is not None:
        kw["position_ids"] = torch.tensor(case["position_ids"])
    out = model(input_ids=torch.tensor(case["input_ids"]), **kw)
    assert out.logits.dtype == dt
    return {"logits": rec.add(f"{case['name']}.{dtype_name}.logits", out.logits),
            "argmax": out.logits.argmax(-1).tolist()}


def public_case(case):
    return {k: v for k, v in case.items() if k != "pixel_values_tensor"}


def record(name, fp8_tmp=None):
    ckpt = os.path.join(common.CKPT_DIR, name)
    cls_name = common.CHECKPOINTS[name]
    is_vl = cls_name == "DeepseekVLForConditionalGeneration"
    is_cls = "Classification" in cls_name
    task = ("sequence_classification" if "Sequence" in cls_name else "token_classification") if is_cls else \
        ("image_text_to_text" if is_vl else "causal_lm")
    cases = build_cases(ckpt, is_vl)
    if is_cls:
        cases = [c for c in cases if c["name"] not in ("chat",)]
        b = dict(cases[-1])
        cases[-1] = dict(b, name="batch3", position_ids=None,
                         description="3 prompts, LEFT-padded with the pad token (id 1), attention_mask only "
                                     "(position_ids default to 0..L-1, as a plain forward call does)")
        cases.append(dict(b, name="batch3_pos", description="as batch3, plus position_ids = cumsum(mask)-1 "
                                                            "with padded slots 0"))
        if task == "sequence_classification":
            cases.append(ends_in_pad_case(ckpt))
    rec = Recorder()
    if is_vl:
        img = vl_image_case(ckpt)
        img["pixel_values"] = rec.add("image.pixel_values", img["pixel_values_tensor"])
        cases.append(img)
        for case in vl_multi_image_cases(ckpt):
            case["pixel_values"] = rec.add(f"{case['name']}.pixel_values", case["pixel_values_tensor"])
            cases.append(case)

    load_path = ckpt
    weights_note = None
    if name == "tiny-v3-fp8":
        n = dequantize_fp8_checkpoint(ckpt, fp8_tmp)
        load_path = fp8_tmp
        weights_note = {
            "reference_weights": "manual dequantization (NOT transformers' FP8 loader): for every F8_E4M3 tensor W "
                                 "with W_scale_inv S, W_ref[i,j] = float32(W[i,j]) * S[i//128, j//128] computed in "
                                 "float32 (edge blocks partial); other tensors upcast; MTP layer dropped; then "
                                 "DeepseekV3ForCausalLM.from_pretrained(dtype=float32 | bfloat16); the bf16 run "
                                 "therefore uses round_to_bf16(W_ref) (RNE).",
            "dequantized_tensors": n,
        }

    result = {
        "schema": "fathom-hf-reference/1",
        "checkpoint": name,
        "checkpoint_dir": f"checkpoints/{name}",
        "model_class": cls_name,
        "task": task,
        "tensors_file": f"{name}.safetensors",
        "versions": common.versions(),
        "seed": SEED,
        "settings": {
            "device": "cpu",
            "torch_threads": 1,
            "attn_implementation": "eager",
            "experts_implementation": "eager" if is_moe(cls_name) else None,
            "dtypes": {"fp32": "torch.float32", "bf16": "torch.bfloat16"},
            "generate": None if is_cls else {"do_sample": False, "max_new_tokens": MAX_NEW_TOKENS,
                                             "output_logits": True},
        },
    }
    if weights_note:
        result["weights"] = weights_note
    derived = {}
    runs = {c["name"]: {} for c in cases}
    for dtype_name, dt in DTYPES.items():
        model = load_model(cls_name, load_path, dt)
        if dtype_name == "fp32":
            result["config"] = config_summary(model)
        derived[dtype_name] = derived_values(model, rec, dtype_name)
        for c in cases:
            log(f"  {name} {dtype_name} {c['name']}")
            if is_cls:
                runs[c["name"]][dtype_name] = run_classifier(model, c, dtype_name, rec)
            else:
                runs[c["name"]][dtype_name] = run_causal(model, c, dtype_name, rec, debug=c["name"] == "gen1_1")
        if name == "tiny-v3-fp8" and dtype_name == "bf16":
            gc = next(c for c in cases if c["name"] == "gen1_1")
            result["weights"]["transformers_fp8_loader_on_cpu"] = try_hf_fp8_path(
                ckpt, rec.tensors["gen1_1.bf16.logits"], gc["input_ids"])
        del model
    result["derived"] = derived
    result["cases"] = [dict(public_case(c), runs=runs[c["name"]]) for c in cases]
    return result, rec


def main():
    names = sys.argv[1:] or list(common.CHECKPOINTS)
    os.makedirs(common.OUT_DIR, exist_ok=True)
    computed = {}
    for name in names:
        log(f"recording {name}")
        with tempfile.TemporaryDirectory() as tmp:
            result, rec = record(name, fp8_tmp=tmp)
        if name == "tiny-v3-fused":
            # Must be bit-identical to tiny-v3 (same weights, other expert layout); share its tensors file.
            if "tiny-v3" not in computed:
                computed["tiny-v3"] = record("tiny-v3")[1]
            ref = computed["tiny-v3"].tensors
            assert set(ref) == set(rec.tensors), "tiny-v3-fused: tensor sets differ"
            bad = [k for k in ref if not torch.equal(ref[k], rec.tensors[k])]
            if bad:
                raise SystemExit(f"tiny-v3-fused differs from tiny-v3 in {bad[:5]}")
            result["tensors_file"] = "tiny-v3.safetensors"
            result["identical_to"] = "tiny-v3"
            log("  tiny-v3-fused: all tensors bit-identical to tiny-v3")
        else:
            save_file(dict(sorted(rec.tensors.items())), os.path.join(common.OUT_DIR, f"{name}.safetensors"),
                      metadata={"format": "pt"})
            computed[name] = rec
        common.dump_json(os.path.join(common.OUT_DIR, f"{name}.json"), result)


if __name__ == "__main__":
    main()
