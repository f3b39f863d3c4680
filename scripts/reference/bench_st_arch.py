#!/usr/bin/env python3
"""Encode throughput peer for bench/arch_bench.ts: the real sentence-transformers loading a
folder unchanged, float32 on CPU with --threads threads, encode(texts, batch_size) timed
(best of --repeat after one warm-up pass). Writes {"seconds", "versions", "embeddings"} to
--out (the embeddings of the last pass, float32 as lists, for the parity check at full size).

Usage: .venv/bin/python scripts/reference/bench_st_arch.py --model DIR --texts TEXTS.json \
         --threads 2 --batch-size 32 --repeat 3 --out OUT.json
"""
import argparse
import json
import os
import time

ap = argparse.ArgumentParser()
for k in ['model', 'texts', 'threads', 'batch-size', 'repeat', 'out']:
    ap.add_argument('--' + k, required=True)
a = ap.parse_args()
for v in ['OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS']:
    os.environ[v] = a.threads
import torch  # noqa: E402
import sentence_transformers  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

torch.set_num_threads(int(a.threads))
texts = json.load(open(a.texts))
model = SentenceTransformer(a.model, device='cpu')
bs = int(a.batch_size)
with torch.inference_mode():
    model.encode(texts[:bs], batch_size=bs)
    best = float('inf')
    for _ in range(int(a.repeat)):
        t0 = time.perf_counter()
        emb = model.encode(texts, batch_size=bs, convert_to_numpy=True)
        best = min(best, time.perf_counter() - t0)
json.dump({'seconds': best, 'embeddings': emb.astype('float64').tolist(),
           'versions': {'sentence_transformers': sentence_transformers.__version__, 'torch': torch.__version__}}, open(a.out, 'w'))
