#!/usr/bin/env bash
# Creates .venv/ at the repository root with the Python peer used by the reference scripts:
# sentence-transformers 6.0.1 on torch 2.13 (CPU), from the local package indexes when they
# exist (offline), otherwise from PyPI. Usage: bash scripts/python_env.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
index_args=()
if [ -d /opt/pypi/simple ]; then
  index_args+=(--index-url file:///opt/pypi/simple)
  [ -d /opt/pypi-more/simple ] && index_args+=(--extra-index-url file:///opt/pypi-more/simple)
fi
python3 -m venv .venv
.venv/bin/pip install -q "${index_args[@]}" \
  'torch==2.13.*' sentence-transformers==6.0.1 safetensors numpy scipy
.venv/bin/python -c 'import sentence_transformers, torch; print("sentence-transformers", sentence_transformers.__version__, "torch", torch.__version__)'
