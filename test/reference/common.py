"""Shared constants and helpers for the reference-data scripts (make_checkpoints.py, record_outputs.py)."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENIZER_DIR = os.path.join(HERE, "tokenizer")
CKPT_DIR = os.path.join(HERE, "checkpoints")
OUT_DIR = os.path.join(HERE, "outputs")
IMAGE_DIR = os.path.join(HERE, "images")
IMAGE_PATH = os.path.join(IMAGE_DIR, "test-45x30.png")

# Every random draw in make_checkpoints.py derives from this seed (one torch.Generator per checkpoint,
# seeded SEED + CHECKPOINT_SEED_OFFSET[name]).
SEED = 20251122
CHECKPOINT_SEED_OFFSET = {
    "tiny-v3": 0,
    "tiny-v3-seqcls": 1,
    "tiny-v3-tokcls": 2,
    "tiny-v3-fp8": 3,
    "tiny-v2-lite": 4,
    "tiny-vl": 5,
    "tiny-v2-mlp-bias": 6,
    "tiny-vl-gqa": 7,
    "cases": 100,  # the random-id prompt in record_outputs.py
}

# Token ids of the tiny tokenizer (checked by make_tokenizer.py).
BOS_ID, EOS_ID, PAD_TOKEN_ID, USER_ID, ASSISTANT_ID, IMAGE_ID = 0, 1, 2, 509, 510, 511
VOCAB = 512
BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"
PAD = "<｜▁pad▁｜>"
IMAGE = "<image_placeholder>"
# As in DeepSeek-V3's tokenizer_config.json, the tokenizer's pad token is the EOS token (id 1), not <｜▁pad▁｜> (id 2).
PAD_ID = EOS_ID

# The DeepSeek-VL chat template, copied from transformers' tests/models/deepseek_vl/test_processing_deepseek_vl.py
# (Apache-2.0), which is the template of deepseek-community/deepseek-vl-1.3b-chat.
DEEPSEEK_VL_CHAT_TEMPLATE = "{% set seps = ['\n\n', '<\uff5cend\u2581of\u2581sentence\uff5c>'] %}{% set i = 0 %}You are a helpful language and vision assistant. You are able to understand the visual content that the user provides, and assist the user with a variety of tasks using natural language.\n\n{% for message in messages %}{% if message['role']|lower == 'user' %}User: {% elif message['role']|lower == 'assistant' %}Assistant:{% if not (loop.last and not add_generation_prompt and message['content'][0]['type']=='text' and message['content'][0]['text']=='') %} {% endif %}{% else %}{{ message['role'].capitalize() }}: {% endif %}{% for content in message['content'] %}{% if content['type'] == 'image' %}<image_placeholder>{% elif content['type'] == 'text' %}{% set text = content['text'] %}{% if loop.first %}{% set text = text.lstrip() %}{% endif %}{% if loop.last %}{% set text = text.rstrip() %}{% endif %}{% if not loop.first and message['content'][loop.index0-1]['type'] == 'text' %}{{ ' ' + text }}{% else %}{{ text }}{% endif %}{% endif %}{% endfor %}{% if not loop.last or add_generation_prompt %}{% if message['role']|lower == 'user' %}{{ seps[0] }}{% else %}{{ seps[1] }}{% endif %}{% endif %}{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}"  # noqa: E501

# Checkpoint name -> (transformers class name, what the outputs contain)
CHECKPOINTS = {
    "tiny-v3": "DeepseekV3ForCausalLM",
    "tiny-v3-fused": "DeepseekV3ForCausalLM",
    "tiny-v3-fp8": "DeepseekV3ForCausalLM",
    "tiny-v2-lite": "DeepseekV2ForCausalLM",
    "tiny-v2-mlp-bias": "DeepseekV2ForCausalLM",
    "tiny-vl": "DeepseekVLForConditionalGeneration",
    "tiny-vl-gqa": "DeepseekVLForConditionalGeneration",
    "tiny-v3-seqcls": "DeepseekV3ForSequenceClassification",
    "tiny-v3-tokcls": "DeepseekV3ForTokenClassification",
}


def setup_torch():
    import torch

    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set
        pass
    torch.use_deterministic_algorithms(True)
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    return torch


def dump_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def versions():
    import platform

    import numpy
    import PIL
    import safetensors
    import tokenizers
    import torch
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "safetensors": safetensors.__version__,
        "numpy": numpy.__version__,
        "pillow": PIL.__version__,
    }
