#!/usr/bin/env python3
"""PyTorch throughput peer: time a sentence-transformers BERT model in float32 on CPU.

Runs the same module pipeline as ``st_reference.py`` (shared code in
``st_model.py``: Hugging Face BERT written from its equations with
``F.linear`` / ``F.layer_norm`` / ``F.gelu`` / ``torch.softmax`` /
``torch.matmul``, then the Pooling / Dense / Normalize modules listed in
``modules.json``), in float32 under ``torch.inference_mode()`` with
``torch.set_num_threads(threads)``; ``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` (and the BLIS/GOTO/vecLib
equivalents) are also set to ``threads`` before torch is imported, so that a
torch built against an external BLAS cannot use more cores than asked.

Equations::

    h0 = LayerNorm(word[ids] + pos[0..S-1] + type[tt])
    h  = LayerNorm(h + Attn(h));  h = LayerNorm(h + W2 gelu_erf(W1 h + b1) + b2)   (per layer)
    Attn: softmax(Q K^T / sqrt(d_head) + (1 - mask) * finfo(float32).min) V, then output dense
    sentence_embedding = Pooling(h, mask) [-> Dense] [-> Normalize]

The batches in IDS.json are run exactly as given (the caller has already
sorted by length and padded); the int64 input tensors are built before the
clock starts, so a timed pass is: for each batch, model forward + pooling
(+ dense/normalize) + copy of the embeddings to numpy. ``--warmup`` untimed
passes come first, then ``--repeat`` timed passes; the best (minimum) wall
time of a whole pass is reported.

Usage::

    python3 scripts/reference/bench_torch.py --model DIR --ids IDS.json --threads 2 [--repeat 1] [--warmup 1]

IDS.json: same format as for st_reference.py
(``{"batches": [{"input_ids", "attention_mask", "token_type_ids"}, ...], "prompt_length": ...}``).

Stdout is exactly one JSON line::

    {"peer": "pytorch", "torch_version": "...", "threads": 2, "sentences": N,
     "tokens": T (sum of attention_mask), "padded_tokens": sum of B*S,
     "seconds": best pass wall time, "sentences_per_s": N/seconds, "tokens_per_s": T/seconds}
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def _limit_native_threads(threads: int) -> None:
    """Cap the BLAS / OpenMP pools before torch is loaded.

    Builds of torch that use an external BLAS (e.g. Debian's, backed by
    OpenBLAS) run matrix products on that library's own thread pool, which
    torch.set_num_threads does not control; its size is read from the
    environment when the library loads.
    """
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "BLIS_NUM_THREADS", "GOTO_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
        os.environ[var] = str(threads)


def one_pass(model, batches, prompt_length):
    outs = []
    for ids, am, tt in batches:
        outs.append(model(ids, am, tt, prompt_length)["sentence_embedding"].numpy())
    return outs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="sentence-transformers model directory")
    ap.add_argument("--ids", required=True, help="IDS.json with pre-tokenised, padded batches")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads value")
    ap.add_argument("--repeat", type=int, default=1, help="timed passes (best is reported)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed passes before timing")
    args = ap.parse_args(argv)
    if args.threads < 1 or args.repeat < 1 or args.warmup < 0:
        ap.error("--threads and --repeat must be >= 1, --warmup >= 0")

    _limit_native_threads(args.threads)
    import torch

    from st_model import SentenceTransformerModel, load_ids

    torch.set_num_threads(args.threads)
    model = SentenceTransformerModel(args.model, dtype=torch.float32).eval()
    batches, prompt_length = load_ids(args.ids)

    sentences = sum(int(ids.shape[0]) for ids, _, _ in batches)
    tokens = sum(int(am.sum()) for _, am, _ in batches)
    padded = sum(int(ids.numel()) for ids, _, _ in batches)

    best = float("inf")
    with torch.inference_mode():
        for _ in range(args.warmup):
            one_pass(model, batches, prompt_length)
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            one_pass(model, batches, prompt_length)
            best = min(best, time.perf_counter() - t0)

    result = {
        "peer": "pytorch",
        "torch_version": torch.__version__,
        "threads": args.threads,
        "sentences": sentences,
        "tokens": tokens,
        "padded_tokens": padded,
        "seconds": best,
        "sentences_per_s": sentences / best if best > 0 else None,
        "tokens_per_s": tokens / best if best > 0 else None,
    }
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
