#!/usr/bin/env python3
"""Perplexity of Fathom artifacts of the trained demo model (tools/demo/kjv-v3) on text it was not
trained on: Revelation 6:9-22:21, the verses train_demo_model.py holds out (Debian's bible-kjv
package provides the text). One artifact per storage format (--quantize none | fp8 | int4), compiled
with the same --dtype; each is fed the same windows of tokens (BOS first, up to --window tokens)
through `fathom-run --prompt-ids ... --max-new-tokens 1 --dump-logits`, and the negative
log-likelihood of every next token is summed in float64. Also prints each artifact's weight
bytes (fathom-compile --report --json).

    ninja -C build fathom-compile fathom-run fathom-tokenize
    python3 tools/bench/quality/perplexity.py [--dtype bf16] [--formats none,fp8,int4] [--json FILE]
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
from safetensors.numpy import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.join(ROOT, "build", "bin")
MODEL = os.path.join(ROOT, "tools", "demo", "kjv-v3")
HELD_OUT = "rev6:9-rev22:21"
BOS = 0


def held_out_text():
    try:
        out = subprocess.run(["bible", "-f", HELD_OUT], check=True, capture_output=True, text=True).stdout
    except FileNotFoundError:
        sys.exit("perplexity: the `bible` command is missing (apt-get install bible-kjv)")
    # "Rev6:9 And when ..." -> the verse text, one verse per line, as the training corpus holds it.
    return [re.sub(r"^\S+\d+:\d+\s+", "", line).strip() for line in out.splitlines() if line.strip()]


def tokenize(lines):
    """The verses one per line, as the training corpus holds them, in one token stream."""
    stdin = "".join(json.dumps({"text": line + "\n"}) + "\n" for line in lines)
    out = subprocess.run([os.path.join(BIN, "fathom-tokenize"), MODEL], input=stdin, check=True,
                         capture_output=True, text=True).stdout
    return [i for row in out.splitlines() for i in json.loads(row)["ids"]]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dtype", default="bf16")
    parser.add_argument("--formats", default="none,fp8,int4")
    parser.add_argument("--window", type=int, default=256)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    lines = held_out_text()
    ids = tokenize(lines)
    windows = [ids[i:i + args.window - 1] for i in range(0, len(ids), args.window - 1)]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats.split(","):
            artifact = os.path.join(tmp, f"kjv-{fmt}.fathom")
            common = [MODEL, "--dtype", args.dtype, "--quantize", fmt, "--max-seq-len", str(args.window)]
            subprocess.run([os.path.join(BIN, "fathom-compile"), *common, "-o", artifact, "--quiet"], check=True)
            report = json.loads(subprocess.run([os.path.join(BIN, "fathom-compile"), *common, "--report", "--json"],
                                               check=True, capture_output=True, text=True).stdout)
            nll, count = 0.0, 0
            for window in windows:
                prompt = [BOS] + window
                dump = os.path.join(tmp, "logits.safetensors")
                subprocess.run([os.path.join(BIN, "fathom-run"), artifact, "--prompt-ids",
                                ",".join(map(str, prompt)), "--max-new-tokens", "1", "--dump-logits", dump],
                               check=True, capture_output=True)
                logits = load_file(dump)["prefill"][0].astype(np.float64)  # [tokens, vocab]
                logits -= logits.max(axis=1, keepdims=True)
                logprobs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
                targets = np.array(prompt[1:])
                nll -= logprobs[np.arange(len(targets)), targets].sum()
                count += len(targets)
            ppl = math.exp(nll / count)
            results.append({"quantize": fmt, "dtype": args.dtype, "tokens": count, "perplexity": ppl,
                            "weight_bytes": report["stored_weight_bytes"]})
    base = results[0]["perplexity"]
    print(f"kjv-v3 on held-out {HELD_OUT} ({results[0]['tokens']} tokens, windows of {args.window}), {args.dtype}")
    print(f"{'quantize':>8} {'perplexity':>10} {'vs first':>8} {'weight bytes':>12}")
    for r in results:
        print(f"{r['quantize']:>8} {r['perplexity']:>10.4f} {100 * (r['perplexity'] / base - 1):>+7.2f}% "
              f"{r['weight_bytes']:>12,}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
