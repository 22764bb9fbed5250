#!/usr/bin/env python3
"""Writes the malformed checkpoints the frontend lit tests run fathom-compile on.

Standard library only. Each case is a folder holding a small, otherwise valid deepseek_v3
checkpoint with exactly one thing broken. Regenerate with:
    python3 test/lit/frontend/Inputs/make_inputs.py
"""
import json
import math
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

CONFIG = {
    "architectures": ["DeepseekV3ForCausalLM"],
    "model_type": "deepseek_v3",
    "vocab_size": 16,
    "hidden_size": 8,
    "intermediate_size": 8,
    "moe_intermediate_size": 4,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "q_lora_rank": 4,
    "kv_lora_rank": 4,
    "qk_nope_head_dim": 2,
    "qk_rope_head_dim": 2,
    "v_head_dim": 2,
    "n_routed_experts": 4,
    "n_shared_experts": 1,
    "num_experts_per_tok": 2,
    "n_group": 2,
    "topk_group": 1,
    "first_k_dense_replace": 1,
    "num_nextn_predict_layers": 1,
    "rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64},
}

DTYPE_SIZES = {"F32": 4, "BF16": 2, "F8_E4M3": 1}


def expected_tensors(config):
    """(name, shape) of every tensor DeepseekV3ForCausalLM reads, written out by hand."""
    h, v = config["hidden_size"], config["vocab_size"]
    heads = config["num_attention_heads"]
    q, kv = config["q_lora_rank"], config["kv_lora_rank"]
    nope, rope, vd = config["qk_nope_head_dim"], config["qk_rope_head_dim"], config["v_head_dim"]
    experts, width = config["n_routed_experts"], config["moe_intermediate_size"]
    tensors = [("model.embed_tokens.weight", [v, h])]
    for layer in range(config["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        tensors += [
            (p + "input_layernorm.weight", [h]),
            (p + "self_attn.q_a_proj.weight", [q, h]),
            (p + "self_attn.q_a_layernorm.weight", [q]),
            (p + "self_attn.q_b_proj.weight", [heads * (nope + rope), q]),
            (p + "self_attn.kv_a_proj_with_mqa.weight", [kv + rope, h]),
            (p + "self_attn.kv_a_layernorm.weight", [kv]),
            (p + "self_attn.kv_b_proj.weight", [heads * (nope + vd), kv]),
            (p + "self_attn.o_proj.weight", [h, heads * vd]),
            (p + "post_attention_layernorm.weight", [h]),
        ]
        if layer < config["first_k_dense_replace"]:
            i = config["intermediate_size"]
            tensors += [(p + "mlp.gate_proj.weight", [i, h]), (p + "mlp.up_proj.weight", [i, h]),
                        (p + "mlp.down_proj.weight", [h, i])]
        else:
            tensors += [(p + "mlp.gate.weight", [experts, h]),
                        (p + "mlp.gate.e_score_correction_bias", [experts])]
            for e in range(experts):
                tensors += [(p + f"mlp.experts.{e}.gate_proj.weight", [width, h]),
                            (p + f"mlp.experts.{e}.up_proj.weight", [width, h]),
                            (p + f"mlp.experts.{e}.down_proj.weight", [h, width])]
            tensors += [(p + "mlp.shared_experts.gate_proj.weight", [width, h]),
                        (p + "mlp.shared_experts.up_proj.weight", [width, h]),
                        (p + "mlp.shared_experts.down_proj.weight", [h, width])]
    tensors += [("model.norm.weight", [h]), ("lm_head.weight", [v, h])]
    return tensors


def header_and_data(tensors):
    """tensors: list of (name, dtype, shape). Returns (header dict, data bytes of zeros)."""
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, dtype, shape in tensors:
        size = math.prod(shape) * DTYPE_SIZES[dtype]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    return header, bytes(offset)


def encode(header_text, data):
    return struct.pack("<Q", len(header_text)) + header_text.encode() + data


def safetensors(tensors):
    header, data = header_and_data(tensors)
    return encode(json.dumps(header), data)


def bf16(tensors):
    return [(name, "BF16", shape) for name, shape in tensors]


def case(name, config=None, files=None, weights=None):
    folder = os.path.join(HERE, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    with open(os.path.join(folder, "config.json"), "w") as f:
        f.write(config if isinstance(config, str) else json.dumps(config or CONFIG, indent=1))
    if weights is not None:
        with open(os.path.join(folder, "model.safetensors"), "wb") as f:
            f.write(weights)
    for file_name, contents in (files or {}).items():
        with open(os.path.join(folder, file_name), "wb") as f:
            f.write(contents if isinstance(contents, bytes) else contents.encode())


def main():
    good = bf16(expected_tensors(CONFIG))
    case("valid", weights=safetensors(good),
         files={"generation_config.json": json.dumps({"bos_token_id": 0, "eos_token_id": [1, 2]})})

    # safetensors files
    case("truncated", weights=safetensors(good)[:-100])
    header_past_end = bytearray(safetensors(good))
    header_past_end[0:8] = struct.pack("<Q", len(header_past_end))
    case("header-past-end", weights=bytes(header_past_end))
    case("header-over-cap", weights=struct.pack("<Q", 200_000_000) + b"{}")
    case("bad-header-json", weights=encode('{"w": {"dtype": "F32", ', b""))
    overlap = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
               "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}
    case("overlap", weights=encode(json.dumps(overlap), bytes(12)))
    hole = {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
            "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}
    case("hole", weights=encode(json.dumps(hole), bytes(12)))
    case("size-mismatch", weights=encode(
        json.dumps({"w": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, 8]}}), bytes(8)))
    case("unknown-dtype", weights=encode(
        json.dumps({"w": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}), bytes(8)))
    duplicate = ('{"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, '
                 '"w": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}')
    case("duplicate-name", weights=encode(duplicate, bytes(2)))

    # sharded index
    half = len(good) // 2
    shards = {"model-00001-of-00002.safetensors": good[:half],
              "model-00002-of-00002.safetensors": good[half:]}
    weight_map = {n: f for f, ts in shards.items() for n, _, _ in ts}
    files = {f: safetensors(ts) for f, ts in shards.items()}
    missing = dict(files)
    del missing["model-00002-of-00002.safetensors"]
    missing["model.safetensors.index.json"] = json.dumps({"weight_map": weight_map})
    case("missing-shard", files=missing)
    unindexed_map = dict(weight_map)
    del unindexed_map["model.norm.weight"]
    case("unindexed-tensor",
         files={**files, "model.safetensors.index.json": json.dumps({"weight_map": unindexed_map})})
    phantom_map = dict(weight_map)
    phantom_map["model.layers.0.extra.weight"] = "model-00001-of-00002.safetensors"
    case("index-names-absent-tensor",
         files={**files, "model.safetensors.index.json": json.dumps({"weight_map": phantom_map})})

    # config.json
    case("config-wrong-type", config={**CONFIG, "hidden_size": "8"}, weights=safetensors(good))
    config_missing = dict(CONFIG)
    del config_missing["num_attention_heads"]
    case("config-missing-key", config=config_missing, weights=safetensors(good))
    case("unknown-model-type", config={**CONFIG, "model_type": "mixtral"}, weights=safetensors(good))
    case("config-bad-json", config='{"model_type": "deepseek_v3",\n  "hidden_size": }',
         weights=safetensors(good))
    case("topk-over-experts", config={**CONFIG, "num_experts_per_tok": 5}, weights=safetensors(good))

    # inventory
    case("missing-tensors", weights=safetensors([t for t in good if "experts.3." not in t[0]]))
    case("wrong-shape", weights=safetensors(
        [(n, d, [7, 8] if n.endswith("0.self_attn.kv_a_proj_with_mqa.weight") else s)
         for n, d, s in good]))
    quantization = {"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic",
                    "weight_block_size": [128, 128]}
    fp8 = [(n, "F8_E4M3" if n.endswith("o_proj.weight") else d, s) for n, d, s in good]
    case("fp8-without-scale", config={**CONFIG, "quantization_config": quantization},
         weights=safetensors(fp8))
    fp8_bad_scale = fp8 + [(n + "_scale_inv", "F32", [2, 1]) for n, d, s in fp8 if d == "F8_E4M3"]
    case("fp8-scale-wrong-shape", config={**CONFIG, "quantization_config": quantization},
         weights=safetensors(fp8_bad_scale))
    # A valid FP8 checkpoint with an MTP layer (model.layers.2.*) and an unread tensor.
    fp8_ok = fp8 + [(n + "_scale_inv", "F32", [1, 1]) for n, d, s in fp8 if d == "F8_E4M3"]
    mtp = [("model.layers.2.enorm.weight", "BF16", [8]), ("model.layers.2.hnorm.weight", "BF16", [8]),
           ("model.layers.2.eh_proj.weight", "BF16", [8, 16]),
           ("model.layers.0.self_attn.rotary_emb.inv_freq", "F32", [1])]
    case("fp8-with-mtp", config={**CONFIG, "quantization_config": quantization},
         weights=safetensors(fp8_ok + mtp))


if __name__ == "__main__":
    main()
