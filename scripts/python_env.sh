#!/usr/bin/env bash
# Creates .venv/ at the repository root with the Python peer used by the reference scripts:
# sentence-transformers 6.0.1 on torch 2.13 (CPU), with datasets and accelerate for its Trainer,
# and faiss-cpu (the index benchmark's FAISS reference). Where pip is configured with local (file://)
# package indexes (`pip config list`), those are used alone, so that an offline machine does not
# wait on the public index; otherwise pip's own configuration decides. PIP_INDEX_URL overrides.
# Usage: bash scripts/python_env.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
index_args=()
if [ -z "${PIP_INDEX_URL:-}" ]; then
  read -r -a local_indexes <<< "$(pip config get global.extra-index-url 2>/dev/null | tr ' ' '\n' | grep '^file://' | tr '\n' ' ' || true)"
  if [ "${#local_indexes[@]}" -gt 0 ]; then
    index_args+=(--index-url "${local_indexes[0]}")
    for u in "${local_indexes[@]:1}"; do index_args+=(--extra-index-url "$u"); done
  fi
fi
python3 -m venv .venv
.venv/bin/pip install -q "${index_args[@]}" \
  'torch==2.13.*' sentence-transformers==6.0.1 safetensors numpy scipy datasets accelerate faiss-cpu
.venv/bin/python -c 'import sentence_transformers, torch, datasets, accelerate; print("sentence-transformers", sentence_transformers.__version__, "torch", torch.__version__)'
