#!/usr/bin/env python3
"""Times `fathom-compile --report` on DeepSeek-V3's published config (no weights) for sharded
layouts, and measures its peak memory (the child's max RSS). Issue 14 asks for tp8 x ep16 in
under 30 s and 4 GB; prints one line per layout, --json for scripts.

    ninja -C build fathom-compile
    python3 tools/bench/shard/bench_shard_report.py [--layouts 1x1,8x16,16x16] [--repeat 3]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def run_once(compile_tool, config, tp, ep, device_memory):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.monotonic()
    out = subprocess.run([compile_tool, config, "--tp", str(tp), "--ep", str(ep), "--report",
                          "--json", "--device-memory", device_memory],
                         check=True, capture_output=True, text=True).stdout
    seconds = time.monotonic() - start
    # ru_maxrss of children is the largest of any child so far (kB): grows only.
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return seconds, peak * 1024, json.loads(out)["ranks"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--config", default=os.path.join(ROOT, "test/lit/pipeline/Inputs/deepseek-v3"))
    parser.add_argument("--layouts", default="1x1,8x16", help="TPxEP,...")
    parser.add_argument("--device-memory", default="80GB")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    tool = os.path.join(args.build, "bin", "fathom-compile")
    results = []
    for layout in args.layouts.split(","):
        tp, ep = (int(x) for x in layout.split("x"))
        times, peak, ranks = [], 0, None
        for _ in range(args.repeat):
            seconds, rss, ranks = run_once(tool, args.config, tp, ep, args.device_memory)
            times.append(seconds)
            peak = max(peak, rss)
        best = min(times)
        results.append({"tp": tp, "ep": ep, "seconds": best, "peak_rss_bytes": peak, **ranks})
        print(f"tp{tp} x ep{ep}: {best:.1f} s (best of {args.repeat}), peak RSS {peak / 1e9:.2f} GB, "
              f"{ranks['bytes_per_rank'] / 1e9:.1f} GB per rank on {ranks['world_size']} x "
              f"{args.device_memory}: {'fits' if ranks.get('fits') else 'does not fit'}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
