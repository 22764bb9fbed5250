"""Drives fathom-serve with a real HTTP client (Python's http.client) and checks what it answers.

  serve_client.py ARTIFACT VL_ARTIFACT IMAGE

Starts fathom-serve on a free loopback port and checks: greedy chat and completions, streamed
and not, equal fathom-run's text for the same prompt; 8 concurrent streaming clients with
different prompts and max_tokens each get exactly their own text; a client that hangs up
mid-stream has its KV blocks freed; bad requests get the right 4xx and the server keeps
serving; /health, /v1/models and /metrics; a vision-language artifact answers an image_url
part as fathom-run --chat answers /image. Prints one line per check; exits non-zero on the
first failure.
"""
import atexit
import base64
import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time

artifact, vl_artifact, image_file = sys.argv[1:4]


servers = []


def fail(message):
    print("FAIL: " + message)
    for running in servers:
        running.kill()
    sys.exit(1)


def start(*extra):
    server = subprocess.Popen(["fathom-serve", artifact, "--port", "0", *extra],
                              stderr=subprocess.PIPE, text=True)
    servers.append(server)
    line = server.stderr.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    if not found:
        fail("fathom-serve did not start: " + line + server.stderr.read())
    return server, int(found.group(1))


atexit.register(lambda: [running.kill() for running in servers])
server, port = start("--max-body-bytes", "8192")


def request(method, path, body=None, raw=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    connection.request(method, path, body=data, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    text = response.read().decode()
    connection.close()
    return response.status, text


def generate(path, body):
    status, text = request("POST", path, body)
    if status != 200:
        fail(f"{path} answered {status}: {text}")
    return json.loads(text)


def stream(path, body, stop_after=None):
    """The text of a streamed response, its finish reason and whether [DONE] ended it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", path, body=json.dumps(dict(body, stream=True)),
                       headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    if response.status != 200:
        fail(f"stream {path} answered {response.status}")
    if response.getheader("Content-Type", "").split(";")[0] != "text/event-stream":
        fail("a stream is not text/event-stream: " + str(response.getheader("Content-Type")))
    text, reason, done, events = "", None, False, 0
    while True:
        line = response.readline().decode()
        if not line:
            break
        line = line.strip()
        if not line:
            continue
        if not line.startswith("data: "):
            fail("not a server-sent event: " + line)
        payload = line[len("data: "):]
        if payload == "[DONE]":
            done = True
            break
        chunk = json.loads(payload)
        if "error" in chunk:
            fail("stream error: " + payload)
        events += 1
        for choice in chunk["choices"]:
            delta = choice.get("delta", {}).get("content") if "delta" in choice else choice["text"]
            text += delta or ""
            reason = choice["finish_reason"] or reason
        if stop_after is not None and events >= stop_after:
            connection.sock.shutdown(socket.SHUT_RDWR)
            connection.close()
            return text, reason, done
    connection.close()
    return text, reason, done


def fathom_run_text(prompt, max_tokens):
    out = subprocess.run(["fathom-run", artifact, "--prompt", prompt, "--max-new-tokens",
                          str(max_tokens), "--greedy", "--json"], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)["text"][0]


def fathom_run_chat(message, max_tokens):
    out = subprocess.run(["fathom-run", artifact, "--chat", "--max-new-tokens", str(max_tokens),
                          "--greedy", "--json"], input=message + "\n", capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.splitlines()[0])["text"]


def metrics():
    status, text = request("GET", "/metrics")
    if status != 200:
        fail("/metrics answered " + str(status))
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


# Health and the model list.
status, text = request("GET", "/health")
if status != 200 or json.loads(text) != {"status": "ok"}:
    fail("/health: " + text)
models = json.loads(request("GET", "/v1/models")[1])
name = models["data"][0]["id"]
print("health and models: ok (" + name + ")")

# Completions and chat, greedy, each the text fathom-run gives.
prompt = "In the beginning God"
expected = fathom_run_text(prompt, 24)
body = {"model": name, "prompt": prompt, "max_tokens": 24, "temperature": 0}
whole = generate("/v1/completions", body)
if whole["choices"][0]["text"] != expected:
    fail(f"completion {whole['choices'][0]['text']!r} != fathom-run {expected!r}")
if whole["usage"]["completion_tokens"] != 24 or whole["choices"][0]["finish_reason"] != "length":
    fail("completion usage / finish_reason: " + json.dumps(whole))
text, reason, done = stream("/v1/completions", body)
if text != expected or reason != "length" or not done:
    fail(f"streamed completion {text!r} ({reason}, done {done}) != {expected!r}")
print("completions, streamed and not, equal fathom-run: ok")

# Logprobs: the greedy token is the most likely one, with its alternatives in order.
whole = generate("/v1/completions", {"prompt": prompt, "max_tokens": 6, "temperature": 0,
                                     "logprobs": 3, "ignore_eos": True})
logprobs = whole["choices"][0]["logprobs"]
if len(logprobs["tokens"]) != 6 or len(logprobs["top_logprobs"]) != 6:
    fail("logprobs per token: " + json.dumps(logprobs))
for chosen, top in zip(logprobs["token_logprobs"], logprobs["top_logprobs"]):
    values = sorted(top.values(), reverse=True)
    if len(top) > 3 or not values or chosen > 0 or abs(chosen - values[0]) > 1e-9:
        fail("greedy token not the most likely: " + json.dumps(logprobs))
chat = generate("/v1/chat/completions", {"messages": [{"role": "user", "content": "Hi"}],
                                         "max_tokens": 4, "temperature": 0, "logprobs": True,
                                         "top_logprobs": 2})
content = chat["choices"][0]["logprobs"]["content"]
if len(content) != chat["usage"]["completion_tokens"] or any(len(c["top_logprobs"]) != 2
                                                             for c in content):
    fail("chat logprobs: " + json.dumps(chat))
print("logprobs: ok")

message = "Who made the heaven and the earth?"
expected = fathom_run_chat(message, 20)
body = {"messages": [{"role": "user", "content": message}], "max_tokens": 20, "temperature": 0}
whole = generate("/v1/chat/completions", body)
if whole["choices"][0]["message"]["content"] != expected:
    fail(f"chat {whole['choices'][0]['message']['content']!r} != fathom-run {expected!r}")
text, reason, done = stream("/v1/chat/completions", body)
if text != expected or not done:
    fail(f"streamed chat {text!r} != {expected!r}")
print("chat, streamed and not, equals fathom-run --chat: ok")

# The next turn of a chat resends the whole conversation: the prefix cache finds the first turn's
# tokens, and the reply is still the one fathom-run --chat gives on its second turn.
first = whole["choices"][0]["message"]["content"]
follow = "And what did he divide?"
body2 = {"messages": [{"role": "user", "content": message},
                      {"role": "assistant", "content": first},
                      {"role": "user", "content": follow}], "max_tokens": 20, "temperature": 0}
second = generate("/v1/chat/completions", body2)
out = subprocess.run(["fathom-run", artifact, "--chat", "--max-new-tokens", "20", "--greedy",
                      "--json"], input=message + "\n" + follow + "\n", capture_output=True,
                     text=True, check=True)
expected2 = json.loads(out.stdout.splitlines()[1])["text"]
if second["choices"][0]["message"]["content"] != expected2:
    fail(f"second turn {second['choices'][0]['message']['content']!r} != {expected2!r}")
cached = second["usage"]["prompt_tokens_details"]["cached_tokens"]
if cached < whole["usage"]["prompt_tokens"] or cached >= second["usage"]["prompt_tokens"]:
    fail(f"the second turn found {cached} cached tokens: " + json.dumps(second["usage"]))
print("a chat's next turn reads its history from the prefix cache: ok")

# Eight concurrent streaming clients, each with its own prompt length and max_tokens.
prompts = ["And God said", "Let there be light", "In the beginning God created the heaven",
           "And the earth was without form, and void; and darkness",
           "And the evening and the morning were the first day. And God said, Let",
           "Jesus wept", "The LORD is my shepherd; I shall not want. He maketh me",
           "Blessed are the poor in spirit: for theirs"]
limits = [5, 12, 7, 16, 9, 20, 3, 11]
expected = [fathom_run_text(p, n) for p, n in zip(prompts, limits)]


def stream_concurrently(texts, max_tokens):
    """One streaming client per prompt, all at once; their stream() results in order."""
    results = [None] * len(texts)

    def client(i):
        results[i] = stream("/v1/completions", {"prompt": texts[i], "max_tokens": max_tokens[i],
                                                "temperature": 0})

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


results = stream_concurrently(prompts, limits)
for i, (result, want) in enumerate(zip(results, expected)):
    if result is None or result[0] != want or not result[2]:
        fail(f"concurrent client {i}: {result!r} != {want!r}")
print("8 concurrent streaming clients each got their own text: ok")

# Seeded sampling: each request draws from its own generator, one draw per token as
# fathom-run's generate() does, so the same seed gives fathom-run's text, alone or beside others
# (in one batch the device may choose every row's token; a greedy request beside them keeps the
# choice on the host).
sampled = "And God said"
sampled_args = ["--temperature", "0.8", "--top-k", "40", "--top-p", "0.9", "--seed", "7"]
out = subprocess.run(["fathom-run", artifact, "--prompt", sampled, "--max-new-tokens", "12",
                      "--json"] + sampled_args, capture_output=True, text=True, check=True)
want = json.loads(out.stdout)["text"][0]
body = {"prompt": sampled, "max_tokens": 12, "temperature": 0.8, "top_k": 40, "top_p": 0.9,
        "seed": 7}
for together in ([body] * 3, [body, body, {"prompt": sampled, "max_tokens": 12,
                                           "temperature": 0}]):
    results = [None] * len(together)

    def sampled_client(i):
        results[i] = generate("/v1/completions", together[i])["choices"][0]["text"]

    threads = [threading.Thread(target=sampled_client, args=(i,)) for i in range(len(together))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i, got in enumerate(results):
        if together[i].get("seed") == 7 and got != want:
            fail(f"seeded sample {i}: {got!r} != fathom-run {want!r}")
print("seeded sampling, alone or beside others, equals fathom-run: ok")

def wait_cancelled(before, what):
    """Polls /metrics until one more request was cancelled and nothing runs or holds blocks."""
    deadline = time.time() + 20
    while True:
        now = metrics()
        if (now["fathom_requests_running"] == 0 and now["fathom_kv_cache_blocks_in_use"] == 0 and
                now['fathom_requests_total{outcome="cancelled"}'] >
                before['fathom_requests_total{outcome="cancelled"}']):
            return now
        if time.time() > deadline:
            fail(what + ": " + json.dumps(now))
        time.sleep(0.05)


# A client that hangs up mid-stream: its request is cancelled and its blocks are freed.
before = metrics()
stream("/v1/completions", {"prompt": prompt, "max_tokens": 200, "temperature": 0}, stop_after=2)
wait_cancelled(before, "a disconnected client's request still holds blocks")
print("a disconnected client's blocks are freed: ok")

# A non-streaming client that hangs up is cancelled too (its socket is watched while it waits).
before = metrics()
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
connection.request("POST", "/v1/completions", body=json.dumps(
    {"prompt": prompt, "max_tokens": 1000, "temperature": 0, "ignore_eos": True}),
    headers={"Content-Type": "application/json"})
time.sleep(0.2)
connection.sock.shutdown(socket.SHUT_RDWR)
connection.close()
now = wait_cancelled(before, "a disconnected non-streaming client's request still runs")
if now["fathom_generation_tokens_total"] - before["fathom_generation_tokens_total"] >= 1000:
    fail("the disconnected request ran to its end")
print("a disconnected non-streaming client is cancelled: ok")

# Bad requests: the right 4xx, an OpenAI error object, and the server keeps serving.
bad = [
    ("malformed JSON", "/v1/completions", '{"prompt": "x", ', 400, None),
    ("not an object", "/v1/completions", "[1, 2]", 400, None),
    ("temperature of the wrong type", "/v1/completions",
     json.dumps({"prompt": "x", "temperature": "hot"}), 400, "temperature"),
    ("max_tokens of the wrong type", "/v1/chat/completions",
     json.dumps({"messages": [{"role": "user", "content": "x"}], "max_tokens": "ten"}), 400,
     "max_tokens"),
    ("negative max_tokens", "/v1/completions", json.dumps({"prompt": "x", "max_tokens": -5}),
     400, "max_tokens"),
    ("a prompt over the context", "/v1/completions",
     json.dumps({"prompt": "And God said " * 400}), 400, "prompt"),
    ("a reply over the context", "/v1/completions",
     json.dumps({"prompt": "x", "max_tokens": 100000}), 400, "prompt"),
    ("no messages", "/v1/chat/completions", json.dumps({"max_tokens": 3}), 400, "messages"),
    ("a message without a role", "/v1/chat/completions",
     json.dumps({"messages": [{"content": "x"}]}), 400, "messages[0].role"),
    ("n = 2", "/v1/completions", json.dumps({"prompt": "x", "n": 2}), 400, "n"),
    ("token ids past the vocabulary", "/v1/completions",
     json.dumps({"prompt": [1, 99999999]}), 400, "prompt"),
    ("an unknown model", "/v1/completions", json.dumps({"prompt": "x", "model": "gpt-9"}), 404,
     "model"),
    ("an oversized body", "/v1/completions", json.dumps({"prompt": "x" * 20000}), 413, None),
]
for what, path, raw, want, param in bad:
    status, text = request("POST", path, raw=raw)
    if status != want:
        fail(f"{what}: {status} {text}, expected {want}")
    error = json.loads(text).get("error")
    if not error or not error.get("message") or error.get("param") != param:
        fail(f"{what}: not an OpenAI error object with param {param}: {text}")
status, text = request("GET", "/no/such/route")
if status != 404:
    fail("an unknown route answered " + str(status))
if request("GET", "/health")[0] != 200:
    fail("the server stopped serving after bad requests")
generate("/v1/completions", {"prompt": prompt, "max_tokens": 2})
print(f"{len(bad) + 1} bad requests refused with 4xx, still serving: ok")

values = metrics()
for metric in ["fathom_prompt_tokens_total", "fathom_generation_tokens_total",
               "fathom_requests_waiting", "fathom_kv_cache_blocks_total",
               "fathom_time_to_first_token_seconds_count",
               "fathom_inter_token_latency_seconds_count"]:
    if metric not in values:
        fail("/metrics lacks " + metric)
if values["fathom_time_to_first_token_seconds_count"] < 10:
    fail("time to first token not observed")
print("metrics: ok")

server.send_signal(signal.SIGINT)
if server.wait(timeout=20) != 0:
    fail("fathom-serve did not exit cleanly on SIGINT")

# A pool too small for the batch: running sequences are preempted (their blocks freed, their
# tokens read again later) and every client still gets exactly its own text; a prompt larger than
# the whole pool is refused with 503.
server, port = start("--kv-cache-tokens", "128")  # two blocks of 64 tokens
# Prompts of 10-20 tokens and 60 new tokens: every sequence outgrows its first block.
long_prompts = [prompts[3], prompts[4], prompts[6], prompts[2]]
expected = [fathom_run_text(p, 60) for p in long_prompts]
results = stream_concurrently(long_prompts, [60] * 4)
for i, (result, want) in enumerate(zip(results, expected)):
    if result is None or result[0] != want:
        fail(f"small pool client {i}: {result!r} != {want!r}")
if metrics()["fathom_preemptions_total"] < 1:
    fail("the small pool preempted nothing: " + json.dumps(metrics()))
status, text = request("POST", "/v1/completions",
                       {"prompt": "And God said " * 60, "max_tokens": 2})
if status != 503 or "KV cache" not in json.loads(text)["error"]["message"]:
    fail(f"a prompt past the pool answered {status}: {text}")
server.send_signal(signal.SIGINT)
server.wait(timeout=20)
print("a small pool preempts and still answers exactly: ok")

# Images in chat messages (DeepSeek-VL): an image_url part with a data: URL answers as
# fathom-run --chat answers /image with the same file; the text model refuses images.
server, port = start()
status, text = request("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": [
    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]})
if status != 400 or "takes no images" not in json.loads(text)["error"]["message"]:
    fail(f"the text model took an image: {status} {text}")
server.send_signal(signal.SIGINT)
server.wait(timeout=20)
artifact = vl_artifact
server, port = start()
with open(image_file, "rb") as f:
    data = "data:image/jpeg;base64," + base64.b64encode(f.read()).decode()
parts = [{"type": "image_url", "image_url": {"url": data}}, {"type": "text", "text": "Describe this."}]
reply = generate("/v1/chat/completions", {"messages": [{"role": "user", "content": parts}],
                                          "max_tokens": 6, "temperature": 0})
out = subprocess.run(["fathom-run", vl_artifact, "--chat", "--max-new-tokens", "6", "--greedy",
                      "--json"], input=f"/image {image_file}\nDescribe this.\n",
                     capture_output=True, text=True, check=True)
if reply["choices"][0]["message"]["content"] != json.loads(out.stdout.splitlines()[0])["text"]:
    fail("an image chat differs from fathom-run --chat /image: " + json.dumps(reply))
alone = generate("/v1/chat/completions", {"messages": [{"role": "user", "content": "Describe this."}],
                                          "max_tokens": 6, "temperature": 0})
if alone["usage"]["prompt_tokens"] >= reply["usage"]["prompt_tokens"]:
    fail("the image added no tokens: " + json.dumps(reply["usage"]))
for url, why in [("http://example.com/photo.jpg", "fetches nothing"),
                 ("data:image/jpeg;base64,AAAA", "unsupported image format"),
                 ("data:image/jpeg;base64,%%%", "base64")]:
    status, text = request("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": url}}]}]})
    if status != 400 or why not in json.loads(text)["error"]["message"]:
        fail(f"image url {url!r} answered {status}: {text}")
server.send_signal(signal.SIGINT)
server.wait(timeout=20)
artifact = sys.argv[1]
print("images in chat messages answer as fathom-run --chat /image: ok")

# A full queue: 429 with a clear body.
server, port = start("--max-waiting", "0")
status, text = request("POST", "/v1/completions", {"prompt": "x", "max_tokens": 2})
if status != 429 or "busy" not in json.loads(text)["error"]["message"]:
    fail(f"a full queue answered {status}: {text}")
server.send_signal(signal.SIGINT)
server.wait(timeout=20)
print("a full queue answers 429: ok")
