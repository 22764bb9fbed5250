"""Writes a hostile copy of a checkpoint or tokenizer folder, one per finding class of the
hardening issue: hostile.py CASE SOURCE_DIR TARGET_DIR. Standard library only."""
import json
import os
import shutil
import struct
import sys

DEPTH = 1_000_000  # far past any parser's stack


def deep(levels):
    return "[" * levels + "]" * levels


def edit_config(target, change):
    path = os.path.join(target, "config.json")
    config = json.load(open(path))
    change(config)
    json.dump(config, open(path, "w"))


def insert_before_key(path, key, text):
    """Puts `"zz": <text>, ` before the first `"key"` of a JSON file, keeping the rest as is."""
    data = open(path).read()
    marker = '"' + key + '"'
    at = data.index(marker)
    open(path, "w").write(data[:at] + '"zz": ' + text + ", " + data[at:])


def rewrite_safetensors(path, change_header=None, change_data=None):
    blob = open(path, "rb").read()
    size = struct.unpack("<Q", blob[:8])[0]
    header = blob[8 : 8 + size].decode()
    data = bytearray(blob[8 + size :])
    if change_header:
        header = change_header(header)
    if change_data:
        change_data(json.loads(blob[8 : 8 + size]), data)
    raw = header.encode()
    open(path, "wb").write(struct.pack("<Q", len(raw)) + raw + bytes(data))


def nan_lm_head(header, data):
    begin, end = header["lm_head.weight"]["data_offsets"]
    dtype = header["lm_head.weight"]["dtype"]
    nan = {"F32": struct.pack("<f", float("nan")), "BF16": b"\xc0\x7f"}[dtype]
    data[begin:end] = nan * ((end - begin) // len(nan))


def tokenizer_json(target, change):
    path = os.path.join(target, "tokenizer.json")
    tokenizer = json.load(open(path))
    change(tokenizer)
    json.dump(tokenizer, open(path, "w"))


def first_vocab_entry(tokenizer):
    vocab = tokenizer["model"]["vocab"]
    vocab[next(iter(vocab))] = 2147483647


CASES = {
    # Nesting a million levels deep, in each JSON a checkpoint folder holds.
    "deep-config": lambda t: insert_before_key(os.path.join(t, "config.json"), "vocab_size", deep(DEPTH)),
    "deep-generation-config": lambda t: insert_before_key(
        os.path.join(t, "generation_config.json"), "bos_token_id", deep(DEPTH)),
    "deep-header-shape": lambda t: rewrite_safetensors(
        os.path.join(t, "model.safetensors"),
        change_header=lambda h: h.replace('"shape":[16]', '"shape":' + deep(DEPTH), 1)),
    "deep-tokenizer": lambda t: insert_before_key(os.path.join(t, "tokenizer.json"), "model", deep(DEPTH)),
    # Sizes a few layers' checkpoint cannot back.
    "huge-layers": lambda t: edit_config(t, lambda c: c.update(num_hidden_layers=2**30)),
    "huge-experts": lambda t: edit_config(t, lambda c: c.update(n_routed_experts=2**32)),
    "many-experts": lambda t: edit_config(
        t, lambda c: c.update(num_hidden_layers=1024, n_routed_experts=4096, n_group=4)),
    # Values that turn the logits into NaN.
    "huge-routed-scaling": lambda t: edit_config(t, lambda c: c.update(routed_scaling_factor=1e308)),
    "negative-beta-slow": lambda t: edit_config(t, lambda c: c["rope_parameters"].update(beta_slow=-1)),
    "zero-beta-fast": lambda t: edit_config(t, lambda c: c["rope_parameters"].update(beta_fast=0)),
    "huge-mscale": lambda t: edit_config(t, lambda c: c["rope_parameters"].update(mscale=1e308)),
    "nan-lm-head": lambda t: rewrite_safetensors(os.path.join(t, "model.safetensors"),
                                                 change_data=nan_lm_head),
    # Tokenizer files.
    "huge-vocab-id": lambda t: tokenizer_json(t, first_vocab_entry),
    "huge-added-id": lambda t: tokenizer_json(t, lambda k: k["added_tokens"][0].update(id=2147483647)),
    "overflow-tokenizer-json": lambda t: insert_before_key(os.path.join(t, "tokenizer.json"), "model", "1e999"),
    "overflow-tokenizer-config": lambda t: insert_before_key(
        os.path.join(t, "tokenizer_config.json"), "add_bos_token", "1e999"),
}

case, source, target = sys.argv[1:4]
if case not in CASES:
    sys.exit("unknown case " + case + "; known: " + ", ".join(CASES))
shutil.rmtree(target, ignore_errors=True)
shutil.copytree(source, target)
CASES[case](target)
