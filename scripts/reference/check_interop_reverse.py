#!/usr/bin/env python3
"""Loads model folders that SentenceKit saved in sentence-transformers 6.0.1 and compares embeddings.

``scripts/interop_roundtrip.ts`` writes, under OUT/, one folder per (fixture model, format)
— every pooling mode, Dense, Normalize, prompts, lowercasing, a fine-tuned model — with
``NAME.ours.npy`` (our embeddings of ``sentences.json``) and ``NAME.json`` (``{"prompt_name":
…}``). This script loads each folder unchanged with ``SentenceTransformer(folder)``, encodes
the same sentences (with that prompt name), and prints one JSON line per folder with the
max |diff|; it also checks that no file in the folder changed while loading, and that every
pytorch_model.bin loads with ``torch.load(weights_only=True)``. Exit status 1 when any
max |diff| exceeds 1e-5.

Usage::

    .venv/bin/python scripts/reference/check_interop_reverse.py OUT
"""

import hashlib
import json
import os
import sys

import numpy as np
import torch

from sentence_transformers import SentenceTransformer


def digest(folder):
    out = {}
    for root, _, files in os.walk(folder):
        for f in sorted(files):
            p = os.path.join(root, f)
            out[os.path.relpath(p, folder)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return out


def main(out):
    sentences = json.load(open(os.path.join(out, "sentences.json")))
    worst = 0.0
    names = sorted(n for n in os.listdir(out) if os.path.isdir(os.path.join(out, n)))
    for name in names:
        folder = os.path.join(out, name)
        meta = json.load(open(os.path.join(out, f"{name}.json")))
        before = digest(folder)
        for root, _, files in os.walk(folder):
            if "pytorch_model.bin" in files:
                torch.load(os.path.join(root, "pytorch_model.bin"), weights_only=True)
        model = SentenceTransformer(folder, device="cpu")
        kw = {"prompt_name": meta["prompt_name"]} if meta.get("prompt_name") else {}
        theirs = model.encode(sentences, convert_to_numpy=True, batch_size=32, **kw)
        ours = np.load(os.path.join(out, f"{name}.ours.npy"))
        d = float(np.abs(theirs - ours).max())
        unchanged = digest(folder) == before
        worst = max(worst, d if unchanged else float("inf"))
        print(json.dumps({"model": name, "sentences": len(sentences), "max_abs_diff": d, "files_unchanged": unchanged}))
    print(json.dumps({"folders": len(names), "worst_max_abs_diff": worst}))
    return 0 if worst <= 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
