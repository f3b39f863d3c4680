#!/usr/bin/env python3
"""PyTorch training-throughput peer: time optimizer steps of the reference trainer.

Uses ``train_reference.ReferenceTrainer`` (the same model written from its equations,
the same sentence-transformers loss definitions, ``torch.optim.AdamW`` with the Hugging
Face Trainer's parameter groups, gradient clipping, the linear schedule) on the steps of
PLAN.json, in float32 with ``--threads`` threads. The first ``--warmup`` steps are not
timed; the remaining ones are, each as: forward of every text column, loss, backward,
clipping, AdamW, scheduler, zero_grad.

Usage::

    python3 scripts/reference/bench_train_torch.py --model DIR --plan PLAN.json --threads 2 [--warmup 1]

Prints one JSON line: {"peer": "pytorch", "torch_version", "threads", "steps",
"tokens_per_step", "seconds_per_step" (median), "best_seconds_per_step", "tokens_per_s",
"max_rss_mb"}.
"""

import json
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def _threads(argv, default=2):
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
    return default


if __name__ == "__main__":
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(_threads(sys.argv[1:]))

import argparse  # noqa: E402
import torch  # noqa: E402

import train_reference  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--plan", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    with open(args.plan) as f:
        plan = json.load(f)
    trainer = train_reference.ReferenceTrainer(args.model, plan, torch.float32)
    times = []
    tokens = 0
    for i, step in enumerate(plan["steps"]):
        t0 = time.perf_counter()
        loss = trainer.step_loss(step)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainer.clip_params, float(trainer.max_grad_norm or 1e9))
        trainer.optimizer.step()
        trainer.scheduler.step()
        trainer.zero_grad()
        dt = time.perf_counter() - t0
        if i >= args.warmup:
            times.append(dt)
        tokens = sum(sum(sum(r) for r in c["attention_mask"]) for c in step["columns"])
    times.sort()
    med = times[len(times) // 2]
    print(json.dumps({
        "peer": "pytorch", "torch_version": torch.__version__, "threads": args.threads,
        "steps": len(times), "tokens_per_step": tokens, "seconds_per_step": med,
        "best_seconds_per_step": times[0], "tokens_per_s": tokens / med,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
