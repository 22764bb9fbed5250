#!/usr/bin/env bash
# Regenerate everything under test/reference/ (tokenizer, checkpoints, outputs) from the fixed seed.
# Needs: the Python packages pinned in requirements.txt, Debian's bible-kjv (the `bible` command), and
# ../../../shared/testdata/tokenizers/deepseek-v3/ (or FATHOM_V3_TOKENIZER_DIR) for the V3 tokenizer files.
# CPU only, one thread: the outputs are bit-identical from run to run on the same software versions.
set -euo pipefail
cd "$(dirname "$0")"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 RAYON_NUM_THREADS=1
export TOKENIZERS_PARALLELISM=false CUDA_VISIBLE_DEVICES= PYTHONHASHSEED=0
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1
PY=${PYTHON:-python3}
nice -n 10 "$PY" make_tokenizer.py
nice -n 10 "$PY" make_checkpoints.py
nice -n 10 "$PY" record_outputs.py
nice -n 10 "$PY" record_quantized.py
# The test images themselves are committed (record_images.py make built them once); their goldens:
nice -n 10 "$PY" record_images.py record
# Manifest of every generated file, to check reproducibility (run twice and compare).
find tokenizer checkpoints outputs images -type f ! -name SHA256SUMS -print0 | LC_ALL=C sort -z | xargs -0 sha256sum > SHA256SUMS
echo "regenerate.sh: done ($(wc -l < SHA256SUMS) files)" >&2
