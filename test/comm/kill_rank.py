#!/usr/bin/env python3
"""A rank that dies (SIGKILL) or stalls (SIGSTOP) mid-generation ends a sharded run with an error
naming it within 30 seconds. Run by ctest (test/CMakeLists.txt):

    kill_rank.py MPIRUN FATHOM_COMPILE FATHOM_RUN CHECKPOINT kill|stop

Compiles CHECKPOINT for --tp 2, runs `mpirun -np 2 fathom-run --input` over enough prompts to
generate for minutes, signals rank 1 once rank 0 reports its first finished batch, and checks
that mpirun exits non-zero within 30 s with a message naming rank 1: mpirun's own for a killed
rank, fathom-run's ("rank 1 did not answer") for a stalled one, whose peers time out.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

LIMIT_SECONDS = 30


def rank_pid(parent, rank):
    """The pid of the child of `parent` that OpenMPI started as `rank`."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            if ppid != parent:
                continue
            with open(f"/proc/{entry}/environ", "rb") as environ:
                variables = environ.read().split(b"\0")
        except OSError:
            continue
        if f"OMPI_COMM_WORLD_RANK={rank}".encode() in variables:
            return int(entry)
    return None


def main():
    mpirun, compile_tool, run_tool, checkpoint, mode = sys.argv[1:6]
    with tempfile.TemporaryDirectory() as folder:
        artifact = os.path.join(folder, "tp2.fathom")
        subprocess.run([compile_tool, checkpoint, "--dtype", "fp32", "--tp", "2", "-o", artifact,
                        "--quiet"], check=True)
        prompts = os.path.join(folder, "prompts.jsonl")
        with open(prompts, "w") as out:
            for i in range(20000):
                out.write(json.dumps({"prompt_ids": [1 + i % 300, 2, 3, 4, 5]}) + "\n")
        command = [mpirun, "-np", "2", run_tool, artifact, "--input", prompts, "--max-new-tokens",
                   "200", "--no-eos", "--threads", "1", "--comm-timeout", "5"]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   text=True)
        # Rank 0 reports each finished batch on stderr: the run is generating.
        first = process.stderr.readline()
        while first and "requests done" not in first:
            first = process.stderr.readline()
        if not first:
            print("the run ended before generating: " + process.stderr.read(), file=sys.stderr)
            return 1
        victim = rank_pid(process.pid, 1)
        if victim is None:
            process.kill()
            print("rank 1 of the run was not found among mpirun's children", file=sys.stderr)
            return 1
        os.kill(victim, signal.SIGKILL if mode == "kill" else signal.SIGSTOP)
        signalled = time.monotonic()
        try:
            rest = process.communicate(timeout=LIMIT_SECONDS + 30)[1]
        except subprocess.TimeoutExpired:
            process.kill()
            os.kill(victim, signal.SIGKILL)
            print(f"the run did not end {LIMIT_SECONDS + 30} s after rank 1 was signalled",
                  file=sys.stderr)
            return 1
        elapsed = time.monotonic() - signalled
        if mode == "stop":
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                pass
        named = ("rank 1 did not answer" in rest if mode == "stop"
                 else "rank 1" in rest and ("exited on signal 9" in rest or "Killed" in rest))
        print(rest.strip().splitlines()[:6])
        print(f"{mode}: exit status {process.returncode}, {elapsed:.1f} s after the signal, "
              f"rank 1 named: {named}")
        return 0 if process.returncode != 0 and named and elapsed < LIMIT_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
