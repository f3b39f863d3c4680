#!/usr/bin/env python3
"""The real peer of ``npm run bench``: sentence-transformers (6.0.1 on torch 2.13, from the
``.venv`` that scripts/python_env.sh creates).

Two modes, each one process whose wall time from start to exit the benchmark measures as
"end to end"; the in-process figures are printed by the script itself:

``encode --model DIR --texts TEXTS.json --batch-size 32 --threads 2 --repeat R --out OUT.npy``
    ``SentenceTransformer(DIR).encode(texts, batch_size)`` (its own tokenisation and length
    sorting). With R > 0: one warm-up encode of 256 texts, then the best of R timed encodes of
    all texts (in-process). The embeddings of the last encode are written to OUT.npy. R = 0:
    a single encode, untimed warm-up skipped (the end-to-end run).

``train --model DIR --plan PLAN.json --threads 2 --out OUT_DIR``
    ``SentenceTransformerTrainer`` with the plan's loss (MultipleNegativesRankingLoss or
    CoSENTLoss) on exactly the plan's batches: PLAN.json holds, per step, the token ids of every
    column (and the labels), which a data collator pads as sentence-transformers does; batches
    are taken in plan order. AdamW (the Trainer's default optimizer), weight decay, gradient
    clipping, the linear schedule without warm-up, dropout on (model.train(), the config's
    dropout probabilities). A step's time is the interval between consecutive ``on_step_end``
    callbacks (data loading, collation, forward, loss, backward, clipping, optimizer, scheduler);
    the first ``warmup`` steps are not counted. The trained model is saved to OUT_DIR.

Prints one JSON line (the last line of stdout) with the figures and ``max_rss_mb`` (VmHWM, the
process's resident-memory high-water mark).
"""

import argparse
import json
import os
import sys
import time

T_START = time.perf_counter()


def vm_hwm_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["encode", "train"])
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--texts")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--plan")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(a.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    import torch

    torch.set_num_threads(a.threads)
    import sentence_transformers
    from sentence_transformers import SentenceTransformer

    info = {
        "peer": "sentence-transformers",
        "sentence_transformers_version": sentence_transformers.__version__,
        "torch_version": torch.__version__,
        "threads": a.threads,
    }
    model = SentenceTransformer(a.model, device="cpu")
    info["seconds_to_loaded"] = round(time.perf_counter() - T_START, 3)
    if a.mode == "encode":
        info.update(encode(model, a))
    else:
        info.update(train(model, a))
    info["max_rss_mb"] = round(vm_hwm_mb(), 1)
    info["seconds_in_process"] = round(time.perf_counter() - T_START, 3)
    print(json.dumps(info))


def encode(model, a):
    import numpy as np

    with open(a.texts) as f:
        texts = json.load(f)["texts"]
    best = None
    if a.repeat > 0:
        model.encode(texts[:256], batch_size=a.batch_size)
    emb = None
    for _ in range(max(1, a.repeat)):
        t = time.perf_counter()
        emb = model.encode(texts, batch_size=a.batch_size, convert_to_numpy=True)
        s = time.perf_counter() - t
        best = s if best is None else min(best, s)
    np.save(a.out, emb.astype(np.float32))
    return {"sentences": len(texts), "seconds": round(best, 4), "sentences_per_s": round(len(texts) / best, 1), "dim": int(emb.shape[1])}


def train(model, a):
    import torch
    from datasets import Dataset
    from torch.utils.data import BatchSampler, SequentialSampler
    from transformers import TrainerCallback
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments, losses

    with open(a.plan) as f:
        plan = json.load(f)
    steps = plan["steps"]
    ncol = len(steps[0]["columns"])
    bs = len(steps[0]["columns"][0])
    has_labels = steps[0].get("labels") is not None
    rows = {f"c{k}": [] for k in range(ncol)}
    if has_labels:
        rows["label"] = []
    for st in steps:
        if any(len(c) != bs for c in st["columns"]):
            raise SystemExit(f"{a.plan}: every step needs {bs} rows in every column")
        for k, col in enumerate(st["columns"]):
            rows[f"c{k}"].extend(col)
        if has_labels:
            rows["label"].extend(st["labels"])
    dataset = Dataset.from_dict(rows)
    pad_id = model.tokenizer.pad_token_id

    class IdsCollator:
        """Pads pre-tokenised ids per column, as the default collator pads tokenised texts."""

        valid_label_columns = ["label"]

        def __call__(self, features):
            out = {}
            for k in range(ncol):
                ids = [f[f"c{k}"] for f in features]
                s = max(len(r) for r in ids)
                out[f"c{k}_input_ids"] = torch.tensor([r + [pad_id] * (s - len(r)) for r in ids], dtype=torch.long)
                out[f"c{k}_attention_mask"] = torch.tensor([[1] * len(r) + [0] * (s - len(r)) for r in ids], dtype=torch.long)
                out[f"c{k}_token_type_ids"] = torch.zeros_like(out[f"c{k}_input_ids"])
            if has_labels:
                out["label"] = torch.tensor([f["label"] for f in features], dtype=torch.float32)
            return out

    class PlanOrderTrainer(SentenceTransformerTrainer):
        def get_batch_sampler(self, dataset, batch_size, drop_last, valid_label_columns=None, generator=None, seed=0):
            return BatchSampler(SequentialSampler(dataset), batch_size, drop_last=False)

    marks = []

    class StepTimes(TrainerCallback):
        def on_train_begin(self, args, state, control, **kw):
            marks.append(time.perf_counter())

        def on_step_end(self, args, state, control, **kw):
            marks.append(time.perf_counter())

    lp = plan["loss"]
    if lp["name"] == "MultipleNegativesRankingLoss":
        loss = losses.MultipleNegativesRankingLoss(model, scale=lp.get("scale", 20.0))
    elif lp["name"] == "CoSENTLoss":
        loss = losses.CoSENTLoss(model, scale=lp.get("scale", 20.0))
    else:
        raise SystemExit(f"{a.plan}: loss.name must be MultipleNegativesRankingLoss or CoSENTLoss, not {lp['name']}")
    o = plan["optimizer"]
    args = SentenceTransformerTrainingArguments(
        output_dir=os.path.join(a.out, "trainer"),
        per_device_train_batch_size=bs,
        max_steps=len(steps),
        learning_rate=o["lr"],
        weight_decay=o["weight_decay"],
        max_grad_norm=o["max_grad_norm"],
        lr_scheduler_type="linear",
        warmup_steps=0,
        seed=42,
        save_strategy="no",
        logging_strategy="no",
        report_to="none",
        disable_tqdm=True,
        use_cpu=True,
        dataloader_num_workers=0,
        remove_unused_columns=False,
    )
    trainer = PlanOrderTrainer(model=model, args=args, train_dataset=dataset, loss=loss, data_collator=IdsCollator(), callbacks=[StepTimes()])
    trainer.train()
    model.save(os.path.join(a.out, "model"))
    warm = int(plan.get("warmup", 1))
    per = [marks[i + 1] - marks[i] for i in range(len(marks) - 1)][warm:]
    if not per:
        raise SystemExit(f"{a.plan}: needs more than {warm} steps")
    srt = sorted(per)
    padded = sum(len(st["columns"][k]) * max(len(r) for r in st["columns"][k]) for st in steps[warm:] for k in range(ncol)) / len(per)
    return {
        "loss": lp["name"],
        "optimizer": type(trainer.optimizer.optimizer if hasattr(trainer.optimizer, "optimizer") else trainer.optimizer).__name__,
        "dropout": model[0].auto_model.config.hidden_dropout_prob,
        "steps_timed": len(per),
        "seconds_per_step": round(srt[len(srt) // 2], 4),
        "best_seconds_per_step": round(srt[0], 4),
        "padded_tokens_per_step": round(padded, 1),
    }


if __name__ == "__main__":
    sys.exit(main())
