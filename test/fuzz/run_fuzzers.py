"""Runs every libFuzzer harness of a FATHOM_FUZZ build (`make fuzz`):
    run_fuzzers.py FUZZ_BUILD_DIR SEEDS_DIR SECONDS [HARNESS ...]
Each harness runs until 1,000,000 executions or SECONDS, whichever comes first, with a 10 s
per-input timeout and a 2 GB memory limit; its corpus grows in FUZZ_BUILD_DIR/corpus/<name>
and findings land in FUZZ_BUILD_DIR/findings/<name>. Prints executions, coverage and findings
per harness; exits 1 when any harness found something."""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DICTIONARIES = {"safetensors": "safetensors.dict", "artifact": "artifact.dict"}

build, seeds, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3])
harnesses = sys.argv[4:] or ["safetensors", "checkpoint", "tokenizer", "chat", "artifact", "image"]
failed = False
for name in harnesses:
    corpus = os.path.join(build, "corpus", name)
    findings = os.path.join(build, "findings", name)
    os.makedirs(corpus, exist_ok=True)
    os.makedirs(findings, exist_ok=True)
    scratch = os.path.join(build, "scratch")
    os.makedirs(scratch, exist_ok=True)
    command = [os.path.join(build, "bin", "fathom-fuzz-" + name), corpus, os.path.join(seeds, name),
               "-runs=1000000", "-max_total_time=%d" % seconds, "-timeout=10",
               "-rss_limit_mb=2048", "-malloc_limit_mb=2048", "-max_len=1048576",
               "-dict=" + os.path.join(HERE, "dictionaries", DICTIONARIES.get(name, "json.dict")),
               "-artifact_prefix=" + findings + "/", "-print_final_stats=1"]
    print("fuzz %s: running (up to %d s)" % (name, seconds), flush=True)
    log_path = os.path.join(build, "fuzz-%s.log" % name)
    with open(log_path, "w") as log:
        code = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT,
                               env=dict(os.environ, TMPDIR=scratch))
    log = open(log_path, errors="replace").read()
    runs = re.findall(r"stat::number_of_executed_units: (\d+)", log)
    coverage = re.findall(r"cov: (\d+) ft: (\d+)", log)
    found = sorted(os.listdir(findings))
    print("fuzz %s: %s executions, coverage %s edges / %s features, exit %d, findings: %s (log %s)"
          % (name, runs[-1] if runs else "?", coverage[-1][0] if coverage else "?",
             coverage[-1][1] if coverage else "?", code, found or "none", log_path), flush=True)
    failed = failed or code != 0 or bool(found)
sys.exit(1 if failed else 0)
