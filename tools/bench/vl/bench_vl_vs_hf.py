#!/usr/bin/env python3
"""DeepSeek-VL image speed of Fathom next to Hugging Face transformers, on the same random checkpoint, the
same photograph and the same thread count, in one run. A benchmark, not a test.

    python3 tools/bench/vl/bench_vl_vs_hf.py [--image FILE] [--vision-layers 6] [--dtype bf16|fp32]
                                             [--threads 2] [--repeat 3] [--json FILE]

  1. Build (or reuse) a seeded random DeepseekVLForConditionalGeneration with deepseek-vl-1.3b's vision
     geometry (SigLIP-L/16 at 384: hidden 1024, 16 heads, MLP 4096, 576 patches; --vision-layers of its 24)
     and a small LLaMA text model (hidden 1024, 4 layers) over tiny-vl's tokenizer; processor settings of the
     1.3b chat model (size 384, min_size 14, mean = std = 0.5). Saved with save_pretrained in bfloat16.
  2. fathom-compile CKPT -o X.fathom --dtype D; fathom-run X.fathom --image FILE --prompt ... --max-new-tokens
     1 --json --threads T: preprocessing, vision tower and prefill seconds are read from its JSON (timed inside
     the process, artifact load excluded); time to first token = their sum.
  3. transformers (eager attention), torch.set_num_threads(T), inference_mode: the PIL image processor on the
     same file (DeepseekVLImageProcessorPil, decode included), get_image_features on its pixel values, and the
     first token (processor + one forward with pixel values over the prompt).
  One warm-up, then R runs each; the table shows the best of R, the JSON every sample.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
TINY_VL = os.path.join(ROOT, "test", "reference", "checkpoints", "tiny-vl")
PROMPT = "User: <image_placeholder>Describe this image.\n\nAssistant:"


def build_checkpoint(path, vision_layers):
    import torch
    from transformers import DeepseekVLConfig, DeepseekVLForConditionalGeneration

    torch.manual_seed(20261203)
    base = json.load(open(os.path.join(TINY_VL, "config.json")))
    text = dict(base["text_config"], hidden_size=1024, intermediate_size=2816, num_hidden_layers=4,
                num_attention_heads=8, num_key_value_heads=8, head_dim=128, max_position_embeddings=1024)
    vision = dict(base["vision_config"], hidden_size=1024, intermediate_size=4096, num_hidden_layers=vision_layers,
                  num_attention_heads=16, image_size=384, patch_size=16)
    config = DeepseekVLConfig(text_config=text, vision_config=vision, image_token_id=base["image_token_id"])
    model = DeepseekVLForConditionalGeneration(config).to(torch.bfloat16)
    model.save_pretrained(path)
    for name in ("tokenizer.json", "tokenizer_config.json", "generation_config.json", "chat_template.jinja"):
        if os.path.exists(os.path.join(TINY_VL, name)):
            shutil.copy(os.path.join(TINY_VL, name), path)
    processor = json.load(open(os.path.join(TINY_VL, "processor_config.json")))
    processor["image_processor"]["size"] = {"height": 384, "width": 384}
    processor["num_image_tokens"] = 576
    json.dump(processor, open(os.path.join(path, "processor_config.json"), "w"), indent=2)


def run_fathom(args, artifact):
    samples = []
    for i in range(args.repeat + 1):
        out = subprocess.run([os.path.join(args.build, "bin", "fathom-run"), artifact, "--image", args.image,
                              "--prompt", PROMPT, "--max-new-tokens", "1", "--json", "--threads",
                              str(args.threads)], check=True, capture_output=True, text=True).stdout
        result = json.loads(out)
        if i:
            samples.append({"preprocess": result["image_preprocess_seconds"],
                            "vision": result["image_encode_seconds"], "prefill": result["prefill_seconds"]})
    for s in samples:
        s["ttft"] = s["preprocess"] + s["vision"] + s["prefill"]
    return samples


def run_hf(args, ckpt):
    import torch
    from PIL import Image
    from transformers import AutoProcessor, DeepseekVLForConditionalGeneration

    torch.set_num_threads(args.threads)
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    processor = AutoProcessor.from_pretrained(ckpt, backend="pil")
    model = DeepseekVLForConditionalGeneration.from_pretrained(ckpt, dtype=dtype, attn_implementation="eager")
    model.eval()
    samples = []
    with torch.inference_mode():
        for i in range(args.repeat + 1):
            start = time.perf_counter()
            pixels = processor.image_processor(Image.open(args.image), return_tensors="pt")["pixel_values"]
            preprocess = time.perf_counter() - start
            start = time.perf_counter()
            model.model.get_image_features(pixels.to(dtype))
            vision = time.perf_counter() - start
            start = time.perf_counter()
            inputs = processor(text=PROMPT, images=[Image.open(args.image)], return_tensors="pt")
            model(input_ids=inputs["input_ids"], pixel_values=inputs["pixel_values"].to(dtype), logits_to_keep=1)
            ttft = time.perf_counter() - start
            if i:
                samples.append({"preprocess": preprocess, "vision": vision, "ttft": ttft})
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", default=os.path.join(ROOT, "test", "reference", "images", "grace_hopper.jpg"))
    parser.add_argument("--vision-layers", type=int, default=6)
    parser.add_argument("--dtype", choices=("bf16", "fp32"), default="bf16")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--cache-dir", default="/tmp/fathom-bench-vl")
    parser.add_argument("--json")
    args = parser.parse_args()

    ckpt = os.path.join(args.cache_dir, f"ckpt-vision{args.vision_layers}")
    if not os.path.exists(os.path.join(ckpt, "config.json")):
        print(f"building {ckpt}", file=sys.stderr)
        build_checkpoint(ckpt, args.vision_layers)
    artifact = os.path.join(args.cache_dir, f"vision{args.vision_layers}-{args.dtype}.fathom")
    subprocess.run([os.path.join(args.build, "bin", "fathom-compile"), ckpt, "-o", artifact, "--dtype", args.dtype,
                    "--max-seq-len", "1024", "--quiet"], check=True)
    fathom = run_fathom(args, artifact)
    hf = run_hf(args, ckpt)
    best = lambda samples, key: min(s[key] for s in samples)
    print(f"DeepSeek-VL geometry, SigLIP-L/16 at 384 with {args.vision_layers} layers, {args.dtype}, "
          f"{args.threads} threads, image {os.path.basename(args.image)} (best of {args.repeat}, ms)")
    print("| | Fathom | HF transformers | HF / Fathom |")
    print("|---|---|---|---|")
    for key, label in (("preprocess", "image preprocessing (decode, resize, pad, normalize)"),
                       ("vision", "vision tower + aligner per image"), ("ttft", "time to first token")):
        f, h = best(fathom, key) * 1e3, best(hf, key) * 1e3
        print(f"| {label} | {f:.1f} | {h:.1f} | {h / f:.2f}x |")
    if args.json:
        json.dump({"fathom": fathom, "hf": hf, "args": vars(args)}, open(args.json, "w"), indent=2)


if __name__ == "__main__":
    main()
