#!/usr/bin/env bash
# Adds what sentence-transformers' Trainer needs (datasets, accelerate) to the .venv that
# scripts/python_env.sh creates (run that first, or this runs it), from the same local package
# indexes when they exist. Used by `npm run bench` (scripts/reference/bench_st.py).
# Usage: bash scripts/reference/python_env_train.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
[ -x .venv/bin/python ] || bash scripts/python_env.sh
index_args=()
if [ -d /opt/pypi/simple ]; then
  index_args+=(--index-url file:///opt/pypi/simple)
  [ -d /opt/pypi-more/simple ] && index_args+=(--extra-index-url file:///opt/pypi-more/simple)
fi
.venv/bin/pip install -q "${index_args[@]}" datasets accelerate
.venv/bin/python -c 'import datasets, accelerate, sentence_transformers, torch; print("datasets", datasets.__version__, "accelerate", accelerate.__version__, "sentence-transformers", sentence_transformers.__version__, "torch", torch.__version__)'
