#!/usr/bin/env python3
"""Float64 reference forward pass of a sentence-transformers BERT-family model.

Computes, for every sentence of the given pre-tokenised batches, the output of
the model's module pipeline (``modules.json``): Transformer (Hugging Face BERT,
last hidden state) -> Pooling -> optional Dense -> optional Normalize, in
float64 throughout, written from the equations with torch + numpy only (no
transformers / safetensors / sentence_transformers packages).

Equations (see ``st_model.py`` for the full list)::

    h0      = LayerNorm(word[ids] + pos[0..S-1] + type[token_type_ids])
    per layer:
      scores = (h Wq^T + bq)(h Wk^T + bk)^T / sqrt(d_head) + (1 - mask) * finfo(float32).min
      h      = LayerNorm(h + (softmax(scores) (h Wv^T + bv)) Wo^T + bo)
      h      = LayerNorm(h + gelu_erf(h Wi^T + bi) Wo2^T + bo2)
    pooling = concat(cls, max, mean, mean_sqrt_len, weightedmean, lasttoken) as enabled
    dense   = act(x W^T + b);   normalize = x / max(||x||_2, 1e-12)

Usage::

    python3 scripts/reference/st_reference.py --model DIR --ids IDS.json --out OUT.json
    python3 scripts/reference/st_reference.py --model DIR --ids IDS.json --out OUT.npy

IDS.json::

    {"batches": [{"input_ids": [[...], ...], "attention_mask": [[...], ...],
                  "token_type_ids": [[...], ...]}, ...],
     "prompt_length": null | int}

Batches are right-padded and run exactly as given (no truncation, no
re-batching). ``prompt_length`` only matters when the pooling config has
``include_prompt: false``; it is the number of leading prompt tokens to drop
from pooling (sentence-transformers passes the prompt's token count without
its trailing [SEP]).

OUT.json::

    {"sentence_embedding": [[float64...], ...],          # one row per sentence, batches concatenated
     "token_embeddings_first_row": [[float64...], ...],  # token_embeddings[0] of the first batch: [S, H]
     "token_embeddings_cls": [[float64...], ...],        # token_embeddings[:, 0] per sentence: [N, H]
     "dtype": "float64"}

With ``--out X.npy`` the sentence embeddings are written as a float32 [N, D]
array instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from st_model import SentenceTransformerModel, load_ids  # noqa: E402


def run(model_dir: str, ids_path: str, dtype: torch.dtype = torch.float64):
    model = SentenceTransformerModel(model_dir, dtype=dtype).eval()
    batches, prompt_length = load_ids(ids_path)
    sentence, cls_rows, first_row = [], [], None
    with torch.inference_mode():
        for ids, am, tt in batches:
            out = model(ids, am, tt, prompt_length)
            tok = out["token_embeddings"]
            if first_row is None:
                first_row = tok[0].numpy().copy()
            cls_rows.append(tok[:, 0].numpy().copy())
            sentence.append(out["sentence_embedding"].numpy().copy())
    if not sentence:
        raise ValueError("IDS.json contains no batches")
    return np.concatenate(sentence, 0), first_row, np.concatenate(cls_rows, 0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="sentence-transformers model directory")
    ap.add_argument("--ids", required=True, help="IDS.json with pre-tokenised, right-padded batches")
    ap.add_argument("--out", required=True, help="output .json (float64) or .npy (float32 sentence embeddings)")
    args = ap.parse_args(argv)

    torch.set_grad_enabled(False)
    emb, first_row, cls_rows = run(args.model, args.ids, torch.float64)
    if args.out.endswith(".npy"):
        np.save(args.out, emb.astype(np.float32))
    else:
        doc = {
            "sentence_embedding": emb.tolist(),
            "token_embeddings_first_row": first_row.tolist(),
            "token_embeddings_cls": cls_rows.tolist(),
            "dtype": "float64",
        }
        with open(args.out, "w") as f:
            json.dump(doc, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
