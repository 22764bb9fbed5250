#!/usr/bin/env python3
"""Long-context decode with and without MLA absorption: the same random DeepSeek-V3 checkpoint as
bench_vs_hf.py, compiled twice - the default pipeline (fathom-mla-absorption: the cache holds one
compressed latent per token and decode attends in the latent space) and with
--disable-pass fathom-mla-absorption (a per-head K/V cache, decode decompresses nothing but reads
H times more cache) - then decoded at each --contexts length, batch 1. A benchmark, not a test.

    python3 tools/bench/e2e/bench_long_context.py [--contexts 512,4096] [--new-tokens 65]
                                                  [--dtype bf16|fp32] [--repeat 3] [--json FILE]

Per context C: prompt = C - G random ids, G new tokens (greedy, no eos), so the last decode step
attends C - 1 keys. For each variant:
  fathom-compile CKPT -o X.fathom --dtype D --max-seq-len C --max-batch 1 [--disable-pass ...]
  fathom-compile CKPT --report --json (same flags): the KV cache bytes per token
  fathom-run X.fathom --prompt-ids ... --max-new-tokens G --no-eos --json --threads T
    (one warm-up, then R runs; decode tok/s = (G - 1) / decode_seconds, timed in-process)
KV bytes read per decode token = cache bytes per token x keys attended, averaged over the G - 1
timed steps. The machine's read bandwidth is measured in the same run
(cpu_kernels_bench --benchmark_filter=BM_ReadBandwidth), and the table gives the KV traffic's
share of it.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_vs_hf as common  # noqa: E402

VARIANTS = [("absorbed", []), ("per-head", ["--disable-pass", "fathom-mla-absorption"])]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_model_args(p)
    r = p.add_argument_group("run")
    r.add_argument("--contexts", default="512,4096", help="comma-separated total sequence lengths")
    r.add_argument("--new-tokens", type=int, default=65, help="tokens generated per run (G - 1 timed steps)")
    r.add_argument("--dtype", choices=["bf16", "fp32"], default="bf16")
    r.add_argument("--threads", type=int, default=os.cpu_count())
    r.add_argument("--repeat", type=int, default=3, help="timed runs after one warm-up")
    r.add_argument("--build-dir", default=os.path.join(common.REPO, "build"))
    r.add_argument("--cache-dir", default="/tmp/fathom-bench-v3")
    r.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    a = p.parse_args()
    a.contexts = [int(c) for c in a.contexts.split(",") if c.strip()]
    if a.new_tokens < 2:
        sys.exit("--new-tokens must be at least 2")
    for c in a.contexts:
        if c <= a.new_tokens:
            sys.exit(f"--contexts: {c} leaves no prompt for {a.new_tokens} new tokens")
        if c > a.max_pos:
            sys.exit(f"--contexts: {c} exceeds --max-pos {a.max_pos}")
    return a


def read_bandwidth(a):
    bench = os.path.join(a.build_dir, "bin", "cpu_kernels_bench")
    if not os.path.exists(bench):
        common.log(f"{bench} not found (ninja cpu_kernels_bench): bandwidth not measured")
        return None
    env = dict(os.environ, FATHOM_BENCH_THREADS=str(a.threads))
    res = subprocess.run([bench, "--benchmark_filter=BM_ReadBandwidth", "--benchmark_format=json",
                          "--benchmark_repetitions=3"], capture_output=True, text=True, env=env)
    if res.returncode != 0:
        sys.exit(f"cpu_kernels_bench failed:\n{res.stderr}")
    rates = [b["GB/s"] for b in json.loads(res.stdout)["benchmarks"] if b.get("run_type") == "iteration"]
    return max(rates) / 1e9


def fathom(cmd):
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"{cmd[0]} failed (exit {res.returncode}):\n{res.stderr}{res.stdout[-2000:]}")
    return res.stdout


def run_variant(a, ckpt, context, prompt, name, flags):
    art_dir = os.path.join(a.cache_dir, "artifacts")
    os.makedirs(art_dir, exist_ok=True)
    artifact = os.path.join(art_dir, f"{os.path.basename(ckpt)}-{a.dtype}-c{context}-{name}.fathom")
    compile_bin = os.path.join(a.build_dir, "bin", "fathom-compile")
    base = [compile_bin, ckpt, "--dtype", a.dtype, "--max-seq-len", str(context), "--max-batch", "1", *flags]
    report = json.loads(fathom(base + ["--report", "--json"]))
    fathom(base + ["-o", artifact, "--quiet"])
    run = [os.path.join(a.build_dir, "bin", "fathom-run"), artifact, "--prompt-ids", ",".join(map(str, prompt)),
           "--max-new-tokens", str(a.new_tokens), "--no-eos", "--json", "--threads", str(a.threads)]
    samples, ids = [], None
    for i in range(a.repeat + 1):
        out = json.loads(fathom(run))
        ids = out["ids"][0]
        tps = out["generated_tokens_per_second"]
        common.log(f"context {context} {name}: {'warm-up' if i == 0 else f'run {i}'}: "
                   f"prefill {out['prompt_tokens_per_second']:.1f} tok/s, decode {tps:.2f} tok/s")
        if i > 0:
            samples.append(dict(prefill_tps=out["prompt_tokens_per_second"], decode_tps=tps))
    kv_per_token = report["kv_cache"]["bytes_per_token"]
    # Decode step k (k = 1 .. G-1) runs at position P + k - 1 and attends P + k keys.
    P, G = len(prompt), a.new_tokens
    mean_keys = statistics.mean(P + k for k in range(1, G))
    decode = [s["decode_tps"] for s in samples]
    return dict(variant=name, flags=flags, kv_bytes_per_token=kv_per_token,
                kv_cache_bytes=report["kv_cache"]["bytes_at_limits"],
                decode_weight_bytes=next(e["weight_bytes"] for e in report["entry_points"] if e["name"] == "decode"),
                kv_bytes_read_per_decode_token=kv_per_token * mean_keys, mean_keys_attended=mean_keys,
                best_decode_tps=max(decode), median_decode_tps=statistics.median(decode),
                best_prefill_tps=max(s["prefill_tps"] for s in samples), samples=samples, ids=ids)


def main():
    a = parse_args()
    import torch

    ckpt, spec = common.ensure_checkpoint(a, torch)
    machine = common.machine_info()
    bandwidth = read_bandwidth(a)
    results = []
    for context in a.contexts:
        gen = torch.Generator().manual_seed(a.seed + context)
        prompt = torch.randint(3, a.vocab, (context - a.new_tokens,), generator=gen).tolist()
        rows = [run_variant(a, ckpt, context, prompt, name, flags) for name, flags in VARIANTS]
        results.append(dict(context=context, prompt_tokens=len(prompt), variants=rows,
                            greedy_ids_identical=common.divergence(rows[0]["ids"], rows[1]["ids"])))

    print(f"Fathom long-context decode, fathom git {machine['git']}, CPU: {machine['cpu']}, {machine['cpus']} CPUs, "
          f"{a.threads} threads, dtype {a.dtype}, batch 1, {a.new_tokens} new tokens, best of {a.repeat}")
    print("read bandwidth: " + (f"{bandwidth:.1f} GB/s (cpu_kernels_bench BM_ReadBandwidth, same run)"
                                if bandwidth else "not measured"))
    print(f"{'context':>8} {'variant':>9} {'KV B/token':>11} {'KV MB read/step':>16} {'decode tok/s':>13} "
          f"{'KV GB/s':>8} {'of DRAM':>8} {'prefill tok/s':>14}")
    for r in results:
        for v in r["variants"]:
            kv_rate = v["kv_bytes_read_per_decode_token"] * v["best_decode_tps"] / 1e9
            share = f"{100 * kv_rate / bandwidth:.0f}%" if bandwidth else "-"
            print(f"{r['context']:>8} {v['variant']:>9} {v['kv_bytes_per_token']:>11,} "
                  f"{v['kv_bytes_read_per_decode_token'] / 1e6:>16.1f} {v['best_decode_tps']:>13.2f} "
                  f"{kv_rate:>8.2f} {share:>8} {v['best_prefill_tps']:>14.1f}")
        ab, ph = r["variants"]
        print(f"{r['context']:>8} absorbed / per-head decode: {ab['best_decode_tps'] / ph['best_decode_tps']:.2f}x; "
              f"greedy ids identical: {r['greedy_ids_identical']}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(machine=machine, model_spec=spec, dtype=a.dtype, threads=a.threads,
                           new_tokens=a.new_tokens, repeat=a.repeat, read_bandwidth_gbps=bandwidth,
                           results=results, command=" ".join(sys.argv)), f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
