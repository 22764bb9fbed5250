"""Checks fathom-run --chat --json turns against one fresh run per turn.

Each turn must reuse the whole previous prompt from the cache (it prefills only what is new),
and its reply must be the one fathom-run gives for the whole rendered conversation prefilled
at once (rendered by fathom-tokenize --chat). Usage:
  check_chat.py CHAT_OUTPUT MESSAGES_FILE SYSTEM ARTIFACT TOKENIZER_DIR MAX_NEW_TOKENS
"""
import json
import subprocess
import sys

chat_output, messages_file, system, artifact, tokenizer_dir, max_new = sys.argv[1:7]
turns = [json.loads(line) for line in open(chat_output)]
questions = [line.rstrip("\n") for line in open(messages_file) if line.strip()]
assert len(turns) == len(questions), (len(turns), len(questions))

messages = [{"role": "system", "content": system}]
previous_rendered = 0
prefilled = rendered = 0
for number, (turn, question) in enumerate(zip(turns, questions), 1):
    messages.append({"role": "user", "content": question})
    render = subprocess.run(
        ["fathom-tokenize", tokenizer_dir, "--chat"],
        input=json.dumps({"messages": messages, "add_generation_prompt": True}) + "\n",
        capture_output=True, text=True, check=True)
    ids = json.loads(render.stdout)["ids"]
    assert turn["rendered_tokens"] == len(ids), (number, turn["rendered_tokens"], len(ids))
    assert turn["reused_tokens"] + turn["prompt_tokens"] == len(ids), (number, turn)
    assert turn["reused_tokens"] >= previous_rendered, (number, turn, previous_rendered)
    fresh = subprocess.run(
        ["fathom-run", artifact, "--prompt-ids", ",".join(map(str, ids)),
         "--max-new-tokens", max_new, "--greedy", "--json"],
        capture_output=True, text=True, check=True)
    assert json.loads(fresh.stdout)["ids"][0] == turn["ids"], (number, turn["ids"], fresh.stdout)
    messages.append({"role": "assistant", "content": turn["text"]})
    previous_rendered = len(ids)
    prefilled += turn["prompt_tokens"]
    rendered += len(ids)
print(f"{len(turns)} turns: prefilled {prefilled} of {rendered} rendered tokens")
