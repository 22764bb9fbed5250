#!/usr/bin/env python3
"""One DeepSeek MoE layer, side by side in one sitting: Fathom's expert-grouped GEMMs and its
per-expert form (build/bin/fathom-moe-bench, the CPU backend's kernels) against transformers'
DeepseekV3MoE with its `eager` and `grouped_mm` experts implementations.

Shape: 64 routed experts, top-6, hidden 2048, moe_intermediate 1408, 2 shared experts, bf16, at 1, 16
and 256 tokens; torch and Fathom both use --threads threads (default: all cores). Each side runs the
whole layer: router GEMM and top-k, experts, weighted combine, shared experts. (Fathom's bench routes
with softmax top-k, V3 with sigmoid plus bias and groups; routing is well under 1% of the layer.)

    ninja -C build fathom-moe-bench
    python3 tools/bench/moe/bench_moe_layer.py [--threads N] [--repeat 5] [--json FILE]
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TOKENS = [1, 16, 256]


def fathom_times(binary, threads, repeat):
    env = dict(os.environ, FATHOM_BENCH_THREADS=str(threads))
    out = subprocess.run([binary, "--benchmark_format=json", f"--benchmark_repetitions={repeat}",
                          "--benchmark_report_aggregates_only=true"], env=env, check=True,
                         capture_output=True, text=True).stdout
    times = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name, tokens = b["run_name"].split("/")[:2]
        form = "grouped" if "Grouped" in name else "per_expert"
        scale = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9}[b["time_unit"]]
        times[(form, int(tokens))] = b["real_time"] * scale
    return times


def hf_times(threads, repeat):
    import torch
    from transformers import DeepseekV3Config
    from transformers.models.deepseek_v3.modeling_deepseek_v3 import DeepseekV3MoE

    torch.set_num_threads(threads)
    times = {}
    for impl in ("eager", "grouped_mm"):
        config = DeepseekV3Config(hidden_size=2048, moe_intermediate_size=1408, n_routed_experts=64,
                                  num_experts_per_tok=6, n_shared_experts=2, n_group=1, topk_group=1,
                                  norm_topk_prob=True, routed_scaling_factor=1.0)
        config._experts_implementation = impl
        torch.manual_seed(0)
        layer = DeepseekV3MoE(config).to(torch.bfloat16).eval()
        with torch.no_grad():
            for p in layer.parameters():
                p.normal_(0, 0.02)
            for tokens in TOKENS:
                x = torch.randn(1, tokens, 2048, dtype=torch.bfloat16)
                layer(x)  # warm up
                samples = []
                for _ in range(repeat):
                    start = time.perf_counter()
                    layer(x)
                    samples.append(time.perf_counter() - start)
                times[(impl, tokens)] = sorted(samples)[len(samples) // 2]
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--binary", default=os.path.join(ROOT, "build", "bin", "fathom-moe-bench"))
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"bench_moe_layer: {args.binary} not found (ninja -C build fathom-moe-bench)")
    ours = fathom_times(args.binary, args.threads, args.repeat)
    hf = hf_times(args.threads, args.repeat)
    rows = []
    print(f"MoE layer (64 experts, top-6, hidden 2048, inter 1408, 2 shared, bf16, {args.threads} threads), "
          "median ms per call")
    print(f"{'tokens':>6} {'grouped':>9} {'per-expert':>10} {'HF eager':>9} {'HF grouped_mm':>13}"
          f" {'vs eager':>8} {'vs grouped_mm':>13}")
    for t in TOKENS:
        g, p = ours[("grouped", t)], ours[("per_expert", t)]
        e, m = hf[("eager", t)], hf[("grouped_mm", t)]
        rows.append({"tokens": t, "grouped_s": g, "per_expert_s": p, "hf_eager_s": e, "hf_grouped_mm_s": m})
        print(f"{t:>6} {g * 1e3:>9.2f} {p * 1e3:>10.2f} {e * 1e3:>9.2f} {m * 1e3:>13.2f} {e / g:>7.2f}x {m / g:>12.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
