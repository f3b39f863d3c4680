#!/usr/bin/env python3
"""PyTorch reference for sentence-transformers fine-tuning (Hugging Face Trainer semantics, no dropout).

Runs a fixed list of pre-tokenised training steps through the model pipeline of
``st_model.py`` (Transformer -> Pooling -> [Dense] -> [Normalize], per
``modules.json``) with autograd, one of the sentence-transformers v3 losses
(written here from their definitions), ``torch.optim.AdamW`` with the
Trainer's parameter groups, gradient clipping and the ``transformers``
learning-rate schedules, and records per-step losses, gradient norms and
learning rates plus the final weights. Nothing here depends on
``transformers``, ``safetensors`` or ``sentence_transformers``.

Usage::

    python3 scripts/reference/train_reference.py --model DIR --plan PLAN.json --out OUT_DIR \
        [--dtype float32|float64] [--threads 2]
    python3 scripts/reference/train_reference.py --selftest

PLAN.json::

    {"loss": {"name": "CoSENTLoss", "scale": 20.0},
     "optimizer": {"lr": 2e-5, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01,
                   "max_grad_norm": 1.0, "loss_params": "joint"},
     "schedule": {"name": "linear", "warmup_steps": 2, "total_steps": 20},
     "trainable": "all",
     "steps": [{"columns": [{"input_ids": [[...]], "attention_mask": [[...]], "token_type_ids": [[...]]},
                            ...one per text column...],
                "labels": [...] | [[...]] | null}, ...]}

Step semantics (one Trainer optimisation step, gradient accumulation 1)::

    loss_i = L(model(columns_i), labels_i)             (model in "eval" numerics: no dropout)
    g      = d loss_i / d theta                         (grads of the previous step were zeroed)
    n_i    = || (||g_p||_2 for p in clip set) ||_2      (torch.nn.utils.clip_grad_norm_, reported BEFORE clipping)
    g     *= min(1, max_grad_norm / (n_i + 1e-6))       (only when max_grad_norm > 0)
    lr_i   = lr * lambda(i)                             (LambdaLR, scheduler.step() AFTER optimizer.step())
    AdamW(lr_i): p -= lr_i*wd*p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
                 p -= lr_i * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)

Outputs in OUT_DIR: ``trace.json`` (``{"losses", "grad_norms", "lrs", "dtype"}``, one entry
per step) and ``weights.safetensors`` (float32). See README.md for every field.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
from collections import OrderedDict
from typing import Callable, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "BLIS_NUM_THREADS", "GOTO_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def _threads_from_argv(argv: List[str], default: int = 2) -> int:
    for i, a in enumerate(argv):
        try:
            if a == "--threads" and i + 1 < len(argv):
                return max(1, int(argv[i + 1]))
            if a.startswith("--threads="):
                return max(1, int(a.split("=", 1)[1]))
        except ValueError:
            return default
    return default


if __name__ == "__main__":
    # Size the BLAS / OpenMP pools before torch loads (torch.set_num_threads does
    # not control an external BLAS's own pool); see bench_torch.py.
    for _var in _THREAD_VARS:
        os.environ[_var] = str(_threads_from_argv(sys.argv[1:]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import st_model  # noqa: E402
from st_model import Dense, SentenceTransformerModel  # noqa: E402

DTYPES = {"float32": torch.float32, "float64": torch.float64}

# ---------------------------------------------------------------------------
# Trainable parameters with their Hugging Face names
# ---------------------------------------------------------------------------

# (attribute of st_model.BertEncoder, Hugging Face BertModel name), in the order
# BertModel registers its parameters (the order model.parameters() yields).
_EMB_PARAMS = (
    ("word_emb", "embeddings.word_embeddings.weight"),
    ("pos_emb", "embeddings.position_embeddings.weight"),
    ("type_emb", "embeddings.token_type_embeddings.weight"),
    ("emb_ln_w", "embeddings.LayerNorm.weight"),
    ("emb_ln_b", "embeddings.LayerNorm.bias"),
)
_LAYER_PARAMS = (
    ("q_w", "attention.self.query.weight"), ("q_b", "attention.self.query.bias"),
    ("k_w", "attention.self.key.weight"), ("k_b", "attention.self.key.bias"),
    ("v_w", "attention.self.value.weight"), ("v_b", "attention.self.value.bias"),
    ("ao_w", "attention.output.dense.weight"), ("ao_b", "attention.output.dense.bias"),
    ("aln_w", "attention.output.LayerNorm.weight"), ("aln_b", "attention.output.LayerNorm.bias"),
    ("i_w", "intermediate.dense.weight"), ("i_b", "intermediate.dense.bias"),
    ("o_w", "output.dense.weight"), ("o_b", "output.dense.bias"),
    ("oln_w", "output.LayerNorm.weight"), ("oln_b", "output.LayerNorm.bias"),
)
WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"


def _promote(module: torch.nn.Module, attr: str) -> torch.nn.Parameter:
    """Turn a registered buffer of an st_model module into a trainable Parameter (same name)."""
    buf = module._buffers.pop(attr)
    p = torch.nn.Parameter(buf.detach().clone())
    module.register_parameter(attr, p)
    return p


def _read_modules(model_dir: str) -> List[dict]:
    path = os.path.join(model_dir, "modules.json")
    if not os.path.exists(path):
        return [{"path": "", "type": "sentence_transformers.models.Transformer"},
                {"path": None, "type": "sentence_transformers.models.Pooling"}]
    with open(path) as f:
        return sorted(json.load(f), key=lambda m: int(m.get("idx", 0)))


def make_trainable(model: SentenceTransformerModel, model_dir: str):
    """Convert the model's weight buffers to Parameters.

    Returns ``OrderedDict[canonical HF name -> Parameter]`` in Hugging Face
    registration order (embeddings, encoder layers, then each Dense module's
    ``<path>/linear.weight`` / ``<path>/linear.bias``) and a dict mapping the
    canonical transformer names to the names stored in the checkpoint (which
    may carry a ``bert.`` prefix or ``gamma``/``beta`` suffixes).
    """
    enc = model.encoder
    params: "OrderedDict[str, torch.nn.Parameter]" = OrderedDict()
    for attr, name in _EMB_PARAMS:
        params[name] = _promote(enc, attr)
    for i, layer in enumerate(enc.layers):
        for key, name in _LAYER_PARAMS:
            p = _promote(enc, f"l{i}_{key}")
            layer[key] = p  # the forward reads the per-layer dict
            params[f"encoder.layer.{i}.{name}"] = p
    modules = _read_modules(model_dir)
    dense_paths = [m.get("path") or f"{m.get('idx', j)}_Dense" for j, m in enumerate(modules)
                   if str(m["type"]).split(".")[-1] == "Dense"]
    dense_mods = [m for m in model.post if isinstance(m, Dense)]
    if len(dense_paths) != len(dense_mods):
        raise ValueError("modules.json Dense entries do not match the loaded modules")
    for path, mod in zip(dense_paths, dense_mods):
        params[f"{path}/linear.weight"] = _promote(mod, "weight")
        if mod.bias is not None:
            params[f"{path}/linear.bias"] = _promote(mod, "bias")
    tpath = modules[0].get("path") or ""
    stored = st_model.load_weights(os.path.join(model_dir, tpath))
    original = {st_model._canonical_bert_name(k): k for k in stored}
    return params, original


def no_weight_decay(name: str) -> bool:
    """Trainer rule: no decay for biases and LayerNorm parameters."""
    return "bias" in name or "LayerNorm" in name


# ---------------------------------------------------------------------------
# Similarities / distances (sentence_transformers.util and the losses' metrics)
# ---------------------------------------------------------------------------

def _normalize(x):
    return F.normalize(x, p=2, dim=1)  # x / max(||x||, 1e-12)


def cos_sim(a, b):
    # S[i, j] = <a_i/|a_i|, b_j/|b_j|>
    return torch.mm(_normalize(a), _normalize(b).transpose(0, 1))


def dot_sim(a, b):
    # S[i, j] = <a_i, b_j>
    return torch.mm(a, b.transpose(0, 1))


def pairwise_cos_sim(a, b):
    # s_i = <a_i/|a_i|, b_i/|b_i|>
    return (_normalize(a) * _normalize(b)).sum(dim=-1)


def pairwise_dot(a, b):
    # s_i = <a_i, b_i>
    return (a * b).sum(dim=-1)


def pairwise_angle_sim(x, y):
    # halves x = (a, b), y = (c, d):  s = |sum(re + im)|,  re = (ac + bd)/|y|^2 * |y|/|x|,  im = (bc - ad)/|y|^2 * |y|/|x|
    if x.shape[1] % 2:
        x = F.pad(x, (0, 1))
        y = F.pad(y, (0, 1))
    a, b = torch.chunk(x, 2, dim=1)
    c, d = torch.chunk(y, 2, dim=1)
    z = torch.sum(c ** 2 + d ** 2, dim=1, keepdim=True)
    re = (a * c + b * d) / z
    im = (b * c - a * d) / z
    dz = torch.sum(a ** 2 + b ** 2, dim=1, keepdim=True) ** 0.5
    dw = torch.sum(c ** 2 + d ** 2, dim=1, keepdim=True) ** 0.5
    re = re / (dz / dw)
    im = im / (dz / dw)
    return torch.abs(torch.sum(torch.cat((re, im), dim=1), dim=1))


SIMILARITIES = {"cos_sim": cos_sim, "cos": cos_sim, "cosine": cos_sim, "dot": dot_sim, "dot_score": dot_sim}
PAIRWISE_SIMILARITIES = {"cos_sim": pairwise_cos_sim, "cos": pairwise_cos_sim, "cosine": pairwise_cos_sim,
                         "dot": pairwise_dot, "dot_score": pairwise_dot}
# Siamese / triplet distances: cosine = 1 - cos(x, y); euclidean = ||x - y + 1e-6||_2; manhattan = ||x - y + 1e-6||_1
DISTANCES = {
    "cosine": lambda x, y: 1 - F.cosine_similarity(x, y),
    "euclidean": lambda x, y: F.pairwise_distance(x, y, p=2),
    "manhattan": lambda x, y: F.pairwise_distance(x, y, p=1),
}


def batch_euclidean(emb):
    # D[i, j] = sqrt(max(|e_i|^2 - 2 <e_i, e_j> + |e_j|^2, 0)), exactly 0 where that is 0
    dot = torch.matmul(emb, emb.t())
    sq = torch.diag(dot)
    dist = sq.unsqueeze(0) - 2.0 * dot + sq.unsqueeze(1)
    dist = torch.clamp(dist, min=0.0)
    zero = dist.eq(0).to(dist.dtype)
    dist = dist + zero * 1e-16
    return (1.0 - zero) * torch.sqrt(dist)


def _triplet_masks(labels):
    n = labels.shape[0]
    not_eye = ~torch.eye(n, dtype=torch.bool)
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    anchor_pos = not_eye & same            # i != j, y_i == y_j
    anchor_neg = ~same                     # y_i != y_k
    distinct = not_eye.unsqueeze(2) & not_eye.unsqueeze(1) & not_eye.unsqueeze(0)
    valid = same.unsqueeze(2) & ~same.unsqueeze(1)   # y_i == y_j != y_k
    return anchor_pos, anchor_neg, distinct & valid


# ---------------------------------------------------------------------------
# Losses: fn(reps: list of [B, D] embeddings per column, labels) -> scalar
# ---------------------------------------------------------------------------

class Loss:
    """A loss from the plan: ``fn(reps, labels)``, its label kind and any trainable parameters."""

    def __init__(self, name: str, fn: Callable, label_kind: str,
                 params: Optional["OrderedDict[str, torch.nn.Parameter]"] = None):
        self.name, self.fn, self.label_kind = name, fn, label_kind
        self.params = params if params is not None else OrderedDict()

    def __call__(self, reps, labels):
        return self.fn(reps, labels)


def build_loss(spec: dict, dim: int, dtype: torch.dtype) -> Loss:
    name = spec["name"]
    g = spec.get

    if name == "CosineSimilarityLoss":
        def fn(reps, y):
            # mean_i (cos(a_i, b_i) - y_i)^2
            return F.mse_loss(F.cosine_similarity(reps[0], reps[1]), y.view(-1))
        return Loss(name, fn, "float")

    if name in ("CoSENTLoss", "AnglELoss"):
        scale = float(g("scale", 20.0))
        sim = pairwise_cos_sim if name == "CoSENTLoss" else pairwise_angle_sim

        def fn(reps, y):
            # log(1 + sum_{(i,j): y_i < y_j} exp(scale * (s_i - s_j)))
            s = sim(reps[0], reps[1]) * scale
            diff = s[:, None] - s[None, :]
            order = (y[:, None] < y[None, :]).to(s.dtype)
            diff = diff - (1 - order) * 1e12
            diff = torch.cat((torch.zeros(1, dtype=s.dtype), diff.view(-1)))
            return torch.logsumexp(diff, dim=0)
        return Loss(name, fn, "float")

    if name == "MultipleNegativesRankingLoss":
        scale = float(g("scale", 20.0))
        sim = SIMILARITIES[g("similarity_fct", "cos_sim")]

        def fn(reps, _y):
            # mean_i CE(scale * sim(a_i, [p_1..p_B, n_1..n_B, ...]), target i)
            scores = sim(reps[0], torch.cat(reps[1:])) * scale
            return F.cross_entropy(scores, torch.arange(scores.shape[0]))
        return Loss(name, fn, "none")

    if name == "MultipleNegativesSymmetricRankingLoss":
        scale = float(g("scale", 20.0))
        sim = SIMILARITIES[g("similarity_fct", "cos_sim")]

        def fn(reps, _y):
            # (CE(S, i) + CE(S[:, :B]^T, i)) / 2 with S = scale * sim(a, [p; n...])
            scores = sim(reps[0], torch.cat(reps[1:])) * scale
            target = torch.arange(scores.shape[0])
            forward = F.cross_entropy(scores, target)
            backward = F.cross_entropy(scores[:, : reps[1].shape[0]].transpose(0, 1), target)
            return (forward + backward) / 2
        return Loss(name, fn, "none")

    if name == "TripletLoss":
        margin = float(g("margin", 5.0))
        dist = DISTANCES[g("distance_metric", "euclidean")]

        def fn(reps, _y):
            # mean_i relu(d(a_i, p_i) - d(a_i, n_i) + margin)
            return F.relu(dist(reps[0], reps[1]) - dist(reps[0], reps[2]) + margin).mean()
        return Loss(name, fn, "none")

    if name == "ContrastiveLoss":
        margin = float(g("margin", 0.5))
        dist = DISTANCES[g("distance_metric", "cosine")]
        size_average = bool(g("size_average", True))

        def fn(reps, y):
            # mean_i 0.5 * (y_i d_i^2 + (1 - y_i) relu(margin - d_i)^2)
            d = dist(reps[0], reps[1])
            y = y.to(d.dtype)
            losses = 0.5 * (y * d.pow(2) + (1 - y) * F.relu(margin - d).pow(2))
            return losses.mean() if size_average else losses.sum()
        return Loss(name, fn, "float")

    if name == "OnlineContrastiveLoss":
        margin = float(g("margin", 0.5))
        dist = DISTANCES[g("distance_metric", "cosine")]

        def fn(reps, y):
            # sum_{pos: d > min d_neg} d^2 + sum_{neg: d < max d_pos} relu(margin - d)^2
            d = dist(reps[0], reps[1])
            negs, poss = d[y == 0], d[y == 1]
            neg_thr = poss.max() if len(poss) > 1 else negs.mean()
            pos_thr = negs.min() if len(negs) > 1 else poss.mean()
            hard_neg = negs[negs < neg_thr]
            hard_pos = poss[poss > pos_thr]
            return hard_pos.pow(2).sum() + F.relu(margin - hard_neg).pow(2).sum()
        return Loss(name, fn, "float")

    if name == "MSELoss":
        def fn(reps, y):
            # mean over all elements of (emb - teacher)^2; columns stacked, teacher repeated per column
            emb = torch.cat(reps, dim=0)
            target = y[:, : emb.shape[1]].repeat(len(reps), 1)
            return F.mse_loss(emb, target)
        return Loss(name, fn, "float")

    if name == "MarginMSELoss":
        sim = PAIRWISE_SIMILARITIES[g("similarity_fct", "dot")]

        def fn(reps, y):
            # mean_i (sim(q_i, p_i) - sim(q_i, n_i) - y_i)^2   (one column of margins per negative)
            pos = sim(reps[0], reps[1])
            if len(reps) == 3 and y.dim() == 1:
                return F.mse_loss(pos - sim(reps[0], reps[2]), y)
            pred = torch.stack([pos - sim(reps[0], n) for n in reps[2:]], dim=1)
            return F.mse_loss(pred, y.view(pred.shape))
        return Loss(name, fn, "float")

    if name == "BatchAllTripletLoss":
        margin = float(g("margin", 5.0))

        def fn(reps, y):
            # sum_{valid (a,p,n)} relu(D_ap - D_an + margin) / (#{terms > 1e-16} + 1e-16)
            D = batch_euclidean(reps[0])
            t = D.unsqueeze(2) - D.unsqueeze(1) + margin
            _, _, valid = _triplet_masks(y)
            t = F.relu(valid.to(t.dtype) * t)
            count = int((t > 1e-16).sum())
            return t.sum() / (count + 1e-16)
        return Loss(name, fn, "int")

    if name == "BatchHardTripletLoss":
        margin = float(g("margin", 5.0))

        def fn(reps, y):
            # mean_a relu(max_{p: y_p = y_a, p != a} D_ap - min_{n: y_n != y_a} D_an + margin)
            D = batch_euclidean(reps[0])
            anchor_pos, anchor_neg, _ = _triplet_masks(y)
            hardest_pos = (anchor_pos.to(D.dtype) * D).max(1, keepdim=True)[0]
            row_max = D.max(1, keepdim=True)[0]
            hardest_neg = (D + row_max * (1.0 - anchor_neg.to(D.dtype))).min(1, keepdim=True)[0]
            return F.relu(hardest_pos - hardest_neg + margin).mean()
        return Loss(name, fn, "int")

    if name == "SoftmaxLoss":
        num_labels = int(spec["num_labels"])
        use_rep = bool(g("concatenation_sent_rep", True))
        use_diff = bool(g("concatenation_sent_difference", True))
        use_mul = bool(g("concatenation_sent_multiplication", False))
        n_vec = 2 * use_rep + use_diff + use_mul
        if n_vec == 0:
            raise ValueError("SoftmaxLoss needs at least one concatenation mode")
        if "classifier_weight" not in spec or "classifier_bias" not in spec:
            raise ValueError("SoftmaxLoss needs classifier_weight [num_labels, k*dim] and classifier_bias in the plan")
        W = torch.tensor(np.asarray(spec["classifier_weight"], dtype=np.float64), dtype=dtype)
        b = torch.tensor(np.asarray(spec["classifier_bias"], dtype=np.float64), dtype=dtype)
        if tuple(W.shape) != (num_labels, n_vec * dim) or tuple(b.shape) != (num_labels,):
            raise ValueError(f"SoftmaxLoss classifier must be [{num_labels}, {n_vec * dim}] + [{num_labels}], "
                             f"got {tuple(W.shape)} + {tuple(b.shape)}")
        params = OrderedDict([("classifier.weight", torch.nn.Parameter(W)),
                              ("classifier.bias", torch.nn.Parameter(b))])

        def fn(reps, y):
            # mean_i CE(W [u; v; |u - v|] + b, y_i)
            u, v = reps
            feats = ([u, v] if use_rep else []) + ([torch.abs(u - v)] if use_diff else []) \
                + ([u * v] if use_mul else [])
            logits = F.linear(torch.cat(feats, 1), params["classifier.weight"], params["classifier.bias"])
            return F.cross_entropy(logits, y.view(-1))
        return Loss(name, fn, "int", params)

    if name == "MatryoshkaLoss":
        inner = build_loss(spec["loss"], dim, dtype)
        if inner.params:
            raise ValueError("MatryoshkaLoss around a loss with its own parameters is not supported")
        dims = [int(d) for d in spec["dims"]]
        weights = [float(w) for w in spec.get("weights") or [1.0] * len(dims)]
        if len(weights) != len(dims) or any(d < 1 or d > dim for d in dims):
            raise ValueError(f"MatryoshkaLoss dims must be in [1, {dim}] with one weight each")

        def fn(reps, y):
            # sum_k w_k * L_inner(emb[:, :d_k])   (truncation after Normalize; no re-normalisation)
            total = 0.0
            for d, w in zip(dims, weights):
                total = total + w * inner([r[..., :d] for r in reps], y)
            return total
        return Loss(name, fn, inner.label_kind)

    raise ValueError(f"unsupported loss {name!r}")


# ---------------------------------------------------------------------------
# Learning-rate schedules (transformers.get_scheduler, as LambdaLR multipliers)
# ---------------------------------------------------------------------------

def lr_lambda(name: str, warmup: int, total: int) -> Callable[[int], float]:
    def warm(step):
        return float(step) / float(max(1, warmup))

    if name == "constant":
        return lambda step: 1.0
    if name == "constant_with_warmup":
        return lambda step: warm(step) if step < warmup else 1.0
    if name == "linear":
        return lambda step: warm(step) if step < warmup else \
            max(0.0, float(total - step) / float(max(1, total - warmup)))
    if name == "cosine":
        def f(step):
            if step < warmup:
                return warm(step)
            progress = float(step - warmup) / float(max(1, total - warmup))
            return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress)))
        return f
    raise ValueError(f"unsupported schedule {name!r}")


# ---------------------------------------------------------------------------
# Trainer
# ---------------------------------------------------------------------------

def total_grad_norm(params: List[torch.Tensor]) -> torch.Tensor:
    """||(||g_p||_2)_p||_2 over params with a gradient (what clip_grad_norm_ returns)."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    return torch.norm(torch.stack([torch.norm(g.detach(), 2.0) for g in grads]), 2.0)


class ReferenceTrainer:
    def __init__(self, model_dir: str, plan: dict, dtype: torch.dtype = torch.float32):
        self.dtype = dtype
        self.plan = plan
        self.model = SentenceTransformerModel(model_dir, dtype=dtype).eval()
        self.params, self.original_names = make_trainable(self.model, model_dir)
        trainable = plan.get("trainable", "all")
        if trainable == "freeze_word_embeddings":
            self.params[WORD_EMBEDDINGS].requires_grad_(False)
        elif trainable != "all":
            raise ValueError(f"unsupported trainable {trainable!r}")
        self.dim = self._embedding_dim(plan)
        self.loss = build_loss(plan["loss"], self.dim, dtype)

        opt = dict(plan.get("optimizer") or {})
        self.max_grad_norm = opt.get("max_grad_norm", 1.0)
        self.loss_params_mode = opt.get("loss_params", "joint")
        if self.loss_params_mode not in ("joint", "trainer"):
            raise ValueError("optimizer.loss_params must be 'joint' or 'trainer'")
        wd = float(opt.get("weight_decay", 0.0))
        named = list(self.params.items()) + list(self.loss.params.items())
        groups = [
            {"params": [p for n, p in named if p.requires_grad and not no_weight_decay(n)], "weight_decay": wd},
            {"params": [p for n, p in named if p.requires_grad and no_weight_decay(n)], "weight_decay": 0.0},
        ]
        betas = opt.get("betas", [0.9, 0.999])
        self.optimizer = torch.optim.AdamW(groups, lr=float(opt.get("lr", 5e-5)),
                                           betas=(float(betas[0]), float(betas[1])),
                                           eps=float(opt.get("eps", 1e-8)))
        sch = dict(plan.get("schedule") or {})
        total = int(sch.get("total_steps") or len(plan["steps"]))
        warmup = sch.get("warmup_steps")
        if warmup is None:
            warmup = math.ceil(float(sch.get("warmup_ratio", 0.0)) * total)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lr_lambda(sch.get("name", "linear"), int(warmup), total))
        # Parameters zeroed after each step and covered by the gradient norm.
        model_params = list(self.params.values())
        if self.loss_params_mode == "joint":
            self.clip_params = model_params + list(self.loss.params.values())
            self.zero_params = self.clip_params
        else:  # as the Trainer does: model.parameters() only
            self.clip_params = model_params
            self.zero_params = model_params

    def _embedding_dim(self, plan: dict) -> int:
        col = plan["steps"][0]["columns"][0]
        ids, am, tt, pl = self.column_tensors(col)
        with torch.no_grad():
            return int(self.model(ids[:1], am[:1], tt[:1], pl)["sentence_embedding"].shape[1])

    @staticmethod
    def column_tensors(col: dict):
        ids = torch.tensor(col["input_ids"], dtype=torch.int64)
        if ids.dim() != 2:
            raise ValueError("input_ids must be a rectangular [B, S] list")
        am = col.get("attention_mask")
        am = torch.ones_like(ids) if am is None else torch.tensor(am, dtype=torch.int64)
        tt = col.get("token_type_ids")
        tt = torch.zeros_like(ids) if tt is None else torch.tensor(tt, dtype=torch.int64)
        if am.shape != ids.shape or tt.shape != ids.shape:
            raise ValueError("attention_mask/token_type_ids shape differs from input_ids")
        pl = col.get("prompt_length")
        return ids, am, tt, (None if pl is None else int(pl))

    def labels(self, step: dict):
        y = step.get("labels")
        if y is None or self.loss.label_kind == "none":
            return None
        if self.loss.label_kind == "int":
            return torch.tensor(np.asarray(y, dtype=np.int64))
        return torch.tensor(np.asarray(y, dtype=np.float64), dtype=self.dtype)

    def step_loss(self, step: dict) -> torch.Tensor:
        reps = [self.model(*self.column_tensors(c))["sentence_embedding"] for c in step["columns"]]
        return self.loss(reps, self.labels(step))

    def zero_grad(self) -> None:
        for p in self.zero_params:
            p.grad = None

    def train(self) -> dict:
        losses, norms, lrs = [], [], []
        for p in self.clip_params:
            p.grad = None
        for step in self.plan["steps"]:
            lrs.append(float(self.optimizer.param_groups[0]["lr"]))
            loss = self.step_loss(step)
            loss.backward()
            if self.max_grad_norm is not None and float(self.max_grad_norm) > 0:
                norm = torch.nn.utils.clip_grad_norm_(self.clip_params, float(self.max_grad_norm))
            else:
                norm = total_grad_norm(self.clip_params)
            self.optimizer.step()
            self.scheduler.step()
            self.zero_grad()
            losses.append(float(loss.detach()))
            norms.append(float(norm))
        return {"losses": losses, "grad_norms": norms, "lrs": lrs,
                "dtype": "float64" if self.dtype == torch.float64 else "float32"}

    def weights(self) -> Dict[str, np.ndarray]:
        out = {}
        for name, p in self.params.items():
            out[self.original_names.get(name, name)] = p.detach().to(torch.float32).numpy().copy()
        for name, p in self.loss.params.items():
            out[name] = p.detach().to(torch.float32).numpy().copy()
        return out


def run(model_dir: str, plan: dict, out_dir: str, dtype: torch.dtype = torch.float32) -> dict:
    trainer = ReferenceTrainer(model_dir, plan, dtype)
    trace = trainer.train()
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "trace.json"), "w") as f:
        json.dump(trace, f)
    st_model.write_safetensors(os.path.join(out_dir, "weights.safetensors"), trainer.weights())
    return trace


# ---------------------------------------------------------------------------
# Self-test
# ---------------------------------------------------------------------------

def _loss_formula_checks(rng) -> List[str]:
    """Each loss against an independent loop-based numpy evaluation on fixed random embeddings."""
    fails = []
    B, D = 4, 6
    E = [rng.standard_normal((B, D)) for _ in range(4)]
    T = [torch.tensor(e) for e in E]

    def cos(x, y):
        return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))

    def ce(logits, t):
        m = logits.max()
        return float(m + np.log(np.exp(logits - m).sum()) - logits[t])

    def check(label, got, want, tol=1e-9):
        got = float(got)
        ok = abs(got - want) <= tol * max(1.0, abs(want))
        if not ok:
            fails.append(f"{label}: got {got!r}, want {want!r}")

    def L(spec, reps, y=None):
        loss = build_loss(spec, D, torch.float64)
        return loss([T[i] for i in reps], y)

    yf = torch.tensor([0.9, 0.1, 0.5, 0.3], dtype=torch.float64)
    a, b, c, d = E
    check("CosineSimilarityLoss", L({"name": "CosineSimilarityLoss"}, [0, 1], yf),
          np.mean([(cos(a[i], b[i]) - yf[i].item()) ** 2 for i in range(B)]))
    s = [20 * cos(a[i], b[i]) for i in range(B)]
    terms = [s[i] - s[j] for i in range(B) for j in range(B) if yf[i] < yf[j]]
    check("CoSENTLoss", L({"name": "CoSENTLoss"}, [0, 1], yf), float(np.log1p(np.sum(np.exp(terms)))))

    def angle(x, y):
        h = D // 2  # x = (p, q), y = (r, t): sum_k Re + Im of (p_k + i q_k) * conj(r_k + i t_k)
        num = sum((x[k] * y[k] + x[k + h] * y[k + h]) + (x[k + h] * y[k] - x[k] * y[k + h]) for k in range(h))
        return abs(num) / (np.linalg.norm(x) * np.linalg.norm(y))
    s = [20 * angle(a[i], b[i]) for i in range(B)]
    terms = [s[i] - s[j] for i in range(B) for j in range(B) if yf[i] < yf[j]]
    check("AnglELoss", L({"name": "AnglELoss"}, [0, 1], yf), float(np.log1p(np.sum(np.exp(terms)))))
    cands = list(b) + list(c) + list(d)
    want = np.mean([ce(np.array([20 * cos(a[i], x) for x in cands]), i) for i in range(B)])
    check("MultipleNegativesRankingLoss", L({"name": "MultipleNegativesRankingLoss"}, [0, 1, 2, 3]), want)
    cands = list(b) + list(c)
    fwd = np.mean([ce(np.array([20 * cos(a[i], x) for x in cands]), i) for i in range(B)])
    bwd = np.mean([ce(np.array([20 * cos(a[j], b[i]) for j in range(B)]), i) for i in range(B)])
    check("MultipleNegativesSymmetricRankingLoss",
          L({"name": "MultipleNegativesSymmetricRankingLoss"}, [0, 1, 2]), (fwd + bwd) / 2)
    eu = lambda x, y: float(np.linalg.norm(x - y + 1e-6))  # noqa: E731
    check("TripletLoss", L({"name": "TripletLoss"}, [0, 1, 2]),
          np.mean([max(eu(a[i], b[i]) - eu(a[i], c[i]) + 5, 0) for i in range(B)]))
    yb = torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=torch.float64)
    dist = [1 - cos(a[i], b[i]) for i in range(B)]
    check("ContrastiveLoss", L({"name": "ContrastiveLoss"}, [0, 1], yb),
          np.mean([0.5 * (yb[i].item() * dist[i] ** 2 + (1 - yb[i].item()) * max(0.5 - dist[i], 0) ** 2)
                   for i in range(B)]))
    pos = [dist[i] for i in range(B) if yb[i] == 1]
    neg = [dist[i] for i in range(B) if yb[i] == 0]
    want = sum(p ** 2 for p in pos if p > min(neg)) + sum(max(0.5 - n, 0) ** 2 for n in neg if n < max(pos))
    check("OnlineContrastiveLoss", L({"name": "OnlineContrastiveLoss"}, [0, 1], yb), want)
    teacher = rng.standard_normal((B, D))
    check("MSELoss", L({"name": "MSELoss"}, [0, 1], torch.tensor(teacher)),
          float(np.mean(np.concatenate([(a - teacher) ** 2, (b - teacher) ** 2]))))
    ym = rng.standard_normal(B)
    check("MarginMSELoss", L({"name": "MarginMSELoss"}, [0, 1, 2], torch.tensor(ym)),
          np.mean([(a[i] @ b[i] - a[i] @ c[i] - ym[i]) ** 2 for i in range(B)]))
    ym2 = rng.standard_normal((B, 2))
    check("MarginMSELoss 2 negatives", L({"name": "MarginMSELoss"}, [0, 1, 2, 3], torch.tensor(ym2)),
          np.mean([(a[i] @ b[i] - a[i] @ [c, d][k][i] - ym2[i, k]) ** 2 for i in range(B) for k in range(2)]))
    emb = np.concatenate([a, b])
    yc = np.array([0, 1, 0, 2, 1, 0, 2, 1])
    Dm = np.array([[np.linalg.norm(x - y) for y in emb] for x in emb])
    n = len(emb)
    trip = [max(Dm[i, j] - Dm[i, k] + 5, 0) for i in range(n) for j in range(n) for k in range(n)
            if i != j and j != k and i != k and yc[i] == yc[j] and yc[i] != yc[k]]
    want = sum(trip) / (sum(t > 1e-16 for t in trip) + 1e-16)
    got = build_loss({"name": "BatchAllTripletLoss"}, D, torch.float64)([torch.tensor(emb)], torch.tensor(yc))
    check("BatchAllTripletLoss", got, want, 1e-7)
    hard = [max(max(Dm[i, j] for j in range(n) if j != i and yc[j] == yc[i])
                - min(Dm[i, k] for k in range(n) if yc[k] != yc[i]) + 5, 0) for i in range(n)]
    got = build_loss({"name": "BatchHardTripletLoss"}, D, torch.float64)([torch.tensor(emb)], torch.tensor(yc))
    check("BatchHardTripletLoss", got, float(np.mean(hard)), 1e-7)
    W = rng.standard_normal((3, 3 * D))
    bias = rng.standard_normal(3)
    ys = np.array([0, 2, 1, 2])
    want = np.mean([ce(W @ np.concatenate([a[i], b[i], np.abs(a[i] - b[i])]) + bias, ys[i]) for i in range(B)])
    sl = build_loss({"name": "SoftmaxLoss", "num_labels": 3, "classifier_weight": W.tolist(),
                     "classifier_bias": bias.tolist()}, D, torch.float64)
    check("SoftmaxLoss", sl([T[0], T[1]], torch.tensor(ys)), want)
    inner = {"name": "MultipleNegativesRankingLoss"}
    parts = []
    for dm, w in ((6, 1.0), (4, 0.5), (2, 0.25)):
        cands = list(b[:, :dm]) + list(c[:, :dm])
        parts.append(w * np.mean([ce(np.array([20 * cos(a[i, :dm], x) for x in cands]), i) for i in range(B)]))
    check("MatryoshkaLoss(MNRL)", L({"name": "MatryoshkaLoss", "loss": inner, "dims": [6, 4, 2],
                                    "weights": [1.0, 0.5, 0.25]}, [0, 1, 2]), sum(parts))
    return fails


def _ids_batch(rng, lengths, vocab, pair=False):
    S = max(lengths)
    ids, am, tt = [], [], []
    for n in lengths:
        row = [1] + [int(x) for x in rng.integers(5, vocab, n - 2)] + [2]
        ids.append(row + [0] * (S - n))
        am.append([1] * n + [0] * (S - n))
        t = [0] * (n // 2) + [1] * (n - n // 2) if pair else [0] * n
        tt.append(t + [0] * (S - n))
    return {"input_ids": ids, "attention_mask": am, "token_type_ids": tt}


def _plan_steps(rng, loss_name, vocab, dim, n_steps=3, B=4):
    """Three training steps with the right columns / labels for a loss."""
    steps = []
    for s in range(n_steps):
        def col(pair=False):
            return _ids_batch(rng, list(rng.integers(3, 9, B)), vocab, pair)
        name = loss_name
        if name in ("CosineSimilarityLoss", "CoSENTLoss", "AnglELoss"):
            cols, y = [col(), col(True)], [float(v) for v in np.round(rng.uniform(0, 1, B), 3)]
        elif name in ("ContrastiveLoss", "OnlineContrastiveLoss"):
            lengths = list(rng.integers(3, 9, B))
            a, b = _ids_batch(rng, lengths, vocab), _ids_batch(rng, lengths, vocab)
            # pair 1 is a negative made of identical texts (distance 0: a hard negative)
            for k in ("input_ids", "attention_mask", "token_type_ids"):
                b[k][1] = list(a[k][1])
            cols, y = [a, b], [1.0, 0.0, 1.0, 0.0]
        elif name in ("MultipleNegativesRankingLoss", "TripletLoss"):
            cols, y = [col(), col(), col()], None
        elif name == "MultipleNegativesSymmetricRankingLoss":
            cols, y = [col(), col()], None
        elif name == "MSELoss":
            cols, y = [col()], np.round(rng.standard_normal((B, dim)) * 0.3, 4).tolist()
        elif name == "MarginMSELoss":
            cols, y = [col(), col(), col()], [float(v) for v in np.round(rng.standard_normal(B), 3)]
        elif name in ("BatchAllTripletLoss", "BatchHardTripletLoss"):
            cols, y = [_ids_batch(rng, list(rng.integers(3, 9, 6)), vocab)], [0, 1, 0, 1, 2, 2]
        elif name == "SoftmaxLoss":
            cols, y = [col(), col()], [int(v) for v in rng.integers(0, 3, B)]
        else:
            raise ValueError(name)
        steps.append({"columns": cols, "labels": y})
    return steps


def selftest() -> int:
    import selftest as base  # tiny random model builder shared with the inference self-test

    rng = np.random.default_rng(7)
    failures = 0

    def report(ok, label, extra=""):
        nonlocal failures
        failures += not ok
        print(f"{'ok ' if ok else 'FAIL'} {label}{(' ' + extra) if extra else ''}")

    fails = _loss_formula_checks(rng)
    report(not fails, "loss formulas vs independent numpy loops", "; ".join(fails))

    # lr schedules (step i uses base * lambda(i))
    want = {"linear": [0, 0.5, 1, 2 / 3, 1 / 3], "constant": [1] * 5,
            "constant_with_warmup": [0, 0.5, 1, 1, 1],
            "cosine": [0, 0.5, 1, 0.5 * (1 + math.cos(math.pi / 3)), 0.5 * (1 + math.cos(2 * math.pi / 3))]}
    sched_ok = all(abs(lr_lambda(k, 0 if k == "constant" else 2, 5)(i) - v) < 1e-15
                   for k, vs in want.items() for i, v in enumerate(vs))
    report(sched_ok, "lr schedules linear / cosine / constant / constant_with_warmup")

    tmp = tempfile.mkdtemp(prefix="st_train_selftest_")
    try:
        H, V = base.H, base.V
        plain = os.path.join(tmp, "mean")
        base.make_model(plain, {"pooling_mode_mean_tokens": True})
        dn = os.path.join(tmp, "dense_norm")
        base.make_model(dn, {"pooling_mode_mean_tokens": True}, (16, True, "torch.nn.modules.activation.Tanh"), True)
        opt = {"lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01, "max_grad_norm": 1.0}
        sch = {"name": "linear", "warmup_steps": 1, "total_steps": 3}
        losses = [
            ({"name": "CosineSimilarityLoss"}, plain),
            ({"name": "CoSENTLoss", "scale": 20.0}, dn),
            ({"name": "AnglELoss"}, plain),
            ({"name": "MultipleNegativesRankingLoss"}, dn),
            ({"name": "MultipleNegativesSymmetricRankingLoss"}, plain),
            ({"name": "TripletLoss"}, plain),
            ({"name": "ContrastiveLoss"}, plain),
            ({"name": "OnlineContrastiveLoss"}, plain),
            ({"name": "MSELoss"}, dn),
            ({"name": "MarginMSELoss"}, plain),
            ({"name": "BatchAllTripletLoss"}, plain),
            ({"name": "BatchHardTripletLoss"}, dn),
            ({"name": "SoftmaxLoss", "num_labels": 3}, plain),
            ({"name": "MatryoshkaLoss", "loss": {"name": "CoSENTLoss"}, "dims": [16, 8, 4],
              "weights": [1.0, 0.5, 0.5]}, dn),
            ({"name": "MatryoshkaLoss", "loss": {"name": "MultipleNegativesRankingLoss"}, "dims": [32, 16]}, plain),
        ]

        def dim_of(model_dir):
            return 16 if model_dir == dn else H

        def plan_for(spec, model_dir, **over):
            spec = json.loads(json.dumps(spec))
            inner = spec["loss"]["name"] if spec["name"] == "MatryoshkaLoss" else spec["name"]
            if spec["name"] == "SoftmaxLoss":
                spec["classifier_weight"] = np.round(rng.standard_normal((3, 3 * dim_of(model_dir))) * 0.1, 5).tolist()
                spec["classifier_bias"] = [0.01, -0.02, 0.03]
            plan = {"loss": spec, "optimizer": dict(opt), "schedule": dict(sch), "trainable": "all",
                    "steps": _plan_steps(rng, inner, V, dim_of(model_dir))}
            for k, v in over.items():
                if isinstance(v, dict):
                    plan[k] = {**plan[k], **v}
                else:
                    plan[k] = v
            return plan

        def initial(model_dir):
            w = st_model.read_safetensors(os.path.join(model_dir, "model.safetensors"))
            return w

        for spec, model_dir in losses:
            label = spec["name"] + (f"({spec['loss']['name']})" if spec["name"] == "MatryoshkaLoss" else "")
            plan = plan_for(spec, model_dir)
            out = os.path.join(tmp, "out_" + label)
            trace = run(model_dir, plan, out, torch.float32)
            got = st_model.read_safetensors(os.path.join(out, "weights.safetensors"))
            w0 = initial(model_dir)
            changed = [k for k in got if k in w0 and not np.array_equal(got[k], w0[k])]
            finite = all(math.isfinite(v) for v in trace["losses"] + trace["grad_norms"])
            ok = finite and len(trace["losses"]) == 3 and trace["grad_norms"][0] > 0 \
                and trace["lrs"] == [0.0, 1e-3, 5e-4] and len(changed) > 10 \
                and all(g.dtype == np.float32 for g in got.values()) and "pooler.dense.weight" not in got
            if model_dir == dn:
                ok = ok and "2_Dense/linear.weight" in got and not np.array_equal(
                    got["2_Dense/linear.weight"],
                    st_model.read_safetensors(os.path.join(dn, "2_Dense", "model.safetensors"))["linear.weight"])
            if spec["name"] == "SoftmaxLoss":
                ok = ok and not np.array_equal(got["classifier.weight"],
                                               np.asarray(plan["loss"]["classifier_weight"], np.float32))
            extra = "losses=" + ",".join(f"{v:.4g}" for v in trace["losses"]) + \
                " |g|=" + ",".join(f"{v:.3g}" for v in trace["grad_norms"]) + f" changed={len(changed)}/{len(got)}"

            # frozen word embeddings, float64
            plan_f = dict(plan, trainable="freeze_word_embeddings")
            tr = ReferenceTrainer(model_dir, plan_f, torch.float64)
            tr.train()
            wf = tr.weights()
            frozen_ok = np.array_equal(wf[WORD_EMBEDDINGS], w0[WORD_EMBEDDINGS]) and \
                not np.array_equal(wf["encoder.layer.0.attention.self.query.weight"],
                                   w0["encoder.layer.0.attention.self.query.weight"])
            # lr 0: nothing moves (classifier included)
            plan_0 = plan_for(spec, model_dir, optimizer={"lr": 0.0})
            if spec["name"] == "SoftmaxLoss":
                plan_0["loss"] = plan["loss"]
            tr0 = ReferenceTrainer(model_dir, plan_0, torch.float32)
            before = {k: v.copy() for k, v in tr0.weights().items()}
            t0 = tr0.train()
            after = tr0.weights()
            lr0_ok = all(np.array_equal(before[k], after[k]) for k in before) and t0["lrs"] == [0.0] * 3
            report(ok and frozen_ok and lr0_ok, f"{label:52s}", extra + ("" if frozen_ok else " FROZEN-BAD")
                   + ("" if lr0_ok else " LR0-BAD"))

        # grad norm is reported before clipping: same first norm with and without clipping;
        # with a tiny max_grad_norm the clipped run differs afterwards.
        spec = {"name": "CoSENTLoss"}
        plan = plan_for(spec, plain)
        a = ReferenceTrainer(plain, plan, torch.float64).train()
        b_plan = json.loads(json.dumps(plan))
        b_plan["optimizer"]["max_grad_norm"] = None
        b = ReferenceTrainer(plain, b_plan, torch.float64).train()
        c_plan = json.loads(json.dumps(plan))
        c_plan["optimizer"]["max_grad_norm"] = 1e-4
        c = ReferenceTrainer(plain, c_plan, torch.float64).train()
        ok = a["grad_norms"][0] == b["grad_norms"][0] == c["grad_norms"][0] and c["losses"][2] != b["losses"][2]
        report(ok, "grad norm reported before clipping; clipping changes the run",
               f"|g0|={a['grad_norms'][0]:.6g}")

        # SoftmaxLoss classifier in the clip set ("joint") or not ("trainer")
        plan = plan_for({"name": "SoftmaxLoss", "num_labels": 3}, plain)
        j = ReferenceTrainer(plain, plan, torch.float64)
        lj = j.step_loss(plan["steps"][0])
        lj.backward()
        n_model = float(total_grad_norm(list(j.params.values())))
        n_all = float(total_grad_norm(list(j.params.values()) + list(j.loss.params.values())))
        tj = ReferenceTrainer(plain, plan, torch.float64).train()
        t_plan = json.loads(json.dumps(plan))
        t_plan["optimizer"]["loss_params"] = "trainer"
        tt = ReferenceTrainer(plain, t_plan, torch.float64).train()
        ok = abs(tj["grad_norms"][0] - n_all) < 1e-12 and abs(tt["grad_norms"][0] - n_model) < 1e-12 \
            and n_all > n_model
        report(ok, "SoftmaxLoss grad norm: joint includes classifier, trainer excludes it",
               f"model={n_model:.6g} all={n_all:.6g}")
        # "trainer": the classifier's gradient is never zeroed, so it accumulates over steps
        # (checked with lr 0, where every step's gradient can be recomputed independently)
        t_plan["optimizer"]["lr"] = 0.0
        acc = ReferenceTrainer(plain, t_plan, torch.float64)
        acc.train()
        want = 0
        for st in t_plan["steps"]:
            one = ReferenceTrainer(plain, t_plan, torch.float64)
            one.step_loss(st).backward()
            want = want + one.loss.params["classifier.weight"].grad
        got = acc.loss.params["classifier.weight"].grad
        report(got is not None and float((got - want).abs().max()) < 1e-12,
               "SoftmaxLoss 'trainer' mode: classifier gradient accumulates across steps")

        # checkpoint names are kept (bert. prefix); float32 and float64 runs agree closely
        pref = os.path.join(tmp, "prefixed")
        base.make_model(pref, {"pooling_mode_cls_token": True}, prefix="bert.")
        plan = plan_for({"name": "CoSENTLoss"}, pref)
        t32 = ReferenceTrainer(pref, plan, torch.float32)
        r32 = t32.train()
        t64 = ReferenceTrainer(pref, plan, torch.float64)
        r64 = t64.train()
        w32, w64 = t32.weights(), t64.weights()
        names_ok = all(k.startswith("bert.") for k in w32) and len(w32) == 37
        err = max(abs(x - y) / max(abs(y), 1.0) for x, y in zip(r32["losses"], r64["losses"]))
        # Adam normalises each coordinate, so coordinates whose gradient is at float32 noise level can
        # move by up to ~lr either way; compare the bulk of the coordinates
        diffs = np.concatenate([np.abs(w32[k] - w64[k]).ravel() for k in w32])
        werr = float(np.quantile(diffs, 0.99))
        print(f"     float32-float64 weight diff quantiles 50/99/100%: {np.quantile(diffs, 0.5):.1e} "
              f"{werr:.1e} {diffs.max():.1e}")
        report(names_ok and err < 1e-4 and werr < 1e-5, "bert. prefix names kept; float32 vs float64 run",
               f"loss rel diff {err:.1e}, 99% weight diff {werr:.1e}")

        # finite differences (float64) of the first-step gradient
        for spec, model_dir in (({"name": "CoSENTLoss"}, dn), ({"name": "SoftmaxLoss", "num_labels": 3}, plain),
                                ({"name": "MultipleNegativesRankingLoss"}, plain)):
            plan = plan_for(spec, model_dir)
            tr = ReferenceTrainer(model_dir, plan, torch.float64)
            step = plan["steps"][0]
            loss = tr.step_loss(step)
            loss.backward()
            tok = step["columns"][0]["input_ids"][0][1]
            coords = [(WORD_EMBEDDINGS, (tok, 3)), ("embeddings.position_embeddings.weight", (1, 5)),
                      ("embeddings.LayerNorm.bias", (7,)), ("encoder.layer.0.attention.self.query.weight", (2, 5)),
                      ("encoder.layer.1.intermediate.dense.bias", (11,)),
                      ("encoder.layer.1.output.LayerNorm.weight", (4,))]
            named = OrderedDict(list(tr.params.items()) + list(tr.loss.params.items()))
            if model_dir == dn:
                coords.append(("2_Dense/linear.weight", (3, 9)))
            if spec["name"] == "SoftmaxLoss":
                coords += [("classifier.weight", (1, 40)), ("classifier.bias", (2,))]
            worst = 0.0
            for name, idx in coords:
                p = named[name]
                g = float(p.grad[idx])
                h = 1e-5
                with torch.no_grad():
                    orig = float(p[idx])
                    p[idx] = orig + h
                    lp = float(tr.step_loss(step))
                    p[idx] = orig - h
                    lm = float(tr.step_loss(step))
                    p[idx] = orig
                fd = (lp - lm) / (2 * h)
                worst = max(worst, abs(fd - g) / max(abs(g), 1e-3))
            report(worst < 1e-6, f"finite differences float64 {spec['name']:32s}", f"max rel err {worst:.1e}")

        # CLI round trip
        plan = plan_for({"name": "MultipleNegativesRankingLoss"}, plain)
        plan_path = os.path.join(tmp, "plan.json")
        with open(plan_path, "w") as f:
            json.dump(plan, f)
        out = os.path.join(tmp, "cli")
        import subprocess
        subprocess.run([sys.executable, os.path.abspath(__file__), "--model", plain, "--plan", plan_path,
                        "--out", out, "--dtype", "float64", "--threads", str(torch.get_num_threads())], check=True)
        with open(os.path.join(out, "trace.json")) as f:
            cli = json.load(f)
        direct = ReferenceTrainer(plain, plan, torch.float64).train()
        same = all(np.allclose(cli[k], direct[k], rtol=1e-12, atol=0) for k in ("losses", "grad_norms", "lrs"))
        w_cli = st_model.read_safetensors(os.path.join(out, "weights.safetensors"))
        report(same and cli["dtype"] == "float64" and set(w_cli) == set(ReferenceTrainer(plain, plan).weights()),
               "CLI --dtype float64 matches the in-process run")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("all ok" if not failures else f"{failures} failure(s)")
    return 1 if failures else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", help="sentence-transformers model directory")
    ap.add_argument("--plan", help="PLAN.json (loss, optimizer, schedule, trainable, steps)")
    ap.add_argument("--out", help="output directory for trace.json and weights.safetensors")
    ap.add_argument("--dtype", choices=sorted(DTYPES), default="float32", help="dtype of the whole run")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads value (and BLAS pools)")
    ap.add_argument("--selftest", action="store_true", help="run the built-in self-test on tiny random models")
    args = ap.parse_args(argv)
    if args.threads < 1:
        ap.error("--threads must be >= 1")
    torch.set_num_threads(args.threads)
    if args.selftest:
        return selftest()
    if not (args.model and args.plan and args.out):
        ap.error("--model, --plan and --out are required (or --selftest)")
    with open(args.plan) as f:
        plan = json.load(f)
    run(args.model, plan, args.out, DTYPES[args.dtype])
    return 0


if __name__ == "__main__":
    sys.exit(main())
