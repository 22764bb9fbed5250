"""A mutation campaign against the built command-line tools, the way an attacker would try them:
mutate real inputs (test/reference checkpoints, tokenizers, compiled artifacts), run the CLI on
each with a time and memory limit, and classify what happened.
    mutate_cli.py BUILD_BIN_DIR WORK_DIR [--cases N] [--seed S] [--kinds inspect,compile,...]
Outcomes: ok (exit 0), refused (non-zero exit, one `error:` line naming a file or field),
and the findings: crash (a signal), hang (past the time limit), bad-error (several lines, or a
C++ library message such as vector::_M_range_check), accepted-but-wrong (a mutated checkpoint
that compiles but whose run then fails on NaN logits or crashes). Prints a table; exits 1 on
any finding, with the inputs kept under WORK_DIR/findings/."""
import argparse
import json
import os
import random
import resource
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(os.path.dirname(HERE), "reference", "checkpoints")
TIMEOUT = 20
MEMORY = 2 << 30
INTERNAL_TEXTS = ("_M_range_check", "basic_string", "std::", "terminate called", "what():",
                  "bad_alloc", "json.exception", "Assertion")

# ---------------------------------------------------------------- XXH64, for re-checksumming
P1, P2, P3, P4, P5 = (11400714785074694791, 14029467366897019727, 1609587929392839161,
                      9650029242287828579, 2870177450012600261)
M64 = (1 << 64) - 1


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M64


def _round(acc, lane):
    return (_rotl((acc + lane * P2) & M64, 31) * P1) & M64


def _merge(acc, val):
    return ((acc ^ _round(0, val)) * P1 + P4) & M64


def xxh64(data, seed=0):
    n, i = len(data), 0
    if n >= 32:
        v = [(seed + P1 + P2) & M64, (seed + P2) & M64, seed, (seed - P1) & M64]
        while i + 32 <= n:
            for j in range(4):
                v[j] = _round(v[j], struct.unpack_from("<Q", data, i + 8 * j)[0])
            i += 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & M64
        for lane in v:
            h = _merge(h, lane)
    else:
        h = (seed + P5) & M64
    h = (h + n) & M64
    while i + 8 <= n:
        h = ((_rotl(h ^ _round(0, struct.unpack_from("<Q", data, i)[0]), 27) * P1) + P4) & M64
        i += 8
    if i + 4 <= n:
        h = ((_rotl(h ^ (struct.unpack_from("<I", data, i)[0] * P1) & M64, 23) * P2) + P3) & M64
        i += 4
    while i < n:
        h = (_rotl(h ^ (data[i] * P5) & M64, 11) * P1) & M64
        i += 1
    h ^= h >> 33
    h = (h * P2) & M64
    h ^= h >> 29
    h = (h * P3) & M64
    return h ^ (h >> 32)


# ---------------------------------------------------------------- JSON-aware mutations
EXTREMES = [0, -1, 1, 2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**64, -2**63, 1e308, -1e308, 1e-308,
            0.5, 1e999, "x", "", None, True, [], {}, [0], [1e308], [[[[]]]]]


def deep(levels):
    return "[" * levels + "]" * levels


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value[:8]):
            yield from paths(item, prefix + (index,))


def set_path(root, path, new):
    if not path:
        return new
    node = root
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = new
    return root


def mutate_json_text(text, rng):
    """One structural or value mutation of a JSON document, as text (some produce invalid JSON
    on purpose: duplicates, deep nesting, overflowing numbers)."""
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    choice = rng.random()
    if document is None or choice < 0.15:
        data = bytearray(text.encode())
        for _ in range(rng.randint(1, 8)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    candidates = list(paths(document))
    path = rng.choice(candidates[1:] or candidates)
    if choice < 0.6:
        new = rng.choice(EXTREMES)
        if new == 1e999:
            marker = "\"__fathom_marker__\""
            return json.dumps(set_path(document, path, "__fathom_marker__")).replace(marker, "1e999").encode()
        return json.dumps(set_path(document, path, new)).encode()
    if choice < 0.7:
        marker = "\"__fathom_marker__\""
        return json.dumps(set_path(document, path, "__fathom_marker__")).replace(
            marker, deep(rng.choice([200, 100000, 1000000]))).encode()
    if choice < 0.8 and len(path) > 0:
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, list):
            parent.pop(path[-1])
        return json.dumps(document).encode()
    if choice < 0.9 and isinstance(document, dict) and document:
        key = rng.choice(list(document))
        body = json.dumps(document)
        return (body[:-1] + ", " + json.dumps(key) + ": " + json.dumps(rng.choice(EXTREMES[:12])) + "}").encode()
    value = document
    for step in path:
        value = value[step]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return json.dumps(set_path(document, path, value * rng.choice([-1, 2, 1000, 2**20, 2**40]))).encode()
    if isinstance(value, list):
        return json.dumps(set_path(document, path, value * rng.choice([0, 2, 100]))).encode()
    return json.dumps(set_path(document, path, rng.choice(EXTREMES))).encode()


def mutate_safetensors(path, rng):
    blob = bytearray(open(path, "rb").read())
    size = struct.unpack("<Q", blob[:8])[0]
    header = blob[8 : 8 + size].decode()
    if rng.random() < 0.7:
        new = mutate_json_text(header, rng)
        return struct.pack("<Q", len(new)) + new + bytes(blob[8 + size :])
    if rng.random() < 0.5:
        struct.pack_into("<Q", blob, 0, rng.choice([0, size - 1, size + 1, 2**63, 2**64 - 1, 100_000_001]))
        return bytes(blob)
    return bytes(blob[: rng.randrange(len(blob))])


def mutate_artifact(blob, rng):
    blob = bytearray(blob)
    offset, size = struct.unpack_from("<QQ", blob, 16)
    for _ in range(rng.randint(1, 6)):
        at = offset + rng.randrange(size)
        if rng.random() < 0.5:
            blob[at] = rng.randrange(256)
        else:
            struct.pack_into("<I", blob, at - at % 4, rng.choice([0, 1, 2**31 - 1, 2**32 - 1, 200, 999]))
    struct.pack_into("<Q", blob, 32, xxh64(bytes(blob[offset : offset + size])))
    return bytes(blob)


# ---------------------------------------------------------------- running and classifying
def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run(command, stdin=b""):
    try:
        done = subprocess.run(command, input=stdin, capture_output=True, timeout=TIMEOUT,
                              preexec_fn=limit_memory)
    except subprocess.TimeoutExpired:
        return "hang", ""
    err = done.stderr.decode(errors="replace").strip()
    if done.returncode < 0:
        return "crash", err
    if done.returncode == 0:
        return "ok", err
    # Warnings come before the error, one line each; the refusal itself must be one line.
    lines = [line for line in err.splitlines() if line.strip() and ": warning: " not in line]
    if (len(lines) != 1 or any(text in err for text in INTERNAL_TEXTS)) and not err.startswith(
            "fathom: interrupted"):
        return "bad-error", err
    return "refused", err


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bin")
    parser.add_argument("work")
    parser.add_argument("--cases", type=int, default=500, help="mutations per kind")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kinds", default="inspect,compile,safetensors,tokenizer,artifact")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tool = lambda name: os.path.join(args.bin, name)
    os.makedirs(args.work, exist_ok=True)
    findings_dir = os.path.join(args.work, "findings")
    checkpoints = [os.path.join(REFERENCE, n) for n in sorted(os.listdir(REFERENCE))
                   if os.path.isdir(os.path.join(REFERENCE, n))]
    base_artifact = os.path.join(args.work, "base.fathom")
    subprocess.run([tool("fathom-compile"), os.path.join(REFERENCE, "tiny-v3"), "-o", base_artifact,
                    "--max-seq-len", "16", "--quiet"], check=True)
    artifact_bytes = open(base_artifact, "rb").read()
    table = {}
    findings = 0

    def record(kind, outcome, err, keep):
        nonlocal findings
        table.setdefault(kind, {}).setdefault(outcome, 0)
        table[kind][outcome] += 1
        if outcome not in ("ok", "refused"):
            findings += 1
            os.makedirs(findings_dir, exist_ok=True)
            target = os.path.join(findings_dir, "%s-%s-%d" % (kind, outcome, findings))
            shutil.copytree(keep, target) if os.path.isdir(keep) else shutil.copy(keep, target)
            print("FINDING %s %s: %s (input kept in %s)" % (kind, outcome, err[:300], target))

    for kind in args.kinds.split(","):
        for case in range(args.cases):
            folder = os.path.join(args.work, "case")
            shutil.rmtree(folder, ignore_errors=True)
            source = rng.choice(checkpoints)
            shutil.copytree(source, folder)
            if kind in ("inspect", "compile"):
                names = [n for n in ("config.json", "generation_config.json", "tokenizer_config.json",
                                     "tokenizer.json") if os.path.exists(os.path.join(folder, n))]
                name = rng.choices(names, weights=[6, 2, 1, 1][: len(names)])[0]
                path = os.path.join(folder, name)
                mutated = mutate_json_text(open(path).read(), rng)
                open(path, "wb").write(mutated)
                if kind == "inspect":
                    outcome, err = run([tool("fathom-compile"), folder, "--inspect"])
                    record(kind, outcome, err, folder)
                    continue
                out = os.path.join(args.work, "case.fathom")
                outcome, err = run([tool("fathom-compile"), folder, "-o", out, "--max-seq-len", "16",
                                    "--quiet"])
                if outcome == "ok":
                    # What the compile accepted must run: NaN logits mean it accepted a value
                    # it should have refused.
                    outcome, err = run([tool("fathom-run"), out, "--prompt-ids", "0,5,7",
                                        "--max-new-tokens", "3"])
                    if outcome == "refused" and ("NaN" in err or "+inf" in err):
                        outcome = "accepted-but-wrong"
                record(kind, outcome, err, folder)
            elif kind == "safetensors":
                path = os.path.join(folder, "model.safetensors")
                if not os.path.exists(path):
                    continue
                mutated = mutate_safetensors(path, rng)
                open(path, "wb").write(mutated)
                outcome, err = run([tool("fathom-compile"), folder, "--inspect"])
                record(kind, outcome, err, folder)
            elif kind == "tokenizer":
                path = os.path.join(folder, rng.choice(["tokenizer.json", "tokenizer_config.json"]))
                if not os.path.exists(path):
                    continue
                mutated = mutate_json_text(open(path).read(), rng)
                open(path, "wb").write(mutated)
                outcome, err = run([tool("fathom-tokenize"), folder], stdin=b'{"text": "Hello world"}\n')
                if outcome == "refused" and err == "":
                    outcome = "ok"  # a per-line error is printed on stdout
                record(kind, outcome, err, folder)
            elif kind == "artifact":
                path = os.path.join(args.work, "case.fathom")
                open(path, "wb").write(mutate_artifact(artifact_bytes, rng))
                outcome, err = run([tool("fathom-run"), path, "--prompt-ids", "0,5", "--max-new-tokens", "2"])
                record(kind, outcome, err, path)
        print("%-12s %s" % (kind, ", ".join("%s %d" % item for item in sorted(table.get(kind, {}).items()))),
              flush=True)
    sys.exit(1 if findings else 0)


if __name__ == "__main__":
    main()
