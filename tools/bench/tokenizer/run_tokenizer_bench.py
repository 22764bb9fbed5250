#!/usr/bin/env python3
"""Encode throughput of Fathom's tokenizer next to Hugging Face tokenizers, on the same texts in the
same run. A benchmark, not a test (see tools/bench/README.md).

    python3 tools/bench/tokenizer/run_tokenizer_bench.py [--build-dir build] [--repeat 5]

Texts: the King James Bible (Debian bible-kjv: `bible -f 'gen1:1-rev22:21'`, ~4.4 MB of English)
and ~4 MB of seeded mixed-script Unicode. Each is encoded as one string ("whole") and line by line
("lines"). HF is measured with `tokenizers.Tokenizer.from_file` (never transformers' AutoTokenizer)
and add_special_tokens=False, like Fathom's encode(text). For "lines", HF runs both a sequential
Python loop of encode() (comparable with Fathom, one thread) and encode_batch() (Rust threads, for
reference). The ids of both implementations are compared by digest; any difference is reported.
Python is only the driver and the reference here, never part of Fathom.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def fnv1a64_of_ids(ids):
    digest = 0xCBF29CE484222325
    for byte in ",".join(map(str, ids)).encode("ascii"):
        digest ^= byte
        digest = (digest * 0x100000001B3) % (1 << 64)
    return f"{digest:016x}"


def mixed_unicode_text(target_bytes, seed=1234):
    rng = random.Random(seed)
    palettes = [
        "The quick brown fox jumps over the lazy dog and keeps running".split(),
        ["中文", "文本", "测试", "我们", "今天", "天气", "很好", "日本語", "テキスト", "ひらがな"],
        ["привет", "мир", "текст", "Γειά", "σου", "κόσμε", "مرحبا", "بالعالم", "नमस्ते", "दुनिया"],
        ["🚀", "😀", "👍🏽", "👨‍👩‍👧", "🇯🇵", "❤️", "✓", "→", "€", "©"],
        ["2024", "3.14159", "42", "1,000,000", "0x1F", "١٢٣", "٤٥"],
        [".", ",", "!", "?", ";", ":", "(", ")", "\"", "—", "…", "、", "。"],
    ]
    parts, size = [], 0
    while size < target_bytes:
        word = rng.choice(rng.choice(palettes))
        separator = rng.choice([" ", " ", " ", " ", "", "\n", "  ", "\t"])
        parts.append(word + separator)
        size += len(parts[-1].encode("utf-8"))
    return "".join(parts)


def best_of(repeat, function):
    best, first, result = float("inf"), None, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        seconds = time.perf_counter() - start
        first = seconds if first is None else first
        best = min(best, seconds)
    return result, first, best


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build"))
    parser.add_argument("--tokenizer-dir",
                        default=os.path.join(os.path.dirname(REPO), "shared", "testdata", "tokenizers", "deepseek-v3"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--mixed-bytes", type=int, default=4_000_000)
    args = parser.parse_args()

    from tokenizers import Tokenizer  # the reference; only needed by this script

    bench = os.path.join(args.build_dir, "bin", "fathom-tokenizer-bench")
    if not os.path.exists(bench):
        sys.exit(f"{bench} not found: build the fathom-tokenizer-bench target first")
    with tempfile.TemporaryDirectory() as scratch:
        kjv = os.path.join(scratch, "kjv.txt")
        with open(kjv, "wb") as out:
            out.write(subprocess.run(["bible", "-f", "gen1:1-rev22:21"], check=True, capture_output=True).stdout)
        mixed = os.path.join(scratch, "mixed_unicode.txt")
        with open(mixed, "w", encoding="utf-8") as out:
            out.write(mixed_unicode_text(args.mixed_bytes))
        files = {"kjv": kjv, "mixed-unicode": mixed}

        fathom = json.loads(subprocess.run([bench, args.tokenizer_dir, *files.values(), "--repeat", str(args.repeat)],
                                           check=True, capture_output=True, text=True).stdout)
        start = time.perf_counter()
        hf = Tokenizer.from_file(os.path.join(args.tokenizer_dir, "tokenizer.json"))
        hf_load = time.perf_counter() - start

        print(f"tokenizer: {args.tokenizer_dir}")
        print(f"load: Fathom {fathom['load_seconds'] * 1e3:.0f} ms (tokenizer.json + tokenizer_config.json, best of 3), "
              f"HF {hf_load * 1e3:.0f} ms (tokenizer.json)")
        print(f"encode, best of {args.repeat}, MB = 10^6 bytes, add_special_tokens=False")
        header = f"{'text':<14} {'mode':<6} {'MB':>6} {'ids':>9} {'Fathom MB/s':>12} {'HF MB/s':>9} {'ratio':>7}  ids equal"
        print(header)
        print("-" * len(header))
        mismatches = 0
        for name, path in files.items():
            with open(path, encoding="utf-8") as file:
                text = file.read()
            lines = text.split("\n")
            size = len(text.encode("utf-8"))
            hf_runs = {
                "whole": lambda: hf.encode(text, add_special_tokens=False).ids,
                "lines": lambda: [i for line in lines for i in hf.encode(line, add_special_tokens=False).ids],
            }
            for mode, run in hf_runs.items():
                ours = next(r for r in fathom["files"] if r["path"] == path and r["mode"] == mode)
                ids, _, best = best_of(args.repeat, run)
                equal = fnv1a64_of_ids(ids) == ours["ids_fnv1a64"] and len(ids) == ours["ids"]
                mismatches += not equal
                hf_rate = size / best / 1e6
                print(f"{name:<14} {mode:<6} {size / 1e6:>6.2f} {ours['ids']:>9} {ours['best_mb_per_s']:>12.1f} "
                      f"{hf_rate:>9.1f} {ours['best_mb_per_s'] / hf_rate:>6.1f}x  {'yes' if equal else 'NO'}")
            batch_ids, _, best = best_of(args.repeat, lambda: [
                i for encoding in hf.encode_batch(lines, add_special_tokens=False) for i in encoding.ids])
            threads = os.environ.get("RAYON_NUM_THREADS", str(os.cpu_count()))
            print(f"{'':<14} (HF encode_batch over lines, {threads} threads: {size / best / 1e6:.1f} MB/s)")
        return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
