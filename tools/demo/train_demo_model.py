#!/usr/bin/env python3
"""Train the tiny DeepSeek-V3-architecture demo model in tools/demo/kjv-v3/.

This is a one-off generator, run by hand (never by the build, tests or CI): its
output, tools/demo/kjv-v3/, is committed. It needs Debian's `bible-kjv` package
(for the text) and, from PyPI, torch (CPU is fine), transformers 5.23,
tokenizers 0.23 and safetensors.

Stages (all run by default, in this order; each can be run alone with --stage):
  data       `bible -f 'gen1:1-rev22:21'`, verse references stripped, one verse
             per line  -> WORK/kjv.txt
  tokenizer  byte-level BPE in the exact shape of DeepSeek-V3's tokenizer.json
             -> OUT/tokenizer.json, OUT/tokenizer_config.json
  train      DeepseekV3ForCausalLM from scratch; every --save-every-min minutes
             it writes WORK/train_state.pt (resumable with --resume) and exports
             the current weights to OUT (so a usable checkpoint always exists)
  export     OUT/config.json, model.safetensors (bf16; e_score_correction_bias
             stays fp32 as in the real V3 checkpoint), generation_config.json
  check      reload OUT with DeepseekV3ForCausalLM.from_pretrained (eager
             attention) in fp32 and bf16, greedy-decode the demo prompts and
             write OUT/expected_generations.json

Be kind to a shared machine: run it under `nice -n 19`; it uses --threads
(default 1) torch threads.

    nice -n 19 python3 tools/demo/train_demo_model.py
"""

import argparse
import json
import math
import os
import random
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "kjv-v3")
DEFAULT_WORK = os.path.join(HERE, "work")

BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"
PAD = "<｜▁pad▁｜>"
USER = "<｜User｜>"
ASSISTANT = "<｜Assistant｜>"

# Prompts the demo (and expected_generations.json) use.
DEMO_PROMPTS = [
    "In the beginning God",
    "And the LORD said unto Moses,",
    "The LORD is my shepherd;",
    "For God so loved the world,",
    "And it came to pass,",
]

# DeepSeek-V3's tokenizer.json pieces, verbatim (deepseek-ai/DeepSeek-V3 @e815299b;
# see shared/reference/text-image.md section 1.1).
V3_NORMALIZER = {"type": "Sequence", "normalizers": []}
V3_PRE_TOKENIZER = {
    "type": "Sequence",
    "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": "\\p{N}{1,3}"}, "behavior": "Isolated", "invert": False},
        {"type": "Split", "pattern": {"Regex": "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+"},
         "behavior": "Isolated", "invert": False},
        {"type": "Split",
         "pattern": {"Regex": "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?"
                              "[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"},
         "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
    ],
}
V3_POST_PROCESSOR = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True}
V3_DECODER = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}

V3_CHAT_TEMPLATE = (
    '{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{% se'
    "t ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='', is_first_sp="
    "true) %}{%- for message in messages %}{%- if message['role'] == 'system' %}{%- if ns.is_first_sp %}{"
    "% set ns.system_prompt = ns.system_prompt + message['content'] %}{% set ns.is_first_sp = false %}{%-"
    " else %}{% set ns.system_prompt = ns.system_prompt + '\n\n' + message['content'] %}{%- endif %}{%- end"
    "if %}{%- endfor %}{{bos_token}}{{ns.system_prompt}}{%- for message in messages %}{%- if message['rol"
    "e'] == 'user' %}{%- set ns.is_tool = false -%}{{'<｜User｜>' + message['content']}}{%- endif %}{%- if "
    "message['role'] == 'assistant' and message['content'] is none %}{%- set ns.is_tool = false -%}{%- fo"
    "r tool in message['tool_calls']%}{%- if not ns.is_first %}{{'<｜Assistant｜><｜tool▁calls▁begin｜><｜tool"
    "▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\n' + '```json' + '\n' + "
    "tool['function']['arguments'] + '\n' + '```' + '<｜tool▁call▁end｜>'}}{%- set ns.is_first = true -%}{%-"
    " else %}{{'\n' + '<｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '"
    "\n' + '```json' + '\n' + tool['function']['arguments'] + '\n' + '```' + '<｜tool▁call▁end｜>'}}{{'<｜tool▁"
    "calls▁end｜><｜end▁of▁sentence｜>'}}{%- endif %}{%- endfor %}{%- endif %}{%- if message['role'] == 'ass"
    "istant' and message['content'] is not none %}{%- if ns.is_tool %}{{'<｜tool▁outputs▁end｜>' + message["
    "'content'] + '<｜end▁of▁sentence｜>'}}{%- set ns.is_tool = false -%}{%- else %}{{'<｜Assistant｜>' + mes"
    "sage['content'] + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endif %}{%- if message['role'] == 'tool' %}"
    "{%- set ns.is_tool = true -%}{%- if ns.is_output_first %}{{'<｜tool▁outputs▁begin｜><｜tool▁output▁begi"
    "n｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- set ns.is_output_first = false %}{%- else %}{"
    "{'\n<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- endif %}{%- endif %}{%- "
    "endfor -%}{% if ns.is_tool %}{{'<｜tool▁outputs▁end｜>'}}{% endif %}{% if add_generation_prompt and no"
    "t ns.is_tool %}{{'<｜Assistant｜>'}}{% endif %}"
)

V3_TOKENIZER_DIR_CANDIDATES = [
    os.path.join(HERE, "..", "..", "..", "shared", "testdata", "tokenizers", "deepseek-v3"),
    os.path.join(HERE, "..", "..", "shared", "testdata", "tokenizers", "deepseek-v3"),
]


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# --------------------------------------------------------------------------- data

def stage_data(args):
    os.makedirs(args.work, exist_ok=True)
    raw = subprocess.run(["bible", "-f", "gen1:1-rev22:21"], check=True, capture_output=True,
                         text=True).stdout
    lines = []
    for line in raw.splitlines():
        ref, sep, verse = line.partition(" ")
        # "Ge1:1 In the beginning ..."; "1Sa3:10 ...": book abbreviation, chapter:verse.
        assert sep and ":" in ref and ref[-1].isdigit(), line
        verse = " ".join(verse.split())
        assert verse, line
        lines.append(verse)
    assert len(lines) == 31102, len(lines)  # every verse of the KJV
    text = "\n".join(lines) + "\n"
    with open(os.path.join(args.work, "kjv.txt"), "w", encoding="utf-8") as f:
        f.write(text)
    log(f"data: {len(lines)} verses, {len(text)} chars -> {args.work}/kjv.txt")


def read_verses(args):
    with open(os.path.join(args.work, "kjv.txt"), encoding="utf-8") as f:
        return f.read().splitlines()


# ---------------------------------------------------------------------- tokenizer

def stage_tokenizer(args):
    from tokenizers import AddedToken, Tokenizer, trainers

    verses = read_verses(args)
    skeleton = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
        "normalizer": V3_NORMALIZER, "pre_tokenizer": V3_PRE_TOKENIZER,
        "post_processor": V3_POST_PROCESSOR, "decoder": V3_DECODER,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "vocab": {}, "merges": []},
    }
    tok = Tokenizer.from_str(json.dumps(skeleton))
    from tokenizers.pre_tokenizers import ByteLevel
    trainer = trainers.BpeTrainer(
        vocab_size=args.vocab_size - 2,  # + <｜User｜>, <｜Assistant｜> below
        min_frequency=2,
        show_progress=False,
        special_tokens=[AddedToken(t, special=True, normalized=False) for t in (BOS, EOS, PAD)],
        initial_alphabet=ByteLevel.alphabet(),
    )
    # One verse per line, the newline kept, exactly as training sees the text.
    tok.train_from_iterator((v + "\n" for v in verses), trainer=trainer, length=len(verses))
    tok.add_tokens([AddedToken(USER, special=False, normalized=True),
                    AddedToken(ASSISTANT, special=False, normalized=True)])

    # Rewrite into V3's exact JSON shape: same key order, merges as "a b" strings,
    # no "ignore_merges" key, added_tokens flags as V3 has them.
    d = json.loads(tok.to_str())
    model = d["model"]
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    for m in merges:
        assert m.count(" ") == 1, m  # byte-level symbols never contain a space
    added = []
    for a in d["added_tokens"]:
        added.append({"id": a["id"], "content": a["content"], "single_word": False, "lstrip": False,
                      "rstrip": False, "normalized": a["content"] in (USER, ASSISTANT),
                      "special": a["content"] in (BOS, EOS, PAD)})
    out = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": V3_NORMALIZER, "pre_tokenizer": V3_PRE_TOKENIZER,
        "post_processor": V3_POST_PROCESSOR, "decoder": V3_DECODER,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "vocab": model["vocab"], "merges": merges},
    }
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "tokenizer.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=2)
        f.write("\n")

    cfg = {
        "add_bos_token": True,
        "add_eos_token": False,
        "bos_token": {"__type": "AddedToken", "content": BOS, "lstrip": False, "normalized": True,
                      "rstrip": False, "single_word": False},
        "clean_up_tokenization_spaces": False,
        "eos_token": {"__type": "AddedToken", "content": EOS, "lstrip": False, "normalized": True,
                      "rstrip": False, "single_word": False},
        "legacy": True,
        "model_max_length": args.max_pos,
        # As in V3, the pad token is the EOS string (id 1), not <｜▁pad▁｜> (id 2).
        "pad_token": {"__type": "AddedToken", "content": EOS, "lstrip": False, "normalized": True,
                      "rstrip": False, "single_word": False},
        "sp_model_kwargs": {},
        "unk_token": None,
        "tokenizer_class": "LlamaTokenizerFast",
        "chat_template": V3_CHAT_TEMPLATE,
    }
    with open(os.path.join(args.out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, ensure_ascii=False, indent=2)
        f.write("\n")
    check_tokenizer(args)


def check_tokenizer(args):
    from tokenizers import Tokenizer

    path = os.path.join(args.out, "tokenizer.json")
    tok = Tokenizer.from_file(path)
    d = json.load(open(path, encoding="utf-8"))
    n = tok.get_vocab_size(with_added_tokens=True)
    assert n == args.vocab_size, n
    for i, t in enumerate((BOS, EOS, PAD)):
        assert tok.token_to_id(t) == i, t
    assert [a["content"] for a in d["added_tokens"]] == [BOS, EOS, PAD, USER, ASSISTANT]

    # Same pipeline pieces as the real V3 tokenizer.json, where it is at hand.
    for cand in V3_TOKENIZER_DIR_CANDIDATES:
        ref = os.path.join(cand, "tokenizer.json")
        if os.path.exists(ref):
            v3 = json.load(open(ref, encoding="utf-8"))
            for k in ("normalizer", "pre_tokenizer", "post_processor", "decoder"):
                assert v3[k] == d[k], k
            assert list(v3.keys()) == list(d.keys())
            assert list(v3["model"].keys()) == list(d["model"].keys())
            cfg_ref = json.load(open(os.path.join(cand, "tokenizer_config.json"), encoding="utf-8"))
            assert cfg_ref["chat_template"] == V3_CHAT_TEMPLATE
            log(f"tokenizer: pipeline identical to {os.path.normpath(ref)}")
            break

    # Round trips: the whole corpus, special tokens, odd bytes.
    text = "\n".join(read_verses(args)) + "\n"
    ids = tok.encode(text, add_special_tokens=False).ids
    assert tok.decode(ids, skip_special_tokens=False) == text
    for s in ["Hello, world! 3333333 3.14\n\n", "我想在apple工作1314151天～ 🚀 naïve café",
              BOS + "You are a helpful assistant" + USER + "Hello" + ASSISTANT + "Hi" + EOS]:
        e = tok.encode(s, add_special_tokens=False)
        assert tok.decode(e.ids, skip_special_tokens=False) == s, s
    e = tok.encode(BOS + "In the beginning" + USER + "x" + ASSISTANT + EOS, add_special_tokens=False)
    assert e.ids[0] == 0 and e.ids[-1] == 1 and args.vocab_size - 2 in e.ids and args.vocab_size - 1 in e.ids
    # skip_special_tokens removes only special:true tokens (like V3).
    assert tok.decode([0, args.vocab_size - 2, 1], skip_special_tokens=True) == USER
    # Raw tokenizers adds no BOS: the post-processor is ByteLevel.
    assert tok.encode("In the beginning").ids == tok.encode("In the beginning", add_special_tokens=False).ids
    words = text.count(" ") + text.count("\n")
    log(f"tokenizer: vocab {n}, {len(d['model']['merges'])} merges, corpus {len(ids)} tokens "
        f"({len(ids) / words:.2f} tokens/word); round trips ok")
    for p in DEMO_PROMPTS[:2]:
        e = tok.encode(p, add_special_tokens=False)
        log(f"  {p!r} -> {e.tokens}")


def load_tokenizer(args):
    from tokenizers import Tokenizer
    return Tokenizer.from_file(os.path.join(args.out, "tokenizer.json"))


# -------------------------------------------------------------------------- model

def make_config(args):
    from transformers import DeepseekV3Config
    return DeepseekV3Config(
        vocab_size=args.vocab_size,
        hidden_size=192,
        intermediate_size=512,
        moe_intermediate_size=128,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=4,
        n_shared_experts=1,
        n_routed_experts=8,
        num_experts_per_tok=2,
        n_group=2,
        topk_group=1,
        routed_scaling_factor=2.5,
        norm_topk_prob=True,
        first_k_dense_replace=1,
        q_lora_rank=96,
        kv_lora_rank=64,
        qk_nope_head_dim=32,
        qk_rope_head_dim=16,
        v_head_dim=32,
        hidden_act="silu",
        max_position_embeddings=args.max_pos,
        initializer_range=0.02,
        rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        rope_interleave=True,
        attention_bias=False,
        tie_word_embeddings=False,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=None,
        num_nextn_predict_layers=0,  # no MTP module in this checkpoint
    )


def build_model(args):
    import torch
    from transformers import DeepseekV3ForCausalLM
    torch.manual_seed(args.seed)
    model = DeepseekV3ForCausalLM._from_config(make_config(args), attn_implementation="sdpa",
                                               dtype=torch.float32)
    if args.experts_impl != "eager":
        model.set_experts_implementation(args.experts_impl)
    return model


def param_count(model):
    return sum(p.numel() for p in model.parameters())


# -------------------------------------------------------------------------- train

def make_stream(args, tok):
    """Token stream of the corpus (one verse per line) and the stream offset of each verse start."""
    import numpy as np
    verses = read_verses(args)
    toks, starts = [], []
    for enc in tok.encode_batch([v + "\n" for v in verses], add_special_tokens=False):
        starts.append(len(toks))
        toks.extend(enc.ids)
    return np.array(toks, dtype=np.int64), np.array(starts, dtype=np.int64)


class Batcher:
    """Windows of BOS + seq_len tokens that start at a verse start (so prompts like
    BOS "In the beginning God" are in distribution). The last --val-verses verses are
    held out for the validation loss."""

    def __init__(self, args, stream, starts):
        self.args, self.stream = args, stream
        L = args.seq_len
        split = starts[-args.val_verses]
        self.train_starts = starts[(starts + L) <= split]
        self.val_starts = starts[-args.val_verses:]
        self.val_starts = self.val_starts[(self.val_starts + L) <= len(stream)]

    def batch(self, rng, starts, n):
        import torch
        idx = [starts[rng.randrange(len(starts))] for _ in range(n)]
        return self.make(idx)

    def make(self, idx):
        import torch
        L = self.args.seq_len
        x = torch.empty(len(idx), L + 1, dtype=torch.long)
        x[:, 0] = 0  # BOS
        for i, s in enumerate(idx):
            x[i, 1:] = torch.from_numpy(self.stream[s:s + L])
        return x  # inputs x[:, :-1], targets x[:, 1:]


def lr_at(args, step):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    p = min(1.0, (step - args.warmup) / max(1, args.steps - args.warmup))
    return args.lr * (args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * p)))


def stage_train(args):
    import torch
    import torch.nn.functional as F
    from transformers.models.deepseek_v3.modeling_deepseek_v3 import DeepseekV3TopkRouter

    torch.set_num_threads(args.threads)
    tok = load_tokenizer(args)
    stream, starts = make_stream(args, tok)
    batcher = Batcher(args, stream, starts)
    model = build_model(args)
    log(f"model: {param_count(model):,} parameters; stream {len(stream):,} tokens, "
        f"{len(batcher.train_starts)} train / {len(batcher.val_starts)} val window starts")

    # Aux-loss-free load balancing (DeepSeek-V3 paper, 2.1.2): after each step,
    # bias_i += gamma * sign(mean_load - load_i) for each MoE layer's router.
    loads = {}

    def hook(mod, inp, out):
        if mod.training:
            counts = torch.bincount(out[2].reshape(-1), minlength=mod.num_experts).float()
            loads[mod] = loads.get(mod, 0) + counts

    routers = [m for m in model.modules() if isinstance(m, DeepseekV3TopkRouter)]
    for r in routers:
        r.register_forward_hook(hook)

    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (no_decay if p.ndim < 2 or "norm" in n else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    rng = random.Random(args.seed)
    step, history, train_s = 0, [], 0.0
    state_path = os.path.join(args.work, "train_state.pt")
    if args.resume and os.path.exists(state_path):
        st = torch.load(state_path, weights_only=False)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        rng.setstate(st["rng"])
        torch.set_rng_state(st["torch_rng"])
        step, history, train_s = st["step"], st["history"], st["train_s"]
        log(f"resumed at step {step}")

    def save(final=False):
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "rng": rng.getstate(),
                    "torch_rng": torch.get_rng_state(), "step": step, "history": history,
                    "train_s": train_s, "args": vars(args)}, state_path + ".tmp")
        os.replace(state_path + ".tmp", state_path)
        export(args, model, {"step": step, "history": history, "train_seconds": round(train_s),
                             "final": final})

    @torch.no_grad()
    def val_loss():
        model.eval()
        vr = random.Random(1234)
        tot = 0.0
        for _ in range(args.val_batches):
            x = batcher.batch(vr, batcher.val_starts, args.batch)
            logits = model(input_ids=x[:, :-1]).logits
            tot += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1)).item()
        model.train()
        return tot / args.val_batches

    model.train()
    last_save = time.time()
    ema = None
    t0 = time.time()
    while step < args.steps:
        for g in opt.param_groups:
            g["lr"] = lr_at(args, step)
        x = batcher.batch(rng, batcher.train_starts, args.batch)
        logits = model(input_ids=x[:, :-1]).logits
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            for r in routers:
                ld = loads.pop(r)
                r.e_score_correction_bias += args.bias_gamma * torch.sign(ld.mean() - ld)
        step += 1
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        now = time.time()
        if step % args.log_every == 0 or step == args.steps:
            train_s += now - t0
            t0 = now
            rec = {"step": step, "train_loss_ema": round(ema, 4), "lr": lr_at(args, step - 1),
                   "train_seconds": round(train_s)}
            if step % (args.log_every * 5) == 0 or step == args.steps:
                rec["val_loss"] = round(val_loss(), 4)
                rec["bias_absmax"] = round(max(r.e_score_correction_bias.abs().max().item()
                                               for r in routers), 3)
                t0 = time.time()
            history.append(rec)
            tps = args.log_every * args.batch * args.seq_len / max(1e-9, rec["train_seconds"] - (
                history[-2]["train_seconds"] if len(history) > 1 else 0))
            log(json.dumps(rec), f"{tps:.0f} tok/s")
        if now - last_save > args.save_every_min * 60 and step < args.steps:
            train_s += now - t0
            save()
            last_save = t0 = time.time()
    save(final=True)
    log(f"train: done, {step} steps, {train_s / 60:.1f} min of training")


# ------------------------------------------------------------------------- export

def export(args, model, train_info=None):
    """Write OUT/config.json, model.safetensors (bf16), generation_config.json."""
    import copy
    import torch
    from transformers import GenerationConfig

    m = copy.deepcopy(model).eval()
    m.to(torch.bfloat16)
    # V3 keeps the router's e_score_correction_bias in fp32 (F32 in the real checkpoint too).
    for mod in m.modules():
        if hasattr(mod, "e_score_correction_bias"):
            mod.e_score_correction_bias.data = mod.e_score_correction_bias.data.float()
    m.config.torch_dtype = torch.bfloat16
    m.generation_config = GenerationConfig(
        bos_token_id=0, eos_token_id=1, do_sample=True, temperature=0.8, top_p=0.9,
        max_new_tokens=64)
    m.save_pretrained(args.out)
    if train_info is not None:
        with open(os.path.join(args.work, "train_info.json"), "w") as f:
            json.dump(train_info, f, indent=1)
    log(f"export: {args.out} (step {train_info and train_info.get('step')})")


def stage_export(args):
    import torch
    st = torch.load(os.path.join(args.work, "train_state.pt"), weights_only=False)
    model = build_model(args)
    model.load_state_dict(st["model"])
    export(args, model, {"step": st["step"], "history": st["history"], "train_seconds": round(st["train_s"])})


# -------------------------------------------------------------------------- check

def stage_check(args):
    import torch
    from safetensors import safe_open
    from transformers import DeepseekV3ForCausalLM

    torch.set_num_threads(args.threads)
    tok = load_tokenizer(args)
    st_path = os.path.join(args.out, "model.safetensors")
    with safe_open(st_path, "pt") as f:
        keys = list(f.keys())
        dtypes = {}
        for k in keys:
            dtypes.setdefault(str(f.get_slice(k).get_dtype()), []).append(k)
    log(f"check: {len(keys)} tensors; dtypes { {k: len(v) for k, v in dtypes.items()} }")
    log("  e.g. " + ", ".join(k for k in keys if "layers.1.mlp" in k and ("experts.0." in k or "gate" in k
                                                                            or "experts.gate_up" in k)))
    result = {"model_dir": "tools/demo/kjv-v3", "max_new_tokens": args.gen_tokens,
              "decoding": "greedy (argmax), prompt = BOS + tokenizer.encode(prompt)",
              "float32": "bf16 weights widened to fp32, fp32 compute (HF eager attention)",
              "bfloat16": "bf16 weights, bf16 compute (HF eager attention; routers and RMSNorm in fp32)",
              "prompts": []}
    outs = {}
    for dtype_name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
        model = DeepseekV3ForCausalLM.from_pretrained(args.out, attn_implementation="eager",
                                                      dtype=dtype).eval()
        nparams = param_count(model)
        for p in DEMO_PROMPTS:
            ids = [0] + tok.encode(p, add_special_tokens=False).ids
            with torch.no_grad():
                out = model.generate(torch.tensor([ids]), max_new_tokens=args.gen_tokens, do_sample=False,
                                     eos_token_id=1, pad_token_id=1, output_logits=True,
                                     return_dict_in_generate=True)
            gen = out.sequences[0, len(ids):].tolist()
            step_logits = [lg[0].float() for lg in out.logits]
            top5 = torch.topk(step_logits[0], 5)
            # Smallest gap between the best and second-best logit along the greedy path: how
            # much numerical noise the expected ids tolerate.
            margins = [(t[0] - t[1]).item() for t in (torch.topk(lg, 2).values for lg in step_logits)]
            outs.setdefault(p, {})[dtype_name] = {
                "generated_ids": gen,
                "text": tok.decode(gen, skip_special_tokens=False),
                "first_step_top5_ids": top5.indices.tolist(),
                "first_step_top5_logits": [round(v, 4) for v in top5.values.tolist()],
                "min_top1_top2_logit_gap": round(min(margins), 5),
                "min_gap_step": margins.index(min(margins)),
            }
            log(f"  [{dtype_name}] {p!r} -> {tok.decode(gen)!r}")
    for p in DEMO_PROMPTS:
        ids = [0] + tok.encode(p, add_special_tokens=False).ids
        f32, b16 = outs[p]["float32"], outs[p]["bfloat16"]
        common = 0
        while common < min(len(f32["generated_ids"]), len(b16["generated_ids"])) and \
                f32["generated_ids"][common] == b16["generated_ids"][common]:
            common += 1
        result["prompts"].append({"prompt": p, "prompt_ids": ids, "float32": f32, "bfloat16": b16,
                                  "float32_bfloat16_common_prefix": common})
    result["parameters"] = nparams
    with open(os.path.join(args.out, "expected_generations.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=1)
        f.write("\n")
    log(f"check: wrote {args.out}/expected_generations.json")


# --------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stage", choices=["all", "data", "tokenizer", "train", "export", "check"], default="all")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--work", default=DEFAULT_WORK, help="scratch: corpus, resumable training state")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--vocab-size", type=int, default=2048)
    ap.add_argument("--max-pos", type=int, default=512)
    ap.add_argument("--seq-len", type=int, default=128, help="tokens per window after the BOS")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=2600)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--bias-gamma", type=float, default=1e-3, help="aux-free balancing bias update speed")
    ap.add_argument("--experts-impl", default="eager", help="transformers experts implementation for training")
    ap.add_argument("--val-verses", type=int, default=300)
    ap.add_argument("--val-batches", type=int, default=4)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--save-every-min", type=float, default=5.0)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--gen-tokens", type=int, default=48)
    args = ap.parse_args()

    stages = ["data", "tokenizer", "train", "check"] if args.stage == "all" else [args.stage]
    for s in stages:
        globals()["stage_" + s](args)


if __name__ == "__main__":
    main()
