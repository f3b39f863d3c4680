#!/usr/bin/env python3
"""Reference for StaticEmbedding, on the real sentence-transformers (v6) and torch.

Two jobs, each reading a plan JSON written by scripts/make_static_goldens.ts:

* ``encode``: loads a model directory with ``SentenceTransformer(dir)`` and writes the
  embeddings of the plan's texts (float64 JSON), i.e. what Python users get.
* ``train``: loads the directory, builds the named sentence-transformers loss on the loaded
  model and runs the plan's steps as the Hugging Face Trainer does them (dropout off): the loss
  on the given token ids (``input_ids`` flat + ``offsets``, as StaticEmbedding.preprocess makes
  them), ``clip_grad_norm_``, ``torch.optim.AdamW`` (weight decay on every parameter not named
  bias/LayerNorm), the linear schedule with warm-up; records per-step loss, gradient norm
  (before clipping), learning rate, and the final table.

Usage (the venv made by scripts/python_env.sh)::

    .venv/bin/python scripts/reference/static_reference.py encode --model DIR --plan P.json --out OUT.json
    .venv/bin/python scripts/reference/static_reference.py train  --model DIR --plan P.json --out OUT.json
"""
import argparse
import json
import math

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
try:  # v6 layout; v3-v5 have sentence_transformers.losses
    from sentence_transformers.sentence_transformer import losses as L
except ImportError:
    from sentence_transformers import losses as L


def linear_with_warmup(warmup, total):
    def f(step):
        if step < warmup:
            return float(step) / float(max(1, warmup))
        return max(0.0, float(total - step) / float(max(1, total - warmup)))
    return f


def build_loss(model, spec):
    name = spec["name"]
    if name == "CosineSimilarityLoss":
        return L.CosineSimilarityLoss(model)
    if name == "CoSENTLoss":
        return L.CoSENTLoss(model, scale=float(spec.get("scale", 20.0)))
    if name == "MultipleNegativesRankingLoss":
        return L.MultipleNegativesRankingLoss(model)
    if name == "TripletLoss":
        return L.TripletLoss(model)
    if name == "BatchHardTripletLoss":
        return L.BatchHardTripletLoss(model)
    if name == "ContrastiveLoss":
        return L.ContrastiveLoss(model)
    if name == "MSELoss":
        return L.MSELoss(model)
    if name == "MarginMSELoss":
        return L.MarginMSELoss(model)
    if name == "MatryoshkaLoss":
        return L.MatryoshkaLoss(model, build_loss(model, spec["loss"]), matryoshka_dims=spec["dims"])
    raise ValueError(f"unsupported loss {name!r}")


def features(rows):
    flat = [i for r in rows for i in r]
    offsets = np.cumsum([0] + [len(r) for r in rows[:-1]])
    return {"input_ids": torch.tensor(flat, dtype=torch.long), "offsets": torch.from_numpy(offsets).long()}


def labels_tensor(kind, y):
    if y is None or kind == "none":
        return None
    if kind in ("class",):
        return torch.tensor(np.asarray(y, dtype=np.int64))
    return torch.tensor(np.asarray(y, dtype=np.float64), dtype=torch.float64)


def train(model_dir, plan):
    model = SentenceTransformer(model_dir, device="cpu")
    model.double()
    model.train()
    loss_fn = build_loss(model, plan["loss"])
    opt = plan["optimizer"]
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    no_decay = lambda n: n.endswith("bias") or "layernorm" in n.lower() or "layer_norm" in n.lower()
    groups = [
        {"params": [p for n, p in named if not no_decay(n)], "weight_decay": float(opt["weight_decay"])},
        {"params": [p for n, p in named if no_decay(n)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=float(opt["lr"]), betas=tuple(opt["betas"]), eps=float(opt["eps"]))
    sch = plan["schedule"]
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, linear_with_warmup(int(sch["warmup_steps"]), int(sch["total_steps"])))
    params = [p for _, p in named]
    losses, norms, lrs = [], [], []
    for step in plan["steps"]:
        lrs.append(float(optimizer.param_groups[0]["lr"]))
        feats = [features(col) for col in step["columns"]]
        loss = loss_fn(feats, labels_tensor(plan["label_kind"], step["labels"]))
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, float(opt["max_grad_norm"]))
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        norms.append(float(norm))
    table = model[0].embedding.weight.detach().to(torch.float32).numpy()
    return {"losses": losses, "grad_norms": norms, "lrs": lrs, "table": table.reshape(-1).tolist()}


def encode(model_dir, plan):
    model = SentenceTransformer(model_dir, device="cpu")
    emb = model.encode(plan["texts"], convert_to_numpy=True, batch_size=4)
    ids = [e.ids for e in model[0].tokenizer.encode_batch(plan["texts"], add_special_tokens=False)]
    return {"embeddings": emb.astype(np.float64).tolist(), "ids": ids, "modules_type": model[0].__class__.__module__}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("job", choices=["encode", "train"])
    ap.add_argument("--model", required=True)
    ap.add_argument("--plan", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    with open(a.plan) as f:
        plan = json.load(f)
    out = train(a.model, plan) if a.job == "train" else encode(a.model, plan)
    with open(a.out, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
