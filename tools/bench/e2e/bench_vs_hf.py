#!/usr/bin/env python3
"""End-to-end CPU generation speed of Fathom next to Hugging Face transformers, on the same random
DeepSeek-V3 checkpoint, the same prompt ids and the same thread count, in one run. A benchmark, not a test
(see tools/bench/e2e/README.md).

    python3 tools/bench/e2e/bench_vs_hf.py [--dtype bf16|fp32] [--prompt-tokens 128] [--new-tokens 64]
                                           [--threads N] [--repeat 3] [--json FILE]

Steps:
  1. Build (or reuse) a seeded random deepseek_v3 checkpoint with transformers (DeepseekV3Config +
     DeepseekV3ForCausalLM, HF's own init: N(0, initializer_range) weights, unit norms, zero router bias),
     saved with save_pretrained in bfloat16 the way test/reference/make_checkpoints.py does it (fp32 save,
     reload with dtype=bfloat16, save again; e_score_correction_bias stays fp32), plus generation_config.json
     (bos 0, eos 1). One checkpoint serves both --dtype values: fp32 runs upcast the same bf16 weights.
     Cached under --cache-dir/ckpt-<hash of the model spec>.
  2. fathom-compile CKPT -o X.fathom --dtype D --max-seq-len P+G --max-batch 1 --quiet.
  3. fathom-run X.fathom --prompt-ids ... --max-new-tokens G --no-eos --json --threads T: one warm-up run,
     then R runs; prefill_seconds / decode_seconds are read from its JSON (timed inside the process, artifact
     load excluded). Fathom's decode tok/s = (G - 1) / decode_seconds (the first new token comes from the
     prefill logits).
  4. transformers, per implementation variant (default: attn/experts "eager"/"eager" as in the repo's reference
     scripts, and HF's defaults, i.e. no *_implementation arguments), from_pretrained(dtype=D),
     torch.set_num_threads(T), torch.inference_mode():
       prefill = one forward over the prompt, use_cache=True, logits_to_keep=1 (what generate() runs first);
       decode  = a greedy loop of G - 1 single-token forwards with the DynamicCache (argmax each step, no
                 logits processors), the same work Fathom's decode_seconds covers; tok/s = (G - 1) / time;
       generate = model.generate(max_new_tokens=G, do_sample=False) with eos disabled, reported separately
                 as (G - 1) / (generate time - best prefill time) - it includes generate()'s own overhead.
     One warm-up pass, then R passes; the table shows the best of R (the JSON has every sample and medians).
  5. The table: prefill and decode tok/s of Fathom and of the faster HF variant (named), with ratios
     Fathom / HF; every HF variant's numbers are listed below it. Greedy ids of Fathom and of each HF variant
     are compared ("greedy ids identical: yes/no (first divergence at step k)"); exact equality is expected in
     fp32, bf16 may diverge on near-ties.
"""

import argparse
import contextlib
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SPEC_VERSION = 1  # bump when the way the checkpoint is built changes


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def add_model_args(p):
    """The random model's sizes (shared with bench_long_context.py)."""
    g = p.add_argument_group("model (random deepseek_v3)")
    g.add_argument("--hidden", type=int, default=1024, help="hidden_size")
    g.add_argument("--layers", type=int, default=8, help="num_hidden_layers")
    g.add_argument("--experts", type=int, default=32, help="n_routed_experts")
    g.add_argument("--experts-per-tok", type=int, default=4, help="num_experts_per_tok")
    g.add_argument("--n-group", type=int, default=4)
    g.add_argument("--topk-group", type=int, default=2)
    g.add_argument("--first-k-dense", type=int, default=1, help="first_k_dense_replace")
    g.add_argument("--shared-experts", type=int, default=1, help="n_shared_experts")
    g.add_argument("--moe-intermediate", type=int, default=512, help="moe_intermediate_size")
    g.add_argument("--intermediate", type=int, default=2816, help="intermediate_size (dense layers)")
    g.add_argument("--heads", type=int, default=16, help="num_attention_heads")
    g.add_argument("--q-lora-rank", type=int, default=384)
    g.add_argument("--kv-lora-rank", type=int, default=256)
    g.add_argument("--qk-nope-head-dim", type=int, default=64)
    g.add_argument("--qk-rope-head-dim", type=int, default=32)
    g.add_argument("--v-head-dim", type=int, default=64)
    g.add_argument("--vocab", type=int, default=32000, help="vocab_size")
    g.add_argument("--max-pos", type=int, default=4096, help="max_position_embeddings")
    g.add_argument("--init-std", type=float, default=0.02, help="initializer_range")
    g.add_argument("--seed", type=int, default=0, help="torch.manual_seed for the weights and the prompt")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_args(p)
    r = p.add_argument_group("run")
    r.add_argument("--dtype", choices=["bf16", "fp32"], default="bf16",
                   help="compute dtype of both (fathom-compile --dtype, from_pretrained dtype=)")
    r.add_argument("--quantize", choices=["none", "fp8", "int4"], default="none",
                   help="fathom-compile --quantize (HF keeps the checkpoint's weights)")
    r.add_argument("--prompt-tokens", type=int, default=128)
    r.add_argument("--new-tokens", type=int, default=64)
    r.add_argument("--threads", type=int, default=os.cpu_count())
    r.add_argument("--repeat", type=int, default=3, help="timed repetitions after one warm-up")
    r.add_argument("--hf-impls", default="eager:eager,default",
                   help="comma-separated HF variants, each ATTN:EXPERTS (e.g. eager:eager, sdpa:grouped_mm) "
                        "or 'default' (no *_implementation argument: transformers picks)")
    r.add_argument("--no-generate", action="store_true", help="skip the HF generate() timing")
    r.add_argument("--skip-hf", action="store_true")
    r.add_argument("--skip-fathom", action="store_true")
    r.add_argument("--build-dir", default=os.path.join(REPO, "build"),
                   help="where bin/fathom-compile and bin/fathom-run are")
    r.add_argument("--cache-dir", default="/tmp/fathom-bench-v3")
    r.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE ('-': stdout)")
    return p.parse_args()


# ----------------------------------------------------------------------------------------------------------
# checkpoint


def model_spec(a):
    return dict(
        spec_version=SPEC_VERSION,
        vocab_size=a.vocab,
        hidden_size=a.hidden,
        intermediate_size=a.intermediate,
        moe_intermediate_size=a.moe_intermediate,
        num_hidden_layers=a.layers,
        num_attention_heads=a.heads,
        num_key_value_heads=a.heads,
        q_lora_rank=a.q_lora_rank,
        kv_lora_rank=a.kv_lora_rank,
        qk_nope_head_dim=a.qk_nope_head_dim,
        qk_rope_head_dim=a.qk_rope_head_dim,
        v_head_dim=a.v_head_dim,
        n_routed_experts=a.experts,
        num_experts_per_tok=a.experts_per_tok,
        n_group=a.n_group,
        topk_group=a.topk_group,
        n_shared_experts=a.shared_experts,
        first_k_dense_replace=a.first_k_dense,
        max_position_embeddings=a.max_pos,
        initializer_range=a.init_std,
        seed=a.seed,
    )


def hf_config(spec):
    from transformers import DeepseekV3Config

    kw = {k: v for k, v in spec.items() if k not in ("spec_version", "seed")}
    kw.update(
        norm_topk_prob=True,
        routed_scaling_factor=2.5,
        hidden_act="silu",
        rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},  # plain RoPE, no YaRN
        rope_interleave=True,
        tie_word_embeddings=False,
        attention_bias=False,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=None,
    )
    return DeepseekV3Config(**kw)


def ensure_checkpoint(a, torch):
    spec = model_spec(a)
    tag = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]
    d = os.path.join(a.cache_dir, f"ckpt-{tag}")
    stamp = os.path.join(d, "bench_spec.json")
    if os.path.exists(stamp):
        with open(stamp) as f:
            if json.load(f) == spec:
                log(f"checkpoint: reusing {d}")
                return d, spec
    from transformers import DeepseekV3ForCausalLM, GenerationConfig

    log(f"checkpoint: building {d}")
    t0 = time.perf_counter()
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(a.cache_dir, exist_ok=True)
    torch.manual_seed(spec["seed"])
    model = DeepseekV3ForCausalLM(hf_config(spec))  # HF's _init_weights: N(0, initializer_range), seeded
    model.eval()
    partial = d + ".partial"
    if os.path.exists(partial):
        shutil.rmtree(partial)
    # bf16 save as transformers does it (cf. test/reference/make_checkpoints.py save_bf16): the router's
    # e_score_correction_bias stays float32 (_keep_in_fp32_modules_strict).
    with tempfile.TemporaryDirectory(dir=a.cache_dir) as tmp:
        model.save_pretrained(tmp)
        del model
        m2 = DeepseekV3ForCausalLM.from_pretrained(tmp, dtype=torch.bfloat16)
        m2.save_pretrained(partial)
        del m2
    GenerationConfig(bos_token_id=0, eos_token_id=1).save_pretrained(partial)
    with open(os.path.join(partial, "bench_spec.json"), "w") as f:
        json.dump(spec, f, indent=1)
    os.rename(partial, d)
    log(f"checkpoint: built in {time.perf_counter() - t0:.1f} s")
    return d, spec


def parameter_count(ckpt):
    from safetensors import safe_open

    n = 0
    files = [f for f in os.listdir(ckpt) if f.endswith(".safetensors")]
    for fn in files:
        with safe_open(os.path.join(ckpt, fn), "np") as f:
            for k in f.keys():
                shape = f.get_slice(k).get_shape()
                c = 1
                for s in shape:
                    c *= s
                n += c
    return n


# ----------------------------------------------------------------------------------------------------------
# Fathom


def run_fathom(a, ckpt, prompt):
    compile_bin = os.path.join(a.build_dir, "bin", "fathom-compile")
    run_bin = os.path.join(a.build_dir, "bin", "fathom-run")
    for b in (compile_bin, run_bin):
        if not os.path.exists(b):
            sys.exit(f"{b} not found: build fathom-compile and fathom-run first")
    art_dir = os.path.join(a.cache_dir, "artifacts")
    os.makedirs(art_dir, exist_ok=True)
    artifact = os.path.join(art_dir, f"{os.path.basename(ckpt)}-{a.dtype}-{a.quantize}-"
                            f"s{a.prompt_tokens + a.new_tokens}.fathom")
    compile_cmd = [compile_bin, ckpt, "-o", artifact, "--dtype", a.dtype, "--quantize", a.quantize,
                   "--max-seq-len", str(a.prompt_tokens + a.new_tokens), "--max-batch", "1", "--quiet"]
    log("fathom: " + " ".join(compile_cmd))
    t0 = time.perf_counter()
    res = subprocess.run(compile_cmd, capture_output=True, text=True)
    compile_s = time.perf_counter() - t0
    if res.returncode != 0:
        sys.exit(f"fathom-compile failed (exit {res.returncode}):\n  {' '.join(compile_cmd)}\n{res.stderr}")
    run_cmd = [run_bin, artifact, "--prompt-ids", ",".join(map(str, prompt)), "--max-new-tokens",
               str(a.new_tokens), "--no-eos", "--json", "--threads", str(a.threads)]
    shown = list(run_cmd)
    shown[3] = f"<{len(prompt)} ids>"
    log("fathom: " + " ".join(shown))
    samples, ids = [], None
    for i in range(a.repeat + 1):
        t0 = time.perf_counter()
        res = subprocess.run(run_cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if res.returncode != 0:
            sys.exit(f"fathom-run failed (exit {res.returncode}):\n  {' '.join(shown)}\n{res.stderr}{res.stdout}")
        out = json.loads(res.stdout)
        if out["generated_tokens"] != a.new_tokens:
            sys.exit(f"fathom-run generated {out['generated_tokens']} tokens, expected {a.new_tokens}")
        run_ids = out["ids"][0]
        if ids is not None and run_ids != ids:
            log("fathom: WARNING: greedy ids differ between runs")
        ids = run_ids
        s = dict(prefill_s=out["prefill_seconds"], decode_s=out["decode_seconds"],
                 prefill_tps=out["prompt_tokens_per_second"], decode_tps=out["generated_tokens_per_second"],
                 process_wall_s=wall)
        log(f"fathom: {'warm-up' if i == 0 else f'run {i}'}: prefill {s['prefill_tps']:.1f} tok/s, "
            f"decode {s['decode_tps']:.2f} tok/s, process wall {wall:.2f} s")
        if i > 0:
            samples.append(s)
    return dict(name="fathom", compile_seconds=compile_s, artifact_bytes=os.path.getsize(artifact),
                compile_command=" ".join(compile_cmd), run_command=" ".join(shown), samples=samples, ids=ids,
                **summarize(samples))


def summarize(samples, keys=("prefill_tps", "decode_tps")):
    out = {}
    for k in keys:
        v = [s[k] for s in samples if s.get(k) is not None]
        if v:
            out[f"best_{k}"] = max(v)
            out[f"median_{k}"] = statistics.median(v)
    return out


# ----------------------------------------------------------------------------------------------------------
# transformers


def run_hf(a, torch, ckpt, prompt, variant):
    from transformers import DeepseekV3ForCausalLM, DynamicCache

    dtype = torch.bfloat16 if a.dtype == "bf16" else torch.float32
    kw = {}
    if variant != "default":
        attn, experts = variant.split(":")
        kw = dict(attn_implementation=attn, experts_implementation=experts)
    model, info = DeepseekV3ForCausalLM.from_pretrained(ckpt, dtype=dtype, output_loading_info=True, **kw)
    bad = {k: v for k, v in info.items() if v}
    if bad:
        sys.exit(f"{ckpt}: loading problems: {bad}")
    model.eval()
    model.generation_config.eos_token_id = None  # generate exactly G tokens, no eos suppression either
    model.generation_config.pad_token_id = 0
    resolved = f"attn={model.config._attn_implementation}, experts={model.config._experts_implementation}"
    log(f"hf[{variant}]: {resolved}")
    G = a.new_tokens
    input_ids = torch.tensor([prompt], dtype=torch.long)

    def prefill():
        cache = DynamicCache(config=model.config)
        t0 = time.perf_counter()
        out = model(input_ids=input_ids, past_key_values=cache, use_cache=True, logits_to_keep=1)
        return time.perf_counter() - t0, out, cache

    def greedy():
        pre_s, out, cache = prefill()
        tok = out.logits[:, -1, :].argmax(-1)
        ids = [int(tok)]
        t0 = time.perf_counter()
        for _ in range(G - 1):
            out = model(input_ids=tok[:, None], past_key_values=cache, use_cache=True)
            tok = out.logits[:, -1, :].argmax(-1)
            ids.append(int(tok))
        return pre_s, time.perf_counter() - t0, ids

    def generate():
        t0 = time.perf_counter()
        seq = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), max_new_tokens=G,
                             do_sample=False)
        return time.perf_counter() - t0, seq[0, input_ids.shape[1]:].tolist()

    samples, ids, gen_ids = [], None, None
    with torch.inference_mode():
        for i in range(a.repeat + 1):
            pre_s, dec_s, run_ids = greedy()
            s = dict(prefill_s=pre_s, decode_s=dec_s, prefill_tps=len(prompt) / pre_s,
                     decode_tps=(G - 1) / dec_s if G > 1 else None)
            if not a.no_generate:
                s["generate_s"], gen_ids = generate()
            if ids is not None and run_ids != ids:
                log(f"hf[{variant}]: WARNING: greedy ids differ between runs")
            ids = run_ids
            log(f"hf[{variant}]: {'warm-up' if i == 0 else f'run {i}'}: prefill {s['prefill_tps']:.1f} tok/s, "
                f"decode {s['decode_tps'] or 0:.2f} tok/s" +
                ("" if a.no_generate else f", generate() {s['generate_s']:.2f} s"))
            if i > 0:
                samples.append(s)
    res = dict(name=f"hf {variant}", variant=variant, resolved=resolved, samples=samples, ids=ids,
               **summarize(samples))
    if not a.no_generate and G > 1:
        best_pre = min(s["prefill_s"] for s in samples)
        for s in samples:
            s["generate_decode_tps"] = (G - 1) / max(s["generate_s"] - best_pre, 1e-9)
        res.update(summarize(samples, ("generate_decode_tps",)))
        res["best_generate_s"] = min(s["generate_s"] for s in samples)
        res["generate_ids_equal_loop_ids"] = gen_ids == ids
        if gen_ids != ids:
            log(f"hf[{variant}]: WARNING: generate() ids differ from the manual greedy loop's")
    del model
    return res


# ----------------------------------------------------------------------------------------------------------
# report


def divergence(a_ids, b_ids):
    if a_ids == b_ids:
        return "yes"
    for k, (x, y) in enumerate(zip(a_ids, b_ids)):
        if x != y:
            return f"no (first divergence at step {k}: {x} vs {y})"
    return f"no (lengths {len(a_ids)} vs {len(b_ids)})"


def machine_info():
    model = platform.processor() or "?"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        rev += "+dirty" if dirty else ""
    except OSError:
        rev = "?"
    return dict(cpu=model, cpus=os.cpu_count(), git=rev)


def fmt(x, nd=1):
    return "-" if x is None else f"{x:,.{nd}f}"


def print_table(a, info, fathom, hf):
    machine, lb, la = info["machine"], info["loadavg_before"], info["loadavg_after"]
    print(f"\nFathom vs transformers {info['transformers']} (torch {info['torch']}), CPU: {machine['cpu']}, "
          f"{machine['cpus']} CPUs, fathom git {machine['git']}")
    print(f"model: random deepseek_v3, {info['parameters'] / 1e6:.1f}M params, hidden {a.hidden}, {a.layers} layers "
          f"({a.first_k_dense} dense), {a.experts} experts top-{a.experts_per_tok} + {a.shared_experts} shared, "
          f"vocab {a.vocab}; checkpoint bf16 at {info['checkpoint']}")
    print(f"run: dtype {a.dtype}, fathom --quantize {a.quantize}, prompt {a.prompt_tokens} tokens, {a.new_tokens} new tokens (greedy, no eos), "
          f"{a.threads} threads, best of {a.repeat} after 1 warm-up; load average {lb[0]:.2f} before, "
          f"{la[0]:.2f} after")
    best_pre = max(hf, key=lambda r: r["best_prefill_tps"]) if hf else None
    best_dec = max(hf, key=lambda r: r["best_decode_tps"]) if hf else None
    rows = [("prefill tok/s", "best_prefill_tps", best_pre), ("decode tok/s", "best_decode_tps", best_dec)]
    print(f"\n{'':16}{'Fathom':>12}{'HF (fastest)':>14}{'Fathom/HF':>11}  HF variant")
    for label, key, h in rows:
        f_v = fathom[key] if fathom else None
        h_v = h[key] if h else None
        ratio = f"{f_v / h_v:.2f}x" if f_v and h_v else "-"
        variant = f"{h['name']} ({h['resolved']})" if h else "-"
        print(f"{label:16}{fmt(f_v, 2):>12}{fmt(h_v, 2):>14}{ratio:>11}  {variant}")
    if hf:
        print("\nHF variants (best of runs):")
        for r in hf:
            line = (f"  {r['name']:20} {r['resolved']:34} prefill {fmt(r['best_prefill_tps'], 2):>9} tok/s, "
                    f"decode loop {fmt(r['best_decode_tps'], 2):>7} tok/s")
            if "best_generate_decode_tps" in r:
                line += (f", generate() {r['best_generate_s']:.2f} s -> decode "
                         f"{fmt(r['best_generate_decode_tps'], 2)} tok/s")
            print(line)
    if fathom:
        print(f"\nFathom: compile {fathom['compile_seconds']:.1f} s, "
              f"artifact {fathom['artifact_bytes'] / 2**20:.0f} MiB; "
              f"prefill median {fmt(fathom['median_prefill_tps'], 2)} tok/s, "
              f"decode median {fmt(fathom['median_decode_tps'], 2)} tok/s")
        for r in hf:
            print(f"greedy ids identical ({a.dtype}, fathom vs {r['name']}): {divergence(fathom['ids'], r['ids'])}")


def main():
    a = parse_args()
    if a.new_tokens < 2:
        sys.exit("--new-tokens must be at least 2 (decode = new tokens - 1 steps)")
    import torch

    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    machine = machine_info()
    load_before = os.getloadavg()
    ckpt, spec = ensure_checkpoint(a, torch)
    n_params = parameter_count(ckpt)
    gen = torch.Generator().manual_seed(a.seed + 1)
    prompt = torch.randint(3, a.vocab, (a.prompt_tokens,), generator=gen).tolist()

    fathom = None if a.skip_fathom else run_fathom(a, ckpt, prompt)
    variants = [v.strip() for v in a.hf_impls.split(",") if v.strip()]
    hf = [] if a.skip_hf else [run_hf(a, torch, ckpt, prompt, v) for v in variants]

    load_after = os.getloadavg()

    info = dict(machine=machine, torch=torch.__version__, transformers=transformers.__version__, model_spec=spec,
                parameters=n_params, checkpoint=ckpt, dtype=a.dtype, prompt_tokens=a.prompt_tokens,
                new_tokens=a.new_tokens, threads=a.threads, repeat=a.repeat, prompt_ids=prompt,
                loadavg_before=load_before, loadavg_after=load_after, command=" ".join(sys.argv))
    # with --json -, stdout carries only the JSON and the table goes to stderr
    with contextlib.redirect_stdout(sys.stderr if a.json == "-" else sys.stdout):
        print_table(a, info, fathom, hf)
    if a.json:
        report = dict(info, fathom=fathom, hf=hf,
                      greedy_ids_identical={r["name"]: divergence(fathom["ids"], r["ids"])
                                            for r in hf} if fathom else {})
        text = json.dumps(report, indent=1)
        if a.json == "-":
            print(text)
        else:
            with open(a.json, "w") as f:
                f.write(text + "\n")


if __name__ == "__main__":
    main()
