"""Seed corpora for the fuzz harnesses, built from test/reference (and, for the artifact
harness, from artifacts compiled with the given fathom-compile):
    make_seeds.py OUT_DIR [FATHOM_COMPILE]
Multi-file inputs join their files with the harnesses' separator line (FuzzSupport.h)."""
import json
import os
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.path.join(ROOT, "reference")
CHECKPOINTS = os.path.join(REFERENCE, "checkpoints")
SEPARATOR = b"\n--8<--\n"

out = sys.argv[1]
compile_tool = sys.argv[2] if len(sys.argv) > 2 else None


def read(path):
    return open(path, "rb").read() if os.path.exists(path) else b""


def seed(harness, name, data):
    folder = os.path.join(out, harness)
    os.makedirs(folder, exist_ok=True)
    open(os.path.join(folder, name), "wb").write(data)


def small_safetensors(path, max_tensor_bytes=2048):
    """The file's small tensors only, so that a seed is a few KB and each run is fast."""
    blob = open(path, "rb").read()
    size = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8 : 8 + size])
    data = blob[8 + size :]
    kept, payload = {"__metadata__": header.get("__metadata__", {})}, b""
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        if end - begin <= max_tensor_bytes:
            kept[name] = dict(info, data_offsets=[len(payload), len(payload) + end - begin])
            payload += data[begin:end]
    encoded = json.dumps(kept, separators=(",", ":")).encode()
    return struct.pack("<Q", len(encoded)) + encoded + payload


messages = [json.loads(line)["messages"] for line in open(os.path.join(REFERENCE, "tokenizer", "chat.jsonl"))]
texts = [json.loads(line).get("text", "") for line in open(os.path.join(REFERENCE, "tokenizer", "encode.jsonl"))]

for name in sorted(os.listdir(CHECKPOINTS)):
    folder = os.path.join(CHECKPOINTS, name)
    if not os.path.isdir(folder):
        continue
    weights = os.path.join(folder, "model.safetensors")
    if os.path.exists(weights):
        small = small_safetensors(weights)
        seed("safetensors", name, small)
        header = json.loads(small[8 : 8 + struct.unpack("<Q", small[:8])[0]])
        index = {"metadata": {"total_size": 0},
                 "weight_map": {t: "model-00001-of-00001.safetensors"
                                for t in header if t != "__metadata__"}}
    else:
        index = {}
    seed("checkpoint", name, SEPARATOR.join([
        read(os.path.join(folder, "config.json")), json.dumps(index).encode(),
        read(os.path.join(folder, "generation_config.json")),
        read(os.path.join(folder, "tokenizer_config.json")),
        read(os.path.join(folder, "preprocessor_config.json"))]))
    tokenizer = read(os.path.join(folder, "tokenizer.json"))
    if tokenizer:
        for i, text in enumerate(texts[:3]):
            seed("tokenizer", "%s-%d" % (name, i), tokenizer + SEPARATOR + text.encode())
    config = read(os.path.join(folder, "tokenizer_config.json"))
    if config:
        for i, conversation in enumerate(messages[:3]):
            seed("chat", "%s-%d" % (name, i), config + SEPARATOR + json.dumps(conversation).encode())

if compile_tool and os.path.exists(compile_tool):
    for name, dtype in (("tiny-v3", "fp32"), ("tiny-v2-lite", "bf16"), ("tiny-v3-seqcls", "fp32")):
        target = os.path.join(out, "artifact", name + ".fathom")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        subprocess.run([compile_tool, os.path.join(CHECKPOINTS, name), "-o", target, "--dtype", dtype,
                        "--max-seq-len", "16", "--quiet"], check=True)
IMAGES = os.path.join(os.path.dirname(CHECKPOINTS), "images")
for name in sorted(os.listdir(IMAGES)):
    if name.endswith((".png", ".jpg")) and os.path.getsize(os.path.join(IMAGES, name)) < 64 * 1024:
        seed("image", name, read(os.path.join(IMAGES, name)))
for harness in ("safetensors", "checkpoint", "tokenizer", "chat", "artifact", "image"):
    folder = os.path.join(out, harness)
    count = len(os.listdir(folder)) if os.path.isdir(folder) else 0
    print("%s: %d seeds" % (harness, count))
