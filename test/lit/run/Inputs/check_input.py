"""Checks fathom-run --input's JSON lines against one fathom-run --prompt per request.

  check_input.py RESULTS REQUESTS ARTIFACT MAX_NEW_TOKENS
Every runnable request's result must equal a run of that prompt alone (text, ids, finish
reason), results come in input order, and bad lines carry an error naming their line.
"""
import json
import subprocess
import sys

results_file, requests_file, artifact, max_new = sys.argv[1:5]
results = [json.loads(line) for line in open(results_file)]
requests = [(number, line) for number, line in enumerate(open(requests_file), 1) if line.strip()]
assert len(results) == len(requests), (len(results), len(requests))
runs = errors = 0
for index, (result, (number, line)) in enumerate(zip(results, requests)):
    assert result["index"] == index, result
    try:
        request = json.loads(line)
        prompt = request.get("prompt")
    except json.JSONDecodeError:
        request, prompt = None, None
    if "error" in result:
        assert result["error"].startswith(f"line {number}: "), result
        errors += 1
        continue
    args = ["--prompt", prompt] if prompt is not None else [
        "--prompt-ids", ",".join(map(str, request["prompt_ids"]))]
    alone = json.loads(subprocess.run(["fathom-run", artifact, *args, "--max-new-tokens", max_new,
                                       "--greedy", "--json"], capture_output=True, text=True,
                                      check=True).stdout)
    assert result["ids"] == alone["ids"][0], (index, result, alone)
    assert result["finish_reason"] == alone["finish_reason"][0], (index, result, alone)
    if prompt is not None:
        assert result["text"] == alone["text"][0], (index, result, alone)
    runs += 1
print(f"{runs} requests equal their runs alone, {errors} refused")
