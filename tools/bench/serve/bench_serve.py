#!/usr/bin/env python3
"""fathom-serve against llama.cpp's llama-server on the same checkpoint, under the same load, in one sitting.

  1. The random DeepSeek-V3 checkpoint of tools/bench/e2e/bench_vs_hf.py (same options, same cache), with
     a tokenizer whose vocabulary covers every id: test/reference's tiny one plus one plain added token
     "<tN>" per id past its 512, so that every generated token is text and both servers stream one event
     per token.
  2. fathom-compile --dtype bf16 --max-batch B --max-seq-len S; fathom-serve --threads T.
  3. llama.cpp from PyPI's llama-cpp-python sdist (as bench_vs_llamacpp.py), llama-server built CPU-only;
     the checkpoint converted to GGUF bf16; llama-server -np B -c B*S --cont-batching -t T.
  4. For each concurrency C (1, 4, 16): C clients, each streaming /v1/completions requests one after
     another (a prompt of random token ids of its own per request, the same ones for both servers,
     temperature 0, ignore_eos, max_tokens N) for --requests requests in all. Per request: time to first token (first event) and the mean gap between
     its later tokens; throughput = generated tokens / wall time. p50 and p99 over requests.

    ninja -C build fathom-compile fathom-serve
    python3 tools/bench/serve/bench_serve.py [--threads N] [--concurrency 1,4,16] [--requests 32] [--json FILE]
"""
import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import bench_vs_hf as hfbench  # noqa: E402
import bench_vs_llamacpp as llamabench  # noqa: E402

REPO = hfbench.REPO


def log(*a):
    print("[bench_serve]", *a, file=sys.stderr, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    hfbench.add_model_args(p)
    r = p.add_argument_group("run")
    r.add_argument("--threads", type=int, default=os.cpu_count())
    r.add_argument("--concurrency", default="1,4,16")
    r.add_argument("--requests", type=int, default=32, help="requests per concurrency level")
    r.add_argument("--prompt-tokens", type=int, default=64)
    r.add_argument("--new-tokens", type=int, default=32)
    r.add_argument("--max-batch", type=int, default=16)
    r.add_argument("--max-seq-len", type=int, default=256)
    r.add_argument("--skip-llama", action="store_true")
    r.add_argument("--build-dir", default=os.path.join(REPO, "build"))
    r.add_argument("--cache-dir", default="/tmp/fathom-bench-v3")
    r.add_argument("--json", metavar="FILE")
    return p.parse_args()


def serving_checkpoint(ckpt, vocab, cache):
    """The checkpoint's files next to a tokenizer covering its whole vocabulary."""
    out = os.path.join(cache, "serve-" + os.path.basename(ckpt))
    os.makedirs(out, exist_ok=True)
    for name in ("config.json", "generation_config.json", "model.safetensors"):
        if not os.path.exists(os.path.join(out, name)):
            os.symlink(os.path.join(ckpt, name), os.path.join(out, name))
    tiny = os.path.join(REPO, "test", "reference", "checkpoints", "tiny-v3")
    with open(os.path.join(tiny, "tokenizer.json")) as f:
        tokenizer = json.load(f)
    known = 1 + max([*tokenizer["model"]["vocab"].values(),
                     *(t["id"] for t in tokenizer.get("added_tokens", []))])
    for i in range(known, vocab):
        tokenizer["added_tokens"].append({"id": i, "content": f"<t{i}>", "single_word": False,
                                          "lstrip": False, "rstrip": False, "normalized": False,
                                          "special": False})
    with open(os.path.join(out, "tokenizer.json"), "w") as f:
        json.dump(tokenizer, f)
    with open(os.path.join(tiny, "tokenizer_config.json")) as src, \
            open(os.path.join(out, "tokenizer_config.json"), "w") as dst:
        dst.write(src.read())
    return out


def llama_server(cache):
    """llama-server from the same vendored llama.cpp as bench_vs_llamacpp.py, built once."""
    llama, version = llamabench.llama_cpp_source(cache)
    build = os.path.join(llama, "build-server")
    binary = os.path.join(build, "bin", "llama-server")
    if not os.path.exists(binary):
        log(f"building llama-server in {build} (CPU only; several minutes on 2 cores)")
        subprocess.run(["cmake", "-S", llama, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                        "-DGGML_NATIVE=ON", "-DLLAMA_CURL=OFF", "-DGGML_CUDA=OFF", "-DLLAMA_BUILD_TESTS=OFF",
                        "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_SERVER=ON"], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", build, "--target", "llama-server"], check=True,
                       stdout=subprocess.DEVNULL)
    return llama, binary, version


def gguf(llama, hf_dir, cache):
    out = os.path.join(cache, "gguf-" + os.path.basename(hf_dir) + "-bf16.gguf")
    if not os.path.exists(out):
        log("converting to GGUF bf16")
        llamabench.convert_to_gguf(llama, hf_dir, out)
    return out


def wait_ready(port, process, path="/health", timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", path)
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not become ready")


def one_request(port, prompt, new_tokens):
    """Streams one completion; returns (time to first token, token arrival times)."""
    body = {"prompt": prompt, "max_tokens": new_tokens, "temperature": 0, "ignore_eos": True,
            "stream": True}
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.perf_counter()
    c.request("POST", "/v1/completions", body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = c.getresponse()
    if r.status != 200:
        raise SystemExit(f"a request answered {r.status}: {r.read()[:200]}")
    arrivals = []
    while True:
        line = r.readline()
        if not line:
            break
        line = line.strip()
        if not line.startswith(b"data: "):
            continue
        if line == b"data: [DONE]":
            break
        chunk = json.loads(line[6:])
        if chunk.get("choices") and chunk["choices"][0].get("text"):
            arrivals.append(time.perf_counter())
    c.close()
    return start, arrivals


def load(port, prompts, concurrency, requests, new_tokens):
    results, lock, next_index = [], threading.Lock(), [0]
    first_prompt = load.used
    load.used += requests

    def client():
        while True:
            with lock:
                i = next_index[0]
                if i >= requests:
                    return
                next_index[0] += 1
            start, arrivals = one_request(port, prompts[(first_prompt + i) % len(prompts)], new_tokens)
            with lock:
                results.append((start, arrivals))

    wall = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - wall
    ttft = [a[0] - s for s, a in results if a]
    gaps = [(a[-1] - a[0]) / (len(a) - 1) for s, a in results if len(a) > 1]
    tokens = sum(len(a) for _, a in results)

    def pct(values, q):
        values = sorted(values)
        return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")

    return dict(concurrency=concurrency, requests=len(results), tokens=tokens, seconds=wall,
                throughput=tokens / wall, ttft_p50=statistics.median(ttft), ttft_p99=pct(ttft, 0.99),
                itl_p50=statistics.median(gaps), itl_p99=pct(gaps, 0.99))


def run_server(command, port, levels, prompts, a, name):
    log(name + ": " + " ".join(command))
    load.used = 0  # both servers see the same prompts in the same order
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(port, process)
        load(port, prompts, 1, 2, 4)  # warm-up
        rows = []
        for c in levels:
            log(f"{name}: {c} concurrent clients")
            rows.append(load(port, prompts, c, max(a.requests, c), a.new_tokens))
        return rows
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:  # llama-server may linger after SIGTERM
            process.kill()
            process.wait()


def main():
    a = parse_args()
    import torch

    levels = [int(c) for c in a.concurrency.split(",")]
    ckpt, spec = hfbench.ensure_checkpoint(a, torch)
    hf_dir = serving_checkpoint(ckpt, a.vocab, a.cache_dir)
    gen = torch.Generator().manual_seed(a.seed + 2)
    # A prompt of its own per request: llama-server reuses a slot's cached prefix (cache_prompt), which
    # repeated prompts would turn into a prefix-cache benchmark.
    count = 2 + sum(max(a.requests, c) for c in levels)
    prompts = [torch.randint(3, a.vocab, (a.prompt_tokens,), generator=gen).tolist() for _ in range(count)]
    artifact = os.path.join(a.cache_dir, f"serve-b{a.max_batch}-s{a.max_seq_len}.fathom")
    bin_dir = os.path.join(a.build_dir, "bin")
    subprocess.run([os.path.join(bin_dir, "fathom-compile"), hf_dir, "-o", artifact, "--dtype", "bf16",
                    "--max-batch", str(a.max_batch), "--max-seq-len", str(a.max_seq_len), "--quiet"], check=True)
    results = {"fathom-serve": run_server(
        [os.path.join(bin_dir, "fathom-serve"), artifact, "--port", "8391", "--threads", str(a.threads)],
        8391, levels, prompts, a, "fathom-serve")}
    version = None
    if not a.skip_llama:
        llama, binary, version = llama_server(a.cache_dir)
        model = gguf(llama, hf_dir, a.cache_dir)
        results["llama-server"] = run_server(
            [binary, "-m", model, "--port", "8392", "-t", str(a.threads), "-np", str(a.max_batch), "-c",
             str(a.max_batch * a.max_seq_len), "--cont-batching"],
            8392, levels, prompts, a, "llama-server")

    print(f"\nServing, {a.threads} threads, prompts of {a.prompt_tokens} tokens, {a.new_tokens} new tokens each, "
          f"bf16, batch {a.max_batch}" + (f"; llama.cpp {version}" if version else ""))
    print(f"{'':14}{'clients':>8}{'tok/s':>9}{'TTFT p50':>10}{'TTFT p99':>10}{'ITL p50':>9}{'ITL p99':>9}")
    for name, rows in results.items():
        for r in rows:
            print(f"{name:14}{r['concurrency']:>8}{r['throughput']:>9.1f}{r['ttft_p50'] * 1e3:>8.0f}ms"
                  f"{r['ttft_p99'] * 1e3:>8.0f}ms{r['itl_p50'] * 1e3:>7.1f}ms{r['itl_p99'] * 1e3:>7.1f}ms")
    if "llama-server" in results:
        print("\nfathom-serve / llama-server throughput: " + ", ".join(
            f"{f['concurrency']} clients {f['throughput'] / l['throughput']:.2f}x"
            for f, l in zip(results["fathom-serve"], results["llama-server"])))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(threads=a.threads, llama_cpp=version, results=results), f, indent=1)


if __name__ == "__main__":
    main()
