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
theirs = model.encode(texts, convert_to_numpy=True, batch_size=64)
print(json.dumps({
    "sentence_transformers": sentence_transformers.__version__,
    "torch": torch.__version__,
    "module": type(model[0]).__module__ + "." + type(model[0]).__name__,
    "rows": int(theirs.shape[0]),
    "dim": int(theirs.shape[1]),
    "max_abs_diff": float(np.abs(theirs - ours).max()),
}))
