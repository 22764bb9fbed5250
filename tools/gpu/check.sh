#!/usr/bin/env bash
# The GPU checks in one run (issues 13 and 14): every ctest of label `gpu`, then the GPU
# baselines, then one summary. Three ways to run it:
#
#   tools/gpu/check.sh                 where the whole build works (all of `make deps`): builds
#                                      the GPU targets in build/, runs `ctest -L gpu` and the
#                                      baselines.
#   tools/gpu/check.sh bundle [DIR]    here, without a GPU: builds the GPU targets and packs them
#                                      into DIR (.gpu-bundle): the executables, the shared
#                                      libraries they need that a CUDA image lacks (MPI's), and
#                                      the gpu tests' command lines taken from ctest; and DIR as
#                                      DIR.tar.gz (the executables are fat sm_90a + sm_80
#                                      binaries, about 3x smaller packed: the device tool
#                                      carries 64 MiB at most).
#   tools/gpu/check.sh run [DIR]       on the device machine (CUDA and NCCL there, no MLIR, no
#                                      gtest, no MPI): runs the bundle's tests and baselines;
#                                      DIR.tar.gz is unpacked first where DIR is absent.
#
# The device tool sends the bundle with carry [".gpu-bundle.tar.gz"]:
#   tools/gpu/check.sh run .gpu-bundle 2>&1 | tee $OUT/gpu-check.log
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR="${BUILD_DIR:-build}"
GPU_TARGETS=(fathom_cuda_tests fathom_cuda_parity_tests fathom_cuda_vl_parity_tests
             fathom_nccl_tests fathom_nccl_check fathom-run
             fathom-gpu-bandwidth fathom-gpu-kernels-bench fathom-bench)
# The reference checkpoints compiled for the GPU (the device machine has no compiler):
# cuda:sm_80 runs on every GPU from Ampere on; CudaReferenceParityTest reads them.
PARITY_CHECKPOINTS=(tiny-v3 tiny-v3-fused tiny-v3-fp8 tiny-v2-lite tiny-v2-mlp-bias)
# DeepSeek-VL, compiled as VisionLanguageParityTest compiles them for the CPU.
VL_CHECKPOINTS=(tiny-vl tiny-vl-gqa)
BASELINES=("fathom-gpu-bandwidth --mb 2048" "fathom-gpu-kernels-bench")

device_line() {
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  else
    echo "no nvidia-smi: no NVIDIA driver here"
  fi
}

build_gpu_targets() {
  [ -f "$BUILD_DIR/build.ninja" ] || make configure BUILD_DIR="$BUILD_DIR" || return 1
  local present=()
  for target in "${GPU_TARGETS[@]}"; do
    ninja -C "$BUILD_DIR" -t query "$target" >/dev/null 2>&1 && present+=("$target")
  done
  if [ ${#present[@]} -eq 0 ]; then
    echo "check.sh: $BUILD_DIR has no GPU targets (was CUDA found at configure time?)" >&2
    return 1
  fi
  cmake --build "$BUILD_DIR" --target "${present[@]}"
}

compile_artifacts() {
  local out="$1"
  mkdir -p "$out"
  cmake --build "$BUILD_DIR" --target fathom-compile || return 1
  for checkpoint in "${PARITY_CHECKPOINTS[@]}"; do
    for dtype in fp32 bf16; do
      "$BUILD_DIR/bin/fathom-compile" "test/reference/checkpoints/$checkpoint" \
        -o "$out/$checkpoint-$dtype.fathom" --target cuda:sm_80 --dtype "$dtype" \
        --max-batch 4 --max-seq-len 128 --quiet || return 1
    done
  done
  for checkpoint in "${VL_CHECKPOINTS[@]}"; do
    for dtype in fp32 bf16; do
      "$BUILD_DIR/bin/fathom-compile" "test/reference/checkpoints/$checkpoint" \
        -o "$out/$checkpoint-$dtype.fathom" --target cuda:sm_80 --dtype "$dtype" \
        --max-batch 2 --max-seq-len 192 --quiet || return 1
    done
  done
  # The decode benchmark's DeepSeek-V2-Lite-shaped model: 31.5 GB of bf16 weights made at load
  # (--synthetic-weights), so the artifact itself is a few hundred kB.
  "$BUILD_DIR/bin/fathom-compile" tools/bench/gpu/v2-lite-shaped --synthetic-weights \
    -o "$out/v2-lite-shaped-bf16.fathom" --target cuda:sm_80 --max-batch 64 --max-seq-len 1024 \
    --quiet || return 1
}

# Prefill, and decode at batch 1, 8 and 64, of the V2-Lite-shaped model (fathom-bench), next to
# the bandwidth baselines printed before it.
model_benchmark() {
  local bench="$1" artifacts="$2" status=0
  for batch in 1 8 64; do
    echo "== fathom-bench v2-lite-shaped (synthetic bf16 weights), decode batch $batch"
    "$bench" "$artifacts/v2-lite-shaped-bf16.fathom" -p 128 -n 32 -r 2 -B "$batch" || status=1
  done
  # What the recorded steps (CUDA graphs) save: the same decode with every call launched.
  for batch in 1 8; do
    echo "== fathom-bench v2-lite-shaped, decode batch $batch, --eager (no CUDA graphs)"
    "$bench" "$artifacts/v2-lite-shaped-bf16.fathom" -p 128 -n 32 -r 2 -B "$batch" --eager ||
      status=1
  done
  return "$status"
}

# fathom-run under mpirun -np 1 on a CUDA artifact: the NCCL world made over MPI, its self-test
# through device memory, then HF's greedy continuation of tiny-v3's random5 case (fp32).
nccl_run() {
  local run="$1" artifacts="$2"
  if ! command -v mpirun >/dev/null; then
    echo "== one-rank NCCL run: skipped (no mpirun on this machine)"
    return 0
  fi
  echo "== one-rank NCCL run: mpirun -np 1 fathom-run tiny-v3-fp32 (cuda:sm_80)"
  local output
  output=$(OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 120 mpirun -np 1 \
    "$run" "$artifacts/tiny-v3-fp32.fathom" --prompt-ids 71,273,402,322,146 --max-new-tokens 16 \
    2>&1 </dev/null)
  echo "$output"
  grep -q "485 3 435 135 306 504 125 29 397 198 360 272 500 203 495 402" <<<"$output"
}

full() {
  echo "== device: $(device_line)"
  build_gpu_targets || exit 1
  compile_artifacts "$BUILD_DIR/gpu-artifacts" || exit 1
  FATHOM_GPU_ARTIFACTS="$(cd "$BUILD_DIR/gpu-artifacts" && pwd)"
  export FATHOM_GPU_ARTIFACTS
  (cd "$BUILD_DIR" && ctest -L gpu --output-on-failure 2>&1) | tee /tmp/fathom-gpu-ctest.log
  local status=${PIPESTATUS[0]}
  for baseline in "${BASELINES[@]}"; do
    echo "== $baseline"
    "$BUILD_DIR"/bin/$baseline || status=1
  done
  model_benchmark "$BUILD_DIR/bin/fathom-bench" "$FATHOM_GPU_ARTIFACTS" || status=1
  nccl_run "$BUILD_DIR/bin/fathom-run" "$FATHOM_GPU_ARTIFACTS" || status=1
  echo "== summary: $(grep -E 'tests passed|tests failed' /tmp/fathom-gpu-ctest.log)" \
       "skipped: $(grep -c '(Skipped)' /tmp/fathom-gpu-ctest.log)"
  exit "$status"
}

bundle() {
  local dir="$1"
  build_gpu_targets || exit 1
  rm -rf "$dir" && mkdir -p "$dir/bin" "$dir/lib"
  compile_artifacts "$dir/artifacts" || exit 1
  # ctest's own record of the gpu tests: name, skip code, pass/skip patterns, the command.
  (cd "$BUILD_DIR" && ctest -L gpu --show-only=json-v1) | python3 -c '
import json, os, sys
build = os.path.abspath(sys.argv[1])
def prop(test, name):
    for p in test.get("properties", []):
        if p["name"] == name:
            v = p["value"]
            return "|".join(v) if isinstance(v, list) else str(v)
    return ""
for test in json.load(sys.stdin)["tests"]:
    command = [("bin/" + os.path.basename(a)) if a.startswith(build + "/bin/") else a
               for a in test["command"]]
    fields = [test["name"], prop(test, "SKIP_RETURN_CODE") or "-",
              prop(test, "PASS_REGULAR_EXPRESSION") or "-",
              prop(test, "SKIP_REGULAR_EXPRESSION") or "-",
              prop(test, "ENVIRONMENT").replace("|", " ") or "-", " ".join(command)]
    print("\t".join(fields))
' "$BUILD_DIR" > "$dir/tests.tsv" || exit 1
  for target in "${GPU_TARGETS[@]}"; do
    [ -x "$BUILD_DIR/bin/$target" ] && cp "$BUILD_DIR/bin/$target" "$dir/bin/"
  done
  # The libraries a CUDA image does not have: MPI's and what they pull in. glibc, libstdc++,
  # the driver, cudart, cuBLAS(Lt) (over 500 MB) and NCCL (218 MB) stay behind: the image's
  # own are used.
  for binary in "$dir"/bin/*; do
    ldd "$binary" | awk '$3 ~ /^\// {print $3}'
  done | sort -u | while read -r library; do
    case "$(basename "$library")" in
    libc.so* | libm.so* | libdl.so* | libpthread.so* | librt.so* | ld-linux* | libstdc++* | \
      libgcc_s* | libcuda.so* | libcudart* | libcublas* | libnccl*) ;;
    *) cp -L "$library" "$dir/lib/" ;;
    esac
  done
  tar czf "$dir.tar.gz" "$dir" || exit 1
  echo "check.sh: bundle in $dir ($(du -sh "$dir" | cut -f1), $(wc -l <"$dir/tests.tsv") tests)," \
       "packed in $dir.tar.gz ($(du -sh "$dir.tar.gz" | cut -f1))"
}

# NCCL and cudart from the device image: the CUDA toolkit's, else the pip wheels' (PyTorch's).
device_library_path() {
  local paths="$1/lib"
  for candidate in /usr/local/cuda/lib64 /usr/local/cuda/lib; do
    [ -d "$candidate" ] && paths="$paths:$candidate"
  done
  local wheels
  wheels=$(python3 -c 'import glob, os, site
for root in site.getsitepackages():
    for lib in sorted(glob.glob(os.path.join(root, "nvidia", "*", "lib"))):
        print(lib)' 2>/dev/null | paste -sd: -)
  [ -n "$wheels" ] && paths="$paths:$wheels"
  echo "$paths${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}

run_bundle() {
  local dir="$1"
  if [ ! -d "$dir" ] && [ -f "$dir.tar.gz" ]; then
    tar xzf "$dir.tar.gz" || { echo "check.sh: cannot unpack $dir.tar.gz" >&2; exit 1; }
  fi
  [ -f "$dir/tests.tsv" ] || { echo "check.sh: no bundle in $dir (run 'check.sh bundle' first)" >&2; exit 1; }
  echo "== device: $(device_line)"
  export LD_LIBRARY_PATH FATHOM_GPU_ARTIFACTS FATHOM_REFERENCE_DIR
  LD_LIBRARY_PATH=$(device_library_path "$dir")
  FATHOM_GPU_ARTIFACTS="$(cd "$dir" && pwd)/artifacts"
  FATHOM_REFERENCE_DIR="$PWD/test/reference"
  local missing
  missing=$(ldd "$dir"/bin/* 2>/dev/null | grep "not found" | sort -u)
  [ -n "$missing" ] && echo "check.sh: libraries not found: $missing" >&2
  local passed=0 failed=0 skipped=0 failures=""
  while IFS=$'\t' read -r name skipCode passPattern skipPattern environment command; do
    if ! command -v "${command%% *}" >/dev/null && [ ! -x "$dir/${command%% *}" ]; then
      echo "-- $name: skipped (no ${command%% *} on this machine)"; skipped=$((skipped + 1))
      continue
    fi
    [ "$environment" = "-" ] && environment=""
    local output rc # mpirun reads stdin: the list must not reach it
    output=$(cd "$dir" && timeout 120 env $environment $command 2>&1 </dev/null); rc=$?
    if [ "$skipCode" != "-" ] && [ "$rc" = "$skipCode" ] ||
       { [ "$skipPattern" != "-" ] && grep -qE "$skipPattern" <<<"$output"; }; then
      # gtest prints "file:line: Skipped" and the reason on the next line; our checks "SKIP: why"
      echo "-- $name: skipped: $(grep -m1 -iE -A1 'skip' <<<"$output" | paste -sd' ')"
      skipped=$((skipped + 1))
    elif { [ "$passPattern" != "-" ] && grep -qE "$passPattern" <<<"$output"; } ||
         { [ "$passPattern" = "-" ] && [ "$rc" = 0 ]; }; then
      echo "-- $name: passed"; passed=$((passed + 1))
    else
      echo "-- $name: FAILED (exit $rc)"; echo "$output" | tail -30
      failed=$((failed + 1)); failures="$failures $name"
    fi
  done <"$dir/tests.tsv"
  for baseline in "${BASELINES[@]}"; do
    echo "== $baseline"
    (cd "$dir" && bin/$baseline) || failed=$((failed + 1))
  done
  model_benchmark "$dir/bin/fathom-bench" "$FATHOM_GPU_ARTIFACTS" || failed=$((failed + 1))
  nccl_run "$dir/bin/fathom-run" "$FATHOM_GPU_ARTIFACTS" || failed=$((failed + 1))
  echo "== summary: $passed passed, $failed failed, $skipped skipped${failures:+ (failed:$failures)}"
  [ "$failed" = 0 ]
}

case "${1:-}" in
"") full ;;
bundle) bundle "${2:-.gpu-bundle}" ;;
run) run_bundle "${2:-.gpu-bundle}" ;;
*) echo "usage: tools/gpu/check.sh [bundle [DIR] | run [DIR]]" >&2; exit 2 ;;
esac
