#!/usr/bin/env python3
"""Regenerates the tokenizer goldens in goldens/ from the reference implementations.

Oracles (never used at Fathom build or run time; see text-image.md section 0):
  - Hugging Face `tokenizers` (pip; produced with 0.23.3), always through
    `tokenizers.Tokenizer.from_file`. Never transformers' AutoTokenizer: transformers v5 mis-tokenizes
    DeepSeek checkpoints (text-image.md section 0 item 6).
  - `jinja2` (pip; produced with 3.1.6) configured as transformers renders chat templates:
    ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, loopcontrols).

Usage (from the repository root, with ../shared present):
    python3 test/unit/tokenizer/make_goldens.py

Everything is seeded, so rerunning gives byte-identical files unless an oracle changes behaviour.
"""

import json
import os
import random
import sys
import unicodedata

import jinja2
import jinja2.ext
import jinja2.sandbox
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
from tokenizers import processors

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDENS = os.path.join(HERE, "goldens")
SHARED_V3 = os.path.join(HERE, "..", "..", "..", "..", "shared", "testdata", "tokenizers", "deepseek-v3")

# DeepSeek-VL chat template, verbatim from transformers
# tests/models/deepseek_vl/test_processing_deepseek_vl.py (DeepseekVLProcessorTest
# .prepare_processor_dict), the template model-spec.md B3 and text-image.md 1.5 describe.
# runtime/tokenizer/src/KnownChatTemplates.h holds the same text.
DEEPSEEK_VL_TEMPLATE = "{% set seps = ['\n\n', '<\uff5cend\u2581of\u2581sentence\uff5c>'] %}{% set i = 0 %}You are a helpful language and vision assistant. You are able to understand the visual content that the user provides, and assist the user with a variety of tasks using natural language.\n\n{% for message in messages %}{% if message['role']|lower == 'user' %}User: {% elif message['role']|lower == 'assistant' %}Assistant:{% if not (loop.last and not add_generation_prompt and message['content'][0]['type']=='text' and message['content'][0]['text']=='') %} {% endif %}{% else %}{{ message['role'].capitalize() }}: {% endif %}{% for content in message['content'] %}{% if content['type'] == 'image' %}<image_placeholder>{% elif content['type'] == 'text' %}{% set text = content['text'] %}{% if loop.first %}{% set text = text.lstrip() %}{% endif %}{% if loop.last %}{% set text = text.rstrip() %}{% endif %}{% if not loop.first and message['content'][loop.index0-1]['type'] == 'text' %}{{ ' ' + text }}{% else %}{{ text }}{% endif %}{% endif %}{% endfor %}{% if not loop.last or add_generation_prompt %}{% if message['role']|lower == 'user' %}{{ seps[0] }}{% else %}{{ seps[1] }}{% endif %}{% endif %}{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}"


def write_jsonl(name, rows):
    path = os.path.join(GOLDENS, name)
    with open(path, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"{path}: {len(rows)} lines, {os.path.getsize(path)} bytes")


def write_json(name, value):
    path = os.path.join(GOLDENS, name)
    with open(path, "w", encoding="utf-8") as out:
        json.dump(value, out, ensure_ascii=False, indent=1)
        out.write("\n")
    print(f"{path}: {os.path.getsize(path)} bytes")


# ----------------------------------------------------------------------------------------------
# Random Unicode text


def assigned(code_point):
    """Assigned in Python's Unicode database (14.0 with Python 3.11, the version PCRE2 10.42 has)."""
    return unicodedata.category(chr(code_point)) not in ("Cn", "Cs")


PALETTES = {
    "ascii": [chr(c) for c in range(0x20, 0x7F)] + ["\n", "\t", "\r"],
    "whitespace": list("\t\n\x0b\x0c\r \x85\xa0\u1680\u180e\u2000\u2001\u2005\u200a\u200b\u2028\u2029\u202f\u205f\u3000"),
    "digits": list("0123456789٠١٢٣٤٥٦٧٨٩०१२३४५६७८९²³½¼ⅫⅣ①⑩０１２"),
    "cjk": [chr(c) for c in range(0x4E00, 0x4E80)] + [chr(c) for c in range(0x9F90, 0x9FC0)]
    + [chr(c) for c in range(0x3400, 0x3420)] + list("、。「」〜～！？"),
    "kana_hangul": [chr(c) for c in range(0x3040, 0x3100)] + [chr(c) for c in range(0xAC00, 0xAC40)],
    "latin_marks": list("éèêëÀÅÆÇÑØßþĳœſǅ") + [chr(c) for c in range(0x300, 0x370)],
    "scripts": list("абвгдежзийклмнопрстуфхцчшщъыьэюяΑΒΓΔαβγδ") + list("مرحبابالعالم")
    + list("नमस्तेदुनिया") + list("สวัสดีชาวโลก") + list("שלוםעולם"),
    "symbols": list("~^`|<>=+$€£¥©®°±×÷←↑→↓∀∂∈∑√∞≈≠≤≥⌘☃★♥♪✓❤") + list("‐–—‘’“”…‰′″‹›"),
    "emoji": ["🚀", "😀", "👍🏽", "👨‍👩‍👧", "🇯🇵", "❤️", "🙂", "🤖", "🧪", "😂"],
    "astral": [chr(c) for c in (0x10400, 0x10401, 0x1D400, 0x1D41A, 0x20000, 0x2A6D6, 0x1F600, 0x10FFFD)],
}
WORDS = ["hello", "world", "The", "quick", " brown", "fox", "don't", "I'm", "we'll", "it's", "ΑΒΓ",
         "Hello", "HTTP", "x86_64", "foo.bar", "#tag", "@user", ".Net", "__init__", "\r\n", "\n\n"]


def random_texts(rng, count):
    texts = []
    names = sorted(PALETTES)
    bmp = [c for c in range(0x20, 0xFFFE) if assigned(c) and not 0xE000 <= c <= 0xF8FF]
    for i in range(count):
        mode = i % 4
        length = rng.randint(1, 40)
        if mode == 0:  # one palette
            palette = PALETTES[names[rng.randrange(len(names))]]
            texts.append("".join(rng.choice(palette) for _ in range(length)))
        elif mode == 1:  # mixed palettes and words
            parts = []
            for _ in range(length // 3 + 1):
                if rng.random() < 0.3:
                    parts.append(rng.choice(WORDS))
                else:
                    parts.append(rng.choice(PALETTES[rng.choice(names)]))
                if rng.random() < 0.3:
                    parts.append(" ")
            texts.append("".join(parts))
        elif mode == 2:  # random assigned BMP characters
            texts.append("".join(chr(rng.choice(bmp)) for _ in range(length)))
        else:  # random assigned astral characters mixed with spaces and ASCII
            chars = []
            for _ in range(length):
                r = rng.random()
                if r < 0.2:
                    chars.append(" ")
                elif r < 0.4:
                    chars.append(rng.choice(PALETTES["ascii"]))
                else:
                    while True:
                        c = rng.randrange(0x10000, 0x30000)
                        if assigned(c):
                            break
                    chars.append(chr(c))
            texts.append("".join(chars))
    return texts


EDGE_TEXTS = [
    "", " ", "   ", "\n\n\n", "a" * 300, " " * 300, "1" * 40, "3333333 3.14", "x\u0301\u0302",
    "\u180e", "a\u180eb", "\u200b\u200b", "\ufeffBOM", "tab\tsep", "CRLF\r\nline", "\r", "\x00nul",
    "\U0010FFFF", "\ufffd", "~~~", " ~", "🚀🚀", "我想在apple工作1314151天～", "ｆｕｌｌｗｉｄｔｈ",
    "<｜User", "<｜User｜", "<｜User｜>", "｜>", "<|EOT|><|EOT|>", "<<｜User｜>>",
    "<｜begin▁of▁sentence｜><｜begin▁of▁sentence｜>", "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>",
    "<｜place▁holder▁no▁1｜>0", "<｜place▁holder▁no▁10｜>", "<｜place▁holder▁no▁100｜>",
]


def special_token_texts(tokenizer_json):
    texts = []
    for token in tokenizer_json["added_tokens"]:
        content = token["content"]
        texts.append(content)
        texts.append("a" + content + " b" + content + content + "\n")
    return texts


def encode_rows(tokenizer, texts):
    """{"text", "ids"} plus "decoded" only where decoding does not give the text back."""
    rows = []
    for text in texts:
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        row = {"text": text, "ids": ids}
        decoded = tokenizer.decode(ids, skip_special_tokens=False)
        if decoded != text:
            row["decoded"] = decoded
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------------------------
# Invalid UTF-8: HF only takes str; Fathom repairs bytes like bytes.decode("utf-8", "replace").

INVALID_UTF8 = [
    b"\x80", b"abc\xff", b"\xc0\xaf", b"\xe0\x80\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
    b"\xf0\x9f\x9a", b"\xf0\x9f\x9a hi", b"\xe2\x82", b"\xe2\x82\xac\xe2", b"hello \xfe world",
    b"\xc3", b"\xc3\xa9\xc3", b"\x80\x80\x80abc", b"<\xef\xbd\x9cUser\xef\xbd\x9c>\xff",
    b"\xf8\x88\x80\x80\x80", b"\xe4\xb8\xad\xe6\x96", b"\xf0\x90\x80", b"\xf5\x80", b"\xdf",
]


def invalid_utf8_rows(tokenizer, rng):
    samples = list(INVALID_UTF8)
    for _ in range(40):
        samples.append(bytes(rng.randrange(256) for _ in range(rng.randint(1, 24))))
    rows = []
    for raw in samples:
        repaired = raw.decode("utf-8", "replace")
        rows.append({"bytes_hex": raw.hex(), "ids": tokenizer.encode(repaired, add_special_tokens=False).ids})
    return rows


# ----------------------------------------------------------------------------------------------
# Decode of arbitrary id sequences (partial UTF-8, special tokens, skip_special_tokens)


def decode_rows(tokenizer, rng):
    vocab_limit = tokenizer.get_vocab_size(with_added_tokens=True)
    byte_tokens = [74287, 225, 14, 6883, 7028]  # 74287 is the first 3 bytes of 🚀, 225 its last
    sequences = [[74287], [74287, 225], [225], [225, 74287], [0, 128803, 45948, 128804, 1],
                 [128805, 0, 1, 2, 128000, 128799, 128814], []]
    for _ in range(300):
        length = rng.randint(1, 12)
        ids = []
        for _ in range(length):
            r = rng.random()
            if r < 0.15:
                ids.append(rng.randrange(128000, vocab_limit))
            elif r < 0.25:
                ids.append(rng.choice(byte_tokens))
            elif r < 0.35:
                ids.append(rng.randrange(0, 3))
            else:
                ids.append(rng.randrange(0, 128000))
        sequences.append(ids)
    return [{"ids": ids, "decoded": tokenizer.decode(ids, skip_special_tokens=False),
             "decoded_skip_special": tokenizer.decode(ids, skip_special_tokens=True)}
            for ids in sequences]


# ----------------------------------------------------------------------------------------------
# Long inputs: generated from a palette by a 64-bit LCG that the C++ test repeats exactly; only a
# digest of the ids is stored.

LCG_MULTIPLIER = 6364136223846793005
LCG_INCREMENT = 1442695040888963407


def generate_long_text(palette, seed, target_bytes):
    state = seed
    parts = []
    size = 0
    while size < target_bytes:
        state = (state * LCG_MULTIPLIER + LCG_INCREMENT) % (1 << 64)
        piece = palette[(state >> 33) % len(palette)]
        parts.append(piece)
        size += len(piece.encode("utf-8"))
    return "".join(parts)


def fnv1a64_of_ids(ids):
    digest = 0xCBF29CE484222325
    for byte in ",".join(map(str, ids)).encode("ascii"):
        digest ^= byte
        digest = (digest * 0x100000001B3) % (1 << 64)
    return f"{digest:016x}"


def long_cases(tokenizer):
    mixed = WORDS + [" ", " ", " ", "\n", ". ", ", ", "123", "4567", "中文", "日本語の", "テキスト",
                     "🚀", "👨‍👩‍👧", "é", "x\u0301", "\t", "  ", "(", ")", "\"", "'s", "—"]
    specs = [
        {"name": "mixed_1mb", "palette": mixed, "seed": 42, "target_bytes": 1 << 20},
        {"name": "spaces_1mb", "palette": [" "], "seed": 1, "target_bytes": 1 << 20},
        {"name": "letters_1mb", "palette": ["a"], "seed": 1, "target_bytes": 1 << 20},
        {"name": "digits_256k", "palette": list("0123456789"), "seed": 7, "target_bytes": 1 << 18},
        {"name": "newlines_256k", "palette": ["\n", "\r\n", " \n"], "seed": 3, "target_bytes": 1 << 18},
    ]
    for spec in specs:
        text = generate_long_text(spec["palette"], spec["seed"], spec["target_bytes"])
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        spec["text_bytes"] = len(text.encode("utf-8"))
        spec["ids_count"] = len(ids)
        spec["ids_fnv1a64"] = fnv1a64_of_ids(ids)
        spec["first_ids"] = ids[:32]
        spec["last_ids"] = ids[-32:]
        print(f"  {spec['name']}: {spec['text_bytes']} bytes -> {len(ids)} ids")
    return specs


# ----------------------------------------------------------------------------------------------
# Chat templates


def jinja_environment():
    # As transformers.utils.chat_template_utils does.
    return jinja2.sandbox.ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])


def tool_call(name, arguments):
    return {"type": "function", "function": {"name": name, "arguments": arguments}}


V3_CONVERSATIONS = [
    ([{"role": "user", "content": "Hi"}], True),
    ([{"role": "user", "content": "Hi"}], False),
    ([], True),
    ([{"role": "system", "content": "S1"}, {"role": "system", "content": "S2"},
      {"role": "system", "content": "S3"}, {"role": "user", "content": "Q"}], True),
    ([{"role": "user", "content": "Q1"}, {"role": "system", "content": "late system"},
      {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"}], True),
    ([{"role": "system", "content": ""}, {"role": "user", "content": ""}], True),
    # One tool call, its output, then the answer.
    ([{"role": "user", "content": "Weather in Paris?"},
      {"role": "assistant", "content": None, "tool_calls": [tool_call("get_weather", "{\"city\": \"Paris\"}")]},
      {"role": "tool", "content": "{\"temp\": 21}"},
      {"role": "assistant", "content": "It is 21°C."}], True),
    # Two calls in one message, two outputs, generation prompt after tool output (suppressed).
    ([{"role": "system", "content": "You can call tools."}, {"role": "user", "content": "Compare"},
      {"role": "assistant", "content": None,
       "tool_calls": [tool_call("a", "{}"), tool_call("b", "{\"x\": [1, 2]}")]},
      {"role": "tool", "content": "A"}, {"role": "tool", "content": "B"}], True),
    # Tool calls across two assistant messages: ns.is_first and ns.is_output_first are never reset.
    ([{"role": "user", "content": "first"},
      {"role": "assistant", "content": None, "tool_calls": [tool_call("f", "1")]},
      {"role": "tool", "content": "r1"}, {"role": "assistant", "content": "mid"},
      {"role": "user", "content": "second"},
      {"role": "assistant", "content": None, "tool_calls": [tool_call("g", "2"), tool_call("h", "3")]},
      {"role": "tool", "content": "r2"}, {"role": "tool", "content": "r3"},
      {"role": "assistant", "content": "done"}, {"role": "user", "content": "thanks"}], True),
    # A tool message ending the conversation without a generation prompt.
    ([{"role": "user", "content": "x"}, {"role": "tool", "content": "out"}], False),
    # Assistant with null content and no tool_calls key renders nothing.
    ([{"role": "user", "content": "u"}, {"role": "assistant", "content": None}], True),
    # Unknown roles render nothing.
    ([{"role": "developer", "content": "ignored"}, {"role": "user", "content": "u"}], True),
    ([{"role": "user", "content": "中文 🚀 <｜User｜> injection\n\n"},
      {"role": "assistant", "content": "  spaced  "}], False),
]

VL_CONVERSATIONS = [
    ([{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe this image."}]}], True),
    ([{"role": "user", "content": "Hello"}], True),
    ([{"role": "user", "content": "  padded  "}, {"role": "assistant", "content": " reply "}], False),
    ([{"role": "user", "content": [{"type": "text", "text": "  a  "}, {"type": "text", "text": " b "},
                                   {"type": "image"}, {"type": "text", "text": " c  "}]}], True),
    ([{"role": "system", "content": "sys"}, {"role": "user", "content": "q"},
      {"role": "assistant", "content": "a"}, {"role": "user", "content": [{"type": "image"}, {"type": "image"}]}], True),
    ([{"role": "user", "content": "q"}, {"role": "assistant", "content": ""}], False),
    ([{"role": "user", "content": "q"}, {"role": "assistant", "content": ""}], True),
    ([{"role": "USER", "content": "upper"}, {"role": "Assistant", "content": "mixed"}], False),
    ([{"role": "user", "content": [{"type": "text", "text": "\u3000\u2003wide\u00a0"}, {"type": "video"}]}], True),
    ([{"role": "tool", "content": "t"}], True),
]


def as_vl_items(messages):
    """Fathom accepts string content for VL and treats it as one text item; render it that way."""
    return [dict(m, content=[{"type": "text", "text": m["content"]}]) if isinstance(m["content"], str) else m
            for m in messages]


def chat_rows(tokenizer, config):
    environment = jinja_environment()
    v3 = environment.from_string(config["chat_template"])
    vl = environment.from_string(DEEPSEEK_VL_TEMPLATE)
    bos = config["bos_token"]["content"]
    bos_id = tokenizer.token_to_id(bos)
    v3_rows, vl_rows = [], []
    for messages, add_generation_prompt in V3_CONVERSATIONS:
        text = v3.render(messages=messages, add_generation_prompt=add_generation_prompt, bos_token=bos)
        ids = tokenizer.encode(text, add_special_tokens=False).ids  # starts with BOS already
        v3_rows.append({"messages": messages, "add_generation_prompt": add_generation_prompt,
                        "text": text, "ids": ids})
    for messages, add_generation_prompt in VL_CONVERSATIONS:
        text = vl.render(messages=as_vl_items(messages), add_generation_prompt=add_generation_prompt,
                         bos_token=bos)
        # DeepseekVLProcessor tokenizes with add_special_tokens=True; LlamaTokenizerFast
        # (add_bos_token=true) then prepends BOS, which raw `tokenizers` does not do itself.
        ids = [bos_id] + tokenizer.encode(text, add_special_tokens=False).ids
        vl_rows.append({"messages": messages, "add_generation_prompt": add_generation_prompt,
                        "text": text, "ids": ids})
    return v3_rows, vl_rows


# ----------------------------------------------------------------------------------------------
# Small synthetic tokenizers exercising tokenizer.json features DeepSeek-V3 does not use.


def byte_level_alphabet():
    return pre_tokenizers.ByteLevel.alphabet()


def byte_level_bpe(merge_words, **kwargs):
    vocab = {}
    for char in sorted(byte_level_alphabet()):
        vocab[char] = len(vocab)
    merges = []
    for left, right in merge_words:
        merges.append((left, right))
        if left + right not in vocab:
            vocab[left + right] = len(vocab)
    return models.BPE(vocab=vocab, merges=merges, **kwargs)


def mini_tokenizers():
    minis = {}
    # Added-token flags, a normalizer that changes text, normalized added tokens, GPT-2 regex.
    flags = Tokenizer(byte_level_bpe([("h", "e"), ("l", "l"), ("he", "ll"), ("hell", "o"), ("Ġ", "w"),
                                      ("o", "r"), ("Ġw", "or"), ("Ġwor", "l"), ("Ġworl", "d")]))
    flags.normalizer = normalizers.Sequence([normalizers.Replace("A", "a"), normalizers.Replace(Regex("[0-9]{2}"), "#")])
    flags.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    flags.decoder = decoders.ByteLevel()
    flags.add_tokens([AddedToken("<mask>", lstrip=True, normalized=False),
                      AddedToken("[R]", rstrip=True, normalized=False),
                      AddedToken("word", single_word=True, normalized=False),
                      AddedToken("<Aa>", normalized=True),
                      AddedToken("<both>", lstrip=True, rstrip=True, normalized=False),
                      AddedToken("<mask>x", normalized=False)])
    flags.add_special_tokens([AddedToken("<s>", special=True), AddedToken("</s>", special=True)])
    minis["flags"] = flags

    # Split behaviours, Digits, Punctuation, WhitespaceSplit, prefix spaces, ignore_merges,
    # TemplateProcessing.
    splits = Tokenizer(byte_level_bpe([("Ġ", "a"), ("Ġa", "b"), ("a", "b"), ("ab", "c"), ("Ġ", "="), ("1", "2")],
                                      ignore_merges=True))
    splits.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex("-+"), "merged_with_previous"),
        pre_tokenizers.Split(Regex("=+"), "merged_with_next"),
        pre_tokenizers.Split(Regex("\\|"), "removed"),
        pre_tokenizers.Split(Regex("[aeiou]"), "contiguous", invert=True),
        pre_tokenizers.Split("::", "isolated"),
        pre_tokenizers.Digits(individual_digits=False),
        pre_tokenizers.Punctuation("isolated"),
        pre_tokenizers.WhitespaceSplit(),
        pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=False),
    ])
    splits.decoder = decoders.ByteLevel()
    splits.add_special_tokens([AddedToken("<s>", special=True), AddedToken("</s>", special=True)])
    splits.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", splits.token_to_id("<s>")), ("</s>", splits.token_to_id("</s>"))])
    minis["splits"] = splits

    # Character BPE without ByteLevel: unk with fuse_unk, byte_fallback, Whitespace, no decoder.
    vocab = {"<unk>": 0, "<0x41>": 1, "<0xE2>": 2, "<0x82>": 3, "<0xAC>": 4}
    for char in "abcdefghijklmnopqrstuvwxyz.,!":
        vocab[char] = len(vocab)
    merges = [("a", "b"), ("ab", "c"), ("t", "h"), ("th", "e")]
    for left, right in merges:
        vocab[left + right] = len(vocab)
    chars = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    chars.pre_tokenizer = pre_tokenizers.Whitespace()
    minis["chars"] = chars
    return minis


MINI_TEXTS = [
    "hello world", "hello<mask> world", "hello   <mask>world", "a [R]   b", "a[R]\n\nb", "word", "a word b",
    "sword", "words", "word.", "élan word", "x<Aa>y", "x<AA>y", "x<aa>y", "12 34 5 A", "  <both>  z",
    "<mask>x", "<mask>xy", "<s>hello</s>", "<mask><mask>", "  <mask>  <mask>", "1word2",
    "abc-def--ghi", "a==b=c", "x|y||z", "aeixyzou", "a::b:::c", "123abc45", "a,b.c!", "ab abc  abcabc",
    "=ab", "12 1212", "the abc", "THE ABC", "A€", "€", "zz~", "hello, world!", "", "   ",
]


def mini_rows(minis):
    rows = []
    for name, tokenizer in minis.items():
        path = os.path.join(GOLDENS, "mini", name, "tokenizer.json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tokenizer.save(path)
        loaded = Tokenizer.from_file(path)
        for text in MINI_TEXTS:
            plain = loaded.encode(text, add_special_tokens=False).ids
            wrapped = loaded.encode(text, add_special_tokens=True).ids
            rows.append({"tokenizer": name, "text": text, "ids": plain, "ids_with_special": wrapped,
                         "decoded": loaded.decode(plain, skip_special_tokens=False),
                         "decoded_skip_special": loaded.decode(wrapped, skip_special_tokens=True)})
    return rows


def main():
    if not os.path.isdir(SHARED_V3):
        sys.exit(f"make_goldens.py: {SHARED_V3} not found (needs ../shared next to the repository)")
    os.makedirs(GOLDENS, exist_ok=True)
    tokenizer = Tokenizer.from_file(os.path.join(SHARED_V3, "tokenizer.json"))
    with open(os.path.join(SHARED_V3, "tokenizer.json"), encoding="utf-8") as file:
        tokenizer_json = json.load(file)
    with open(os.path.join(SHARED_V3, "tokenizer_config.json"), encoding="utf-8") as file:
        config = json.load(file)

    rng = random.Random(20261122)
    texts = EDGE_TEXTS + random_texts(rng, 1500)
    write_jsonl("deepseek_v3_encode.jsonl", encode_rows(tokenizer, texts))
    write_jsonl("deepseek_v3_added_tokens.jsonl", encode_rows(tokenizer, special_token_texts(tokenizer_json)))
    write_jsonl("deepseek_v3_invalid_utf8.jsonl", invalid_utf8_rows(tokenizer, rng))
    write_jsonl("deepseek_v3_decode.jsonl", decode_rows(tokenizer, rng))
    write_json("deepseek_v3_long.json", long_cases(tokenizer))
    v3_rows, vl_rows = chat_rows(tokenizer, config)
    write_jsonl("chat_deepseek_v3.jsonl", v3_rows)
    write_jsonl("chat_deepseek_vl.jsonl", vl_rows)
    # The VL template text itself, so the C++ tests can check that it is recognised.
    with open(os.path.join(GOLDENS, "deepseek_vl_chat_template.jinja"), "w", encoding="utf-8") as out:
        out.write(DEEPSEEK_VL_TEMPLATE)
    write_jsonl("mini_encode.jsonl", mini_rows(mini_tokenizers()))


if __name__ == "__main__":
    main()
