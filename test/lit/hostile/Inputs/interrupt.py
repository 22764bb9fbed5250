"""Real signals against fathom-compile: interrupt.py FATHOM_COMPILE WORKDIR CASE.

big-checkpoint: writes WORKDIR/big, tiny-v3 with a vocabulary large enough (2^19 rows) that
  writing the artifact takes a while. Other cases use it:
sigint, sigterm: compile to WORKDIR/out.fathom over an existing artifact there, send the signal
  once the temporary file appears, and report how the process ended, which temporaries remain
  and whether the existing artifact is byte-identical.
concurrent: two compiles to one output at once; both must succeed and leave one artifact.
stale: a temporary left by a SIGKILLed compile does not stop the next one."""
import glob
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time

compile_tool, work, case = sys.argv[1:4]
big = os.path.join(work, "big")
out = os.path.join(work, "out.fathom")
VOCAB = 1 << 19


def write_big_checkpoint(source):
    shutil.rmtree(big, ignore_errors=True)
    shutil.copytree(source, big)
    config = json.load(open(os.path.join(big, "config.json")))
    config["vocab_size"] = VOCAB
    json.dump(config, open(os.path.join(big, "config.json"), "w"))
    path = os.path.join(big, "model.safetensors")
    blob = open(path, "rb").read()
    size = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8 : 8 + size])
    data = blob[8 + size :]
    tensors = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[begin:end]
        if name in ("model.embed_tokens.weight", "lm_head.weight"):
            info["shape"][0] = VOCAB
            row = (end - begin) // 512
            raw = (raw * (VOCAB // 512 + 1))[: VOCAB * row]
        tensors.append((name, info, raw))
    offset = 0
    new_header = {"__metadata__": header.get("__metadata__", {})}
    for name, info, raw in tensors:
        new_header[name] = dict(info, data_offsets=[offset, offset + len(raw)])
        offset += len(raw)
    encoded = json.dumps(new_header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)) + encoded)
        for _, _, raw in tensors:
            f.write(raw)


def compile_command(target):
    return [compile_tool, big, "-o", target, "--dtype", "fp32", "--max-seq-len", "32", "--quiet"]


def temporaries():
    return sorted(os.path.basename(p) for p in glob.glob(out + ".partial*"))


def interrupt(sig):
    shutil.copyfile(os.path.join(work, "existing.fathom"), out)
    before = open(out, "rb").read()
    process = subprocess.Popen(compile_command(out), stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while not temporaries() and process.poll() is None and time.time() < deadline:
        time.sleep(0.002)
    sent = process.poll() is None
    process.send_signal(sig)
    started = time.time()
    _, err = process.communicate(timeout=30)
    print("signal sent while compiling:", sent)
    print("ended by signal:", -process.returncode if process.returncode < 0 else None)
    print("stopped within 5 s:", time.time() - started < 5)
    print("stderr:", err.decode().strip().splitlines()[-1] if err else "")
    print("temporaries left:", temporaries())
    print("existing artifact unchanged:", open(out, "rb").read() == before)


if case == "big-checkpoint":
    write_big_checkpoint(sys.argv[4])
    subprocess.run(compile_command(os.path.join(work, "existing.fathom")), check=True)
elif case == "sigint":
    interrupt(signal.SIGINT)
elif case == "sigterm":
    interrupt(signal.SIGTERM)
elif case == "concurrent":
    if os.path.exists(out):
        os.remove(out)
    processes = [subprocess.Popen(compile_command(out), stderr=subprocess.PIPE) for _ in range(2)]
    codes = [p.wait(timeout=300) for p in processes]
    print("exit codes:", codes)
    print("temporaries left:", temporaries())
    print("artifact written:", os.path.exists(out))
elif case == "stale":
    killed = subprocess.Popen(compile_command(out), stderr=subprocess.DEVNULL)
    while not temporaries() and killed.poll() is None:
        time.sleep(0.002)
    killed.kill()
    killed.wait()
    stale = temporaries()
    print("stale temporaries:", len(stale))
    code = subprocess.run(compile_command(out)).returncode
    print("next compile exit code:", code)
    for name in stale:
        os.remove(os.path.join(work, name))
    print("temporaries left:", temporaries())
else:
    sys.exit("unknown case " + case)
