#!/usr/bin/env python3
"""Loads a model directory with the real sentence-transformers and compares its embeddings with
SentenceKit's: reads texts (JSON list) and SentenceKit's float32 embeddings (.npy), encodes the
texts with SentenceTransformer(dir) and prints one JSON line: versions, rows, max |diff|.

Usage: .venv/bin/python scripts/reference/st_load_check.py --model DIR --texts T.json --embeddings E.npy
"""
import argparse
import json

import numpy as np
import sentence_transformers
import torch
from sentence_transformers import SentenceTransformer

ap = argparse.ArgumentParser()
ap.add_argument("--model", required=True)
ap.add_argument("--texts", required=True)
ap.add_argument("--embeddings", required=True)
a = ap.parse_args()
with open(a.texts) as f:
    texts = json.load(f)
ours = np.load(a.embeddings)
model = SentenceTransformer(a.model, device="cpu")
dtype = str(model[0].embedding.weight.dtype) if hasattr(model[0], "embedding") else "n/a"
as_loaded = model.encode(texts, convert_to_numpy=True, batch_size=64).astype(np.float32)
# torch keeps a float16 file's dtype, so the as-loaded model computes (and rounds) in float16;
# the float32 copy computes as SentenceKit does
model.float()
theirs = model.encode(texts, convert_to_numpy=True, batch_size=64)
print(json.dumps({
    "sentence_transformers": sentence_transformers.__version__,
    "torch": torch.__version__,
    "module": type(model[0]).__module__ + "." + type(model[0]).__name__,
    "rows": int(theirs.shape[0]),
    "dim": int(theirs.shape[1]),
    "weights_dtype_as_loaded": dtype,
    "max_abs_diff_float32": float(np.abs(theirs - ours).max()),
    "max_abs_diff_as_loaded": float(np.abs(as_loaded - ours).max()),
    "max_abs_diff_as_loaded_vs_ours_rounded_to_float16": float(np.abs(as_loaded - ours.astype(np.float16).astype(np.float32)).max()),
}))
