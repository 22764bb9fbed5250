#!/usr/bin/env python3
"""Train the tiny byte-level BPE tokenizer shared by the tiny reference checkpoints.

The tokenizer has the same *shape* as DeepSeek-V3's tokenizer.json (same normalizer, the same
pre_tokenizer Sequence copied verbatim from the real V3 file, ByteLevel post_processor and decoder,
a BPE model with string-form merges, and DeepSeek's added-token spellings), but only 512 ids in
total, trained on the King James Bible (Debian `bible-kjv`, public domain).

Writes, under test/reference/tokenizer/:
  tokenizer.json         the tokenizer (ids 0..511)
  tokenizer_config.json  modelled on DeepSeek-V3's (add_bos_token, bos/eos/pad, the exact V3 chat_template)
  encode.jsonl           {"text", "ids", "decoded"}: raw `tokenizers` encode(add_special_tokens=False) / decode
  chat.jsonl             {"messages", "add_generation_prompt", "text", "ids"}: the chat template rendered the
                         way transformers renders it, then encoded with add_special_tokens=False

Run:  OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1 python3 make_tokenizer.py
"""
import json
import os
import re
import subprocess
import sys

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers, trainers  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "tokenizer")
V3_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "testdata", "tokenizers", "deepseek-v3"))
V3_DIR = os.environ.get("FATHOM_V3_TOKENIZER_DIR", V3_DIR)

BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"
PAD = "<｜▁pad▁｜>"
USER = "<｜User｜>"
ASSISTANT = "<｜Assistant｜>"
IMAGE = "<image_placeholder>"
TOTAL_VOCAB = 512
# Added tokens appended after training (ids TOTAL_VOCAB-3 .. TOTAL_VOCAB-1).
# <｜User｜>/<｜Assistant｜> are special:false, normalized:true exactly as in DeepSeek-V3;
# <image_placeholder> (for the DeepSeek-VL checkpoint) is special:true, normalized:false.
LATE_ADDED = [
    (USER, False, True),
    (ASSISTANT, False, True),
    (IMAGE, True, False),
]


def kjv_verses():
    """The KJV text, one verse per line, with the 'Book C:V ' references stripped."""
    raw = subprocess.run(["bible", "-f", "gen1:1-rev22:21"], check=True, capture_output=True).stdout.decode("utf-8")
    verses = []
    ref = re.compile(r"^\S+?\d+:\d+ ")
    for line in raw.split("\n"):
        if not line:
            continue
        m = ref.match(line)
        if not m:
            raise SystemExit(f"unexpected bible output line: {line!r}")
        verses.append(line[m.end():])
    if len(verses) != 31102:
        raise SystemExit(f"expected 31102 KJV verses, got {len(verses)}")
    return verses


def build(verses):
    v3 = json.load(open(os.path.join(V3_DIR, "tokenizer.json"), encoding="utf-8"))

    tok = Tokenizer(models.BPE())
    # Build the V3 pre-tokenizer from its JSON, so the regexes are byte-identical to the real file.
    tmp = json.loads(tok.to_str())
    tmp["pre_tokenizer"] = v3["pre_tokenizer"]
    tok = Tokenizer.from_str(json.dumps(tmp))

    n_trained = TOTAL_VOCAB - len(LATE_ADDED)
    trainer = trainers.BpeTrainer(
        vocab_size=n_trained,
        min_frequency=2,
        show_progress=False,
        special_tokens=[
            AddedToken(BOS, special=True, normalized=False),
            AddedToken(EOS, special=True, normalized=False),
            AddedToken(PAD, special=True, normalized=False),
        ],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    # One verse per training sample, with its newline (so newline pieces are in the data too).
    tok.train_from_iterator((v + "\n" for v in verses), trainer=trainer, length=len(verses))

    d = json.loads(tok.to_str())
    vocab = d["model"]["vocab"]
    if len(vocab) != n_trained:
        raise SystemExit(f"trainer produced {len(vocab)} entries, wanted {n_trained}")
    # Added tokens: ids 0..2 come from the trainer (and are in the BPE vocab, as in V3); append the rest.
    added = d["added_tokens"]
    assert [a["content"] for a in added] == [BOS, EOS, PAD] and [a["id"] for a in added] == [0, 1, 2]
    for a in added:
        a.update(single_word=False, lstrip=False, rstrip=False, normalized=False, special=True)
    for i, (content, special, normalized) in enumerate(LATE_ADDED):
        added.append(
            {
                "id": n_trained + i,
                "content": content,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": normalized,
                "special": special,
            }
        )
    merges = d["model"]["merges"]
    # V3 stores merges in the old "a b" string form; tokens never contain a space (ByteLevel maps it to 'Ġ').
    merges = [m if isinstance(m, str) else " ".join(m) for m in merges]
    assert all(len(m.split(" ")) == 2 for m in merges)
    # Same key order and the same model keys as DeepSeek-V3's tokenizer.json (no ignore_merges key).
    out = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": v3["normalizer"],
        "pre_tokenizer": v3["pre_tokenizer"],
        "post_processor": v3["post_processor"],
        "decoder": v3["decoder"],
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "vocab": dict(sorted(vocab.items(), key=lambda kv: kv[1])),
            "merges": merges,
        },
    }
    return out


def tokenizer_config():
    v3c = json.load(open(os.path.join(V3_DIR, "tokenizer_config.json"), encoding="utf-8"))
    cfg = {
        "add_bos_token": True,
        "add_eos_token": False,
        "bos_token": dict(v3c["bos_token"]),
        "clean_up_tokenization_spaces": False,
        "eos_token": dict(v3c["eos_token"]),
        "legacy": True,
        "model_max_length": 256,  # = max_position_embeddings of the tiny models (V3: 131072)
        "pad_token": dict(v3c["pad_token"]),  # V3: the pad token is <｜end▁of▁sentence｜>
        "sp_model_kwargs": {},
        "unk_token": None,
        "tokenizer_class": "LlamaTokenizerFast",
        "chat_template": v3c["chat_template"],
    }
    assert cfg["bos_token"]["content"] == BOS and cfg["eos_token"]["content"] == EOS == cfg["pad_token"]["content"]
    return cfg


ENCODE_TEXTS = [
    "",
    " ",
    "\n",
    "\n\n",
    "Hello world",
    " Hello, world!\n\n",
    "The quick brown fox jumps over the lazy dog.",
    "In the beginning God created the heaven and the earth.",
    "3333333 3.14",
    "And God said, Let there be light: and there was light.\nAnd God saw the light, that it was good.",
    "我想在apple工作1314151天～",
    "naïve café – “quoted” ‘text’ … 🚀",
    "x  =  y\t\tz\r\n",
    BOS + "You are a helpful assistant" + USER + "Hello" + ASSISTANT,
    "text" + EOS + PAD + IMAGE + "more",
    "<｜User｜ not quite a token",
]


def chat_cases():
    return [
        ([{"role": "user", "content": "Hello, how are you?"}], True),
        (
            [
                {"role": "system", "content": "You are a helpful assistant"},
                {"role": "user", "content": "Hello"},
                {"role": "assistant", "content": "Hi there"},
                {"role": "user", "content": "Who are you"},
            ],
            True,
        ),
        (
            [
                {"role": "system", "content": "S1"},
                {"role": "system", "content": "S2"},
                {"role": "user", "content": "Let there be light."},
            ],
            False,
        ),
    ]


def render_chat(template, messages, add_generation_prompt):
    # transformers' own renderer (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks).
    from transformers.utils.chat_template_utils import render_jinja_template

    rendered, _ = render_jinja_template(
        conversations=[messages],
        chat_template=template,
        add_generation_prompt=add_generation_prompt,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=EOS,
    )
    return rendered[0]


def dump_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    verses = kjv_verses()
    tj = build(verses)
    dump_json(os.path.join(OUT, "tokenizer.json"), tj)
    cfg = tokenizer_config()
    dump_json(os.path.join(OUT, "tokenizer_config.json"), cfg)

    tok = Tokenizer.from_file(os.path.join(OUT, "tokenizer.json"))
    assert tok.get_vocab_size(with_added_tokens=True) == TOTAL_VOCAB, tok.get_vocab_size(True)
    for name, want in [(BOS, 0), (EOS, 1), (PAD, 2), (USER, 509), (ASSISTANT, 510), (IMAGE, 511)]:
        assert tok.token_to_id(name) == want, (name, tok.token_to_id(name))

    with open(os.path.join(OUT, "encode.jsonl"), "w", encoding="utf-8") as f:
        texts = ENCODE_TEXTS + verses[:: len(verses) // 24][:24]
        for t in texts:
            ids = tok.encode(t, add_special_tokens=False).ids
            f.write(json.dumps({"text": t, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False)},
                               ensure_ascii=False) + "\n")
    with open(os.path.join(OUT, "chat.jsonl"), "w", encoding="utf-8") as f:
        for messages, agp in chat_cases():
            text = render_chat(cfg["chat_template"], messages, agp)
            ids = tok.encode(text, add_special_tokens=False).ids
            f.write(json.dumps({"messages": messages, "add_generation_prompt": agp, "text": text, "ids": ids},
                               ensure_ascii=False) + "\n")
    print(f"tokenizer: {tok.get_vocab_size(True)} ids, {len(tj['model']['merges'])} merges -> {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
