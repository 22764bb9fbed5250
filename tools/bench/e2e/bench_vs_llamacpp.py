#!/usr/bin/env python3
"""Fathom against llama.cpp on the same checkpoint in one sitting (CPU): decode and prefill tokens/s of
Fathom bf16, fp8 and int4 artifacts next to llama.cpp's bf16, Q8_0 and Q4_0 GGUF files, and each decode's weight
traffic against the DRAM read bandwidth measured in the same run.

  1. The random DeepSeek-V3 checkpoint of bench_vs_hf.py (same model options, same cache).
  2. llama.cpp from PyPI's llama-cpp-python sdist (`pip download --no-deps --no-binary :all:
     llama-cpp-python`, vendor/llama.cpp), built CPU-only with GGML_NATIVE: llama-bench, llama-quantize.
  3. convert_hf_to_gguf.py --outtype bf16, then llama-quantize to Q8_0 and Q4_0. The benchmark checkpoint
     has no tokenizer, so test/reference's tiny one (V3's pre-tokenizer, 512 tokens, padded to the vocab
     by the converter) is copied in; llama-bench feeds token ids, so it never matters.
  4. llama-bench -p P -n G -t T -r R (prefill of P tokens, then G decode steps) for each GGUF file.
  5. fathom-compile --dtype bf16 [--quantize fp8|int4] and fathom-run as bench_vs_hf.py runs them.
  6. cpu_kernels_bench --benchmark_filter=BM_ReadBandwidth: the pool's threads summing 1 GiB.
Weight bytes a decode step reads: every weight but the embedding table and the routed experts no token
chose (num_experts_per_tok of n_routed_experts), at the format's bytes per weight (bf16 2, fp8 1 + one f32
per 128x128 block, int4 1/2 + an f32 scale and a 4-bit zero per 128, Q8_0 34/32, Q4_0 18/32), the LM head
at the bytes it is stored in (bf16 in every Fathom artifact; Q8_0, or Q6_K's 210/256 for Q4_0).

    ninja -C build fathom-compile fathom-run cpu_kernels_bench
    python3 tools/bench/e2e/bench_vs_llamacpp.py [--threads N] [--repeat 3] [--json FILE]
"""
import glob
import json
import os
import subprocess
import sys
import tarfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_vs_hf as hfbench  # noqa: E402

REPO = hfbench.REPO
BYTES_PER_WEIGHT = {"bf16": 2.0, "fp8": 1.0 + 4.0 / (128 * 128), "int4": 0.5 + 4.5 / 128, "Q8_0": 34 / 32,
                    "Q4_0": 18 / 32}
# The LM head: Fathom keeps it bf16 in every format; llama-quantize stores output.weight as Q6_K
# (210 bytes per 256) for Q4_0 and as Q8_0 for Q8_0.
HEAD_BYTES_PER_WEIGHT = {"bf16": 2.0, "fp8": 2.0, "int4": 2.0, "Q8_0": 34 / 32, "Q4_0": 210 / 256}


def log(*a):
    print("[bench_vs_llamacpp]", *a, file=sys.stderr, flush=True)


def llama_cpp_source(cache):
    """The vendored llama.cpp of the newest llama-cpp-python sdist, downloaded and unpacked once:
    (its folder, the sdist's name)."""
    src = os.path.join(cache, "llama-cpp-python")
    if not glob.glob(os.path.join(src, "*.tar.gz")):
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        "llama-cpp-python", "-d", src], check=True)
    tarball = sorted(glob.glob(os.path.join(src, "*.tar.gz")))[-1]
    root = os.path.join(src, os.path.basename(tarball)[:-len(".tar.gz")])
    if not os.path.isdir(root):
        with tarfile.open(tarball) as t:
            t.extractall(src)
    return os.path.join(root, "vendor", "llama.cpp"), os.path.basename(root)


def convert_to_gguf(llama, hf_dir, out):
    """convert_hf_to_gguf.py --outtype bf16. The test tokenizers' pre-tokenizer is V3's, but its
    hash is not in the converter's table."""
    wrapper = ("import runpy, sys\n"
               f"sys.path[:0] = [{llama!r}, {os.path.join(llama, 'gguf-py')!r}]\n"
               "import conversion.base as base\n"
               "base.TextModel.get_vocab_base_pre = lambda self, tokenizer: 'deepseek-v3'\n"
               f"sys.argv = [{os.path.join(llama, 'convert_hf_to_gguf.py')!r}] + sys.argv[1:]\n"
               "runpy.run_path(sys.argv[0], run_name='__main__')\n")
    subprocess.run([sys.executable, "-c", wrapper, hf_dir, "--outtype", "bf16", "--outfile", out],
                   check=True, capture_output=True)


def llama_cpp(cache):
    """llama-bench and llama-quantize from llama_cpp_source(), built once."""
    llama, version = llama_cpp_source(cache)
    build = os.path.join(llama, "build")
    bins = {n: os.path.join(build, "bin", n) for n in ("llama-bench", "llama-quantize")}
    if not all(os.path.exists(b) for b in bins.values()):
        log(f"building llama.cpp in {build} (CPU only; several minutes on 2 cores)")
        subprocess.run(["cmake", "-S", llama, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                        "-DGGML_NATIVE=ON", "-DLLAMA_CURL=OFF", "-DGGML_CUDA=OFF", "-DLLAMA_BUILD_TESTS=OFF",
                        "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_SERVER=OFF"], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", build, "--target", "llama-bench", "llama-quantize"], check=True,
                       stdout=subprocess.DEVNULL)
    return llama, bins, version


def gguf_files(llama, bins, ckpt, cache):
    out = os.path.join(cache, "gguf-" + os.path.basename(ckpt))
    os.makedirs(out, exist_ok=True)
    files = {f: os.path.join(out, f"model-{f}.gguf") for f in ("bf16", "Q8_0", "Q4_0")}
    if not os.path.exists(files["bf16"]):
        hf_dir = os.path.join(out, "hf")
        os.makedirs(hf_dir, exist_ok=True)
        for name in ("config.json", "generation_config.json", "model.safetensors"):
            if not os.path.exists(os.path.join(hf_dir, name)):
                os.symlink(os.path.join(ckpt, name), os.path.join(hf_dir, name))
        tokenizer = os.path.join(REPO, "test", "reference", "checkpoints", "tiny-v3")
        for name in ("tokenizer.json", "tokenizer_config.json"):
            with open(os.path.join(tokenizer, name)) as src, open(os.path.join(hf_dir, name), "w") as dst:
                dst.write(src.read())
        log("converting to GGUF bf16")
        convert_to_gguf(llama, hf_dir, files["bf16"])
    for fmt in ("Q8_0", "Q4_0"):
        if not os.path.exists(files[fmt]):
            log(f"llama-quantize {fmt}")
            subprocess.run([bins["llama-quantize"], files["bf16"], files[fmt], fmt], check=True,
                           capture_output=True)
    return files


def llama_bench(binary, model, a):
    out = subprocess.run([binary, "-m", model, "-p", str(a.prompt_tokens), "-n", str(a.new_tokens), "-t",
                          str(a.threads), "-r", str(a.repeat), "-o", "json"], check=True, capture_output=True,
                         text=True).stdout
    rows = json.loads(out)
    prefill = next(r for r in rows if r["n_prompt"] > 0 and r["n_gen"] == 0)["avg_ts"]
    decode = next(r for r in rows if r["n_gen"] > 0 and r["n_prompt"] == 0)["avg_ts"]
    return prefill, decode


def read_bandwidth(a):
    binary = os.path.join(a.build_dir, "bin", "cpu_kernels_bench")
    env = dict(os.environ, FATHOM_BENCH_THREADS=str(a.threads))
    out = subprocess.run([binary, "--benchmark_filter=BM_ReadBandwidth", "--benchmark_format=json",
                          "--benchmark_repetitions=3", "--benchmark_report_aggregates_only=true"],
                         check=True, capture_output=True, text=True, env=env).stdout
    # The benchmark's "GB/s" counter is a rate in bytes per second.
    return max(b["GB/s"] for b in json.loads(out)["benchmarks"] if b.get("aggregate_name") == "median")


def decode_weights(spec, ckpt):
    """Weights one decode step reads (all but the embedding table and the unchosen routed experts), and how
    many of them are the LM head's."""
    total = hfbench.parameter_count(ckpt)
    expert = 3 * spec["hidden_size"] * spec["moe_intermediate_size"]
    moe_layers = spec["num_hidden_layers"] - spec["first_k_dense_replace"]
    unchosen = (spec["n_routed_experts"] - spec["num_experts_per_tok"]) * expert * moe_layers
    head = spec["vocab_size"] * spec["hidden_size"]
    return total - head - unchosen, head


def step_bytes(fmt, weights, head):
    return (weights - head) * BYTES_PER_WEIGHT[fmt] + head * HEAD_BYTES_PER_WEIGHT[fmt]


def main():
    a = hfbench.parse_args()
    import torch

    ckpt, spec = hfbench.ensure_checkpoint(a, torch)
    gen = torch.Generator().manual_seed(a.seed + 1)
    prompt = torch.randint(3, a.vocab, (a.prompt_tokens,), generator=gen).tolist()
    llama, bins, version = llama_cpp(a.cache_dir)
    files = gguf_files(llama, bins, ckpt, a.cache_dir)
    bandwidth = read_bandwidth(a)
    weights, head = decode_weights(spec, ckpt)
    rows = []
    for fmt in ("none", "fp8", "int4"):
        a.dtype, a.quantize = "bf16", fmt
        r = hfbench.run_fathom(a, ckpt, prompt)
        name = "bf16" if fmt == "none" else fmt
        rows.append(("Fathom " + name, name, r["best_prefill_tps"], r["best_decode_tps"]))
    for fmt, path in files.items():
        log(f"llama-bench {fmt}")
        prefill, decode = llama_bench(bins["llama-bench"], path, a)
        rows.append((f"llama.cpp {fmt}", fmt, prefill, decode))
    print(f"\nFathom vs llama.cpp ({version}), {a.threads} threads, prompt {a.prompt_tokens} + {a.new_tokens} "
          f"new tokens; read bandwidth {bandwidth / 1e9:.1f} GB/s; a decode step reads {weights / 1e6:.0f}M weights "
          f"({head / 1e6:.0f}M of them the LM head)")
    print(f"{'':16}{'prefill tok/s':>14}{'decode tok/s':>14}{'decode GB/s':>13}{'of DRAM':>9}")
    result = []
    for name, fmt, prefill, decode in rows:
        traffic = step_bytes(fmt, weights, head) * decode
        print(f"{name:16}{prefill:>14.1f}{decode:>14.2f}{traffic / 1e9:>13.2f}{100 * traffic / bandwidth:>8.0f}%")
        result.append(dict(name=name, format=fmt, prefill_tps=prefill, decode_tps=decode,
                           decode_bytes_per_second=traffic))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(llama_cpp=version, threads=a.threads, read_bandwidth=bandwidth,
                           decode_weights=weights, head_weights=head, rows=result), f, indent=1)


if __name__ == "__main__":
    main()
