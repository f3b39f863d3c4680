#!/usr/bin/env python3
"""Reference values for src/evaluation, written to test/fixtures/evaluation_goldens.json.

Computes, independently of the TypeScript code:
- Pearson / Spearman correlations (many ties) with scipy.stats.pearsonr / spearmanr;
- average precision with sklearn.metrics.average_precision_score and the Matthews correlation
  with sklearn.metrics.matthews_corrcoef;
- best-threshold accuracy / F1 by brute force: every candidate threshold (midpoints of
  neighbouring sorted scores) is tried and the predictions recounted from scratch;
- retrieval metrics (accuracy, precision, recall, MRR, nDCG with binary / linear / exponential
  gain, MAP at several k) from full rankings of a random corpus, straight from the definitions;
- int8 / uint8 / binary / ubinary quantization with numpy, following the formulas of
  sentence-transformers' quantize_embeddings (per-dimension min/max over the embeddings,
  255 buckets, float32 arithmetic; packbits of x > 0, binary offset by -128);
- EmbeddingSimilarityEvaluator and BinaryClassificationEvaluator results for fixed embeddings.

Run from the repository root with a python3 that has numpy, scipy and scikit-learn (e.g. the
Debian packages python3-numpy, python3-scipy, python3-sklearn):
    python3 scripts/reference/metrics_reference.py
"""

import json
import math
import os
import warnings

import numpy as np
import scipy
import sklearn
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import average_precision_score, matthews_corrcoef

warnings.simplefilter("ignore")

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "evaluation_goldens.json")
rng = np.random.default_rng(20240611)


def num(v):
    """A JSON-safe float: NaN/inf become None."""
    v = float(v)
    return v if math.isfinite(v) else None


def f32list(a):
    return [[float(x) for x in row] for row in np.asarray(a, dtype=np.float32)]


# ---------------------------------------------------------------- correlations


def correlation_case(name, x, y):
    x = [float(v) for v in x]
    y = [float(v) for v in y]
    return {
        "name": name,
        "x": x,
        "y": y,
        "pearson": num(pearsonr(x, y)[0]) if len(x) >= 2 else None,
        "spearman": num(spearmanr(x, y)[0]),
    }


correlations = []
n = 300
correlations.append(correlation_case("continuous", rng.normal(size=n), rng.normal(size=n)))
gold = rng.integers(0, 11, size=n) / 2.0  # STS-like 0..5 in halves: many ties
correlations.append(correlation_case("ties in x", gold, gold + rng.normal(scale=1.5, size=n)))
correlations.append(correlation_case("ties in both", rng.integers(0, 6, size=n), rng.integers(0, 4, size=n)))
correlations.append(correlation_case("ties, strong correlation", gold, np.round(gold + rng.normal(scale=0.3, size=n), 1)))
correlations.append(correlation_case("negative", np.arange(50), -np.arange(50) ** 2 + rng.normal(size=50)))
correlations.append(correlation_case("three values", [1.0, 2.0, 2.0], [3.0, 1.0, 2.0]))
correlations.append(correlation_case("two values", [1.0, 2.0], [5.0, 3.0]))
correlations.append(correlation_case("constant x", [2.0] * 10, rng.normal(size=10)))
correlations.append(correlation_case("constant y", rng.normal(size=10), [0.5] * 10))
correlations.append(correlation_case("large offset", 1e6 + rng.normal(size=100), rng.normal(size=100)))

# ---------------------------------------------------------------- average precision


def ap_case(name, labels, scores):
    labels = [int(v) for v in labels]
    scores = [float(v) for v in scores]
    return {"name": name, "labels": labels, "scores": scores, "ap": num(average_precision_score(labels, scores))}


aps = []
labels = rng.integers(0, 2, size=200)
aps.append(ap_case("random", labels, rng.normal(size=200) + labels))
aps.append(ap_case("tied scores", labels, np.round(rng.normal(size=200) + labels, 1)))
aps.append(ap_case("few distinct scores", labels, rng.integers(0, 4, size=200)))
aps.append(ap_case("all positive", [1] * 8, rng.normal(size=8)))
aps.append(ap_case("no positive", [0] * 8, rng.normal(size=8)))
aps.append(ap_case("perfect", [1, 1, 1, 0, 0], [0.9, 0.8, 0.7, 0.2, 0.1]))

# ---------------------------------------------------------------- best-threshold accuracy / F1


def brute_force_threshold(scores, labels, high_is_similar):
    """Try every midpoint between neighbouring sorted scores (the candidates ST sweeps, best side
    first) and recount the predictions from scratch; the first best wins."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    srt = np.sort(s)[::-1] if high_is_similar else np.sort(s)
    candidates = [(srt[i] + srt[i + 1]) / 2 for i in range(len(srt) - 1)]
    best_acc, acc_t = 0.0, -1.0
    best = {"f1": 0.0, "precision": 0.0, "recall": 0.0, "threshold": 0.0}
    for t in candidates:
        pred = (s > t) if high_is_similar else (s < t)
        acc = float(np.mean(pred == (y == 1)))
        if acc > best_acc:
            best_acc, acc_t = acc, float(t)
        tp = int(np.sum(pred & (y == 1)))
        if tp > 0:
            precision = tp / int(np.sum(pred))
            recall = tp / int(np.sum(y == 1))
            f1 = 2 * precision * recall / (precision + recall)
            if f1 > best["f1"]:
                best = {"f1": f1, "precision": precision, "recall": recall, "threshold": float(t)}
    pred_f1 = (s >= best["threshold"]) if high_is_similar else (s <= best["threshold"])
    mcc = matthews_corrcoef(y, pred_f1.astype(np.int64))
    return {
        "accuracy": best_acc,
        "accuracy_threshold": acc_t,
        "f1": best["f1"],
        "f1_threshold": best["threshold"],
        "precision": best["precision"],
        "recall": best["recall"],
        "ap": num(average_precision_score(y, s if high_is_similar else -s)),
        "mcc": num(mcc),
    }


thresholds = []
for name, size, high in [("similarity, 60 rows", 60, True), ("distance, 60 rows", 60, False), ("similarity, 501 rows", 501, True), ("distance, 7 rows", 7, False)]:
    lab = rng.integers(0, 2, size=size)
    sc = rng.normal(size=size) + (lab if high else -lab) * 0.8
    assert len(np.unique(sc)) == size
    thresholds.append({"name": name, "scores": [float(v) for v in sc], "labels": [int(v) for v in lab], "high_is_similar": high, **brute_force_threshold(sc, lab, high)})

# ---------------------------------------------------------------- retrieval


def dcg(gains, k):
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains[:k]))


def gain(grade, kind):
    if grade <= 0:
        return 0.0
    return {"binary": 1.0, "linear": float(grade), "exponential": 2.0 ** grade - 1.0}[kind]


def retrieval_reference(q_emb, d_emb, doc_ids, qrels, fn, cut, kind):
    q = q_emb.astype(np.float64)
    d = d_emb.astype(np.float64)
    if fn == "cosine":
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        d = d / np.linalg.norm(d, axis=1, keepdims=True)
    scores = q @ d.T
    res = {f"{m}@{k}": [] for m, ks in [("accuracy", cut["accuracy"]), ("precision", cut["pr"]), ("recall", cut["pr"]), ("ndcg", cut["ndcg"]), ("mrr", cut["mrr"]), ("map", cut["map"])] for k in ks}
    for qi, grades in enumerate(qrels):
        order = np.argsort(-scores[qi], kind="stable")
        ranked = [doc_ids[j] for j in order]
        rel = {d_: g for d_, g in grades.items() if g > 0}
        flags = [1 if r in rel else 0 for r in ranked]
        for k in cut["accuracy"]:
            res[f"accuracy@{k}"].append(1.0 if any(flags[:k]) else 0.0)
        for k in cut["pr"]:
            res[f"precision@{k}"].append(sum(flags[:k]) / k)
            res[f"recall@{k}"].append(sum(flags[:k]) / len(rel))
        for k in cut["ndcg"]:
            gains = [gain(rel.get(r, 0), kind) for r in ranked]
            ideal = sorted((gain(g, kind) for g in rel.values()), reverse=True)
            res[f"ndcg@{k}"].append(dcg(gains, k) / dcg(ideal, k))
        for k in cut["mrr"]:
            rr = 0.0
            for i, f in enumerate(flags[:k]):
                if f:
                    rr = 1.0 / (i + 1)
                    break
            res[f"mrr@{k}"].append(rr)
        for k in cut["map"]:
            hits, acc = 0, 0.0
            for i, f in enumerate(flags[:k]):
                if f:
                    hits += 1
                    acc += hits / (i + 1)
            res[f"map@{k}"].append(acc / min(k, len(rel)))
    return {key: float(np.mean(v)) for key, v in res.items()}


n_docs, n_queries, dim = 40, 12, 8
doc_emb = rng.normal(size=(n_docs, dim)).astype(np.float32)
query_emb = rng.normal(size=(n_queries, dim)).astype(np.float32)
doc_ids = [f"d{i}" for i in range(n_docs)]
query_ids = [f"q{i}" for i in range(n_queries)]
qrels = {}
for qi, qid in enumerate(query_ids):
    if qi == 3:
        continue  # no judgement at all: skipped
    if qi == 7:
        qrels[qid] = {"d1": 0, "d2": 0}  # only non-relevant judgements: skipped
        continue
    picks = rng.choice(n_docs, size=int(rng.integers(1, 7)), replace=False)
    qrels[qid] = {doc_ids[j]: int(rng.integers(0, 4)) for j in picks}
    qrels[qid][doc_ids[picks[0]]] = int(rng.integers(1, 4))  # at least one relevant
    if qi == 5:
        qrels[qid]["not-in-corpus"] = 2  # a relevant document missing from the corpus
evaluated = [qid for qid in query_ids if any(g > 0 for g in qrels.get(qid, {}).values())]
cut = {"accuracy": [1, 3, 5, 10], "pr": [1, 3, 5, 10, 50], "mrr": [10, 100], "ndcg": [5, 10, 50], "map": [10, 100]}
eval_q = np.stack([query_emb[query_ids.index(q)] for q in evaluated])
eval_rels = [qrels[q] for q in evaluated]
retrieval = {
    "queries": {qid: [float(v) for v in query_emb[i]] for i, qid in enumerate(query_ids)},
    "corpus": {did: [float(v) for v in doc_emb[i]] for i, did in enumerate(doc_ids)},
    "relevant": qrels,
    "evaluated_queries": evaluated,
    "cutoffs": cut,
    "metrics": {
        kind: {fn: retrieval_reference(eval_q, doc_emb, doc_ids, eval_rels, fn, cut, kind) for fn in ["cosine", "dot"]}
        for kind in ["binary", "linear", "exponential"]
    },
}

# ---------------------------------------------------------------- quantization


def quantize(emb, precision):
    """sentence-transformers' quantize_embeddings formulas, ranges from the embeddings themselves."""
    emb = np.asarray(emb, dtype=np.float32)
    if precision in ("int8", "uint8"):
        ranges = np.vstack((np.min(emb, axis=0), np.max(emb, axis=0)))
        starts = ranges[0, :]
        steps = (ranges[1, :] - ranges[0, :]) / 255
        if precision == "uint8":
            return ((emb - starts) / steps).astype(np.uint8)
        return ((emb - starts) / steps - 128).astype(np.int8)
    bits = np.packbits(emb > 0, axis=1)  # row by row (ST flattens first: identical when dim % 8 == 0)
    if precision == "binary":
        return (bits.astype(np.int16) - 128).astype(np.int8)
    return bits


def scoring_values(q, precision):
    """The numbers ST's evaluators compute similarities on."""
    if precision == "binary":
        q = (q.astype(np.int16) + 128).astype(np.uint8)
    if precision in ("binary", "ubinary"):
        q = np.unpackbits(q, axis=1)
    return q.astype(np.float32)


quant_emb = rng.normal(size=(30, 20)).astype(np.float32)
quant_emb[:, 5] = np.abs(quant_emb[:, 5])  # a one-signed dimension
quant_emb16 = rng.normal(size=(12, 16)).astype(np.float32)
flat_binary = (np.packbits(quant_emb16 > 0).reshape(quant_emb16.shape[0], -1) - 128).astype(np.int8)
flat_ubinary = np.packbits(quant_emb16 > 0).reshape(quant_emb16.shape[0], -1)
assert np.array_equal(flat_binary, quantize(quant_emb16, "binary"))
assert np.array_equal(flat_ubinary, quantize(quant_emb16, "ubinary"))
quantization = {
    "embeddings": f32list(quant_emb),
    **{p: quantize(quant_emb, p).astype(int).tolist() for p in ["int8", "uint8", "binary", "ubinary"]},
    "embeddings16": f32list(quant_emb16),
    "binary16": flat_binary.astype(int).tolist(),
    "ubinary16": flat_ubinary.astype(int).tolist(),
}

# ---------------------------------------------------------------- evaluators on fixed embeddings


def paired(fn, a, b):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    if fn == "dot":
        return np.sum(a * b, axis=1)
    if fn == "cosine":
        na = np.sqrt(np.sum(a * a, axis=1))
        nb = np.sqrt(np.sum(b * b, axis=1))
        with np.errstate(invalid="ignore", divide="ignore"):
            c = np.sum(a * b, axis=1) / (na * nb)
        return np.where((na == 0) | (nb == 0), 0.0, c)
    if fn == "euclidean":
        return -np.sqrt(np.sum((a - b) ** 2, axis=1))
    return -np.sum(np.abs(a - b), axis=1)


def l2_normalize32(e):
    e = np.asarray(e, dtype=np.float32)
    return (e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), np.float32(1e-12))).astype(np.float32)


n_pairs, dim = 40, 16
sts_a = rng.normal(size=(n_pairs, dim)).astype(np.float32)
sts_b = (sts_a * 0.6 + rng.normal(size=(n_pairs, dim)) * 0.8).astype(np.float32)
sts_labels = np.round(np.clip(2.5 + 2 * np.sum(sts_a * sts_b, axis=1) / dim + rng.normal(scale=0.5, size=n_pairs), 0, 5) * 2) / 2
fns = ["cosine", "dot", "euclidean", "manhattan"]
sts_results = {}
for precision in [None, "float32", "int8", "uint8", "binary", "ubinary"]:
    if precision is None:
        va, vb = sts_a, sts_b
    else:
        va = scoring_values(quantize(l2_normalize32(sts_a), precision), precision) if precision != "float32" else l2_normalize32(sts_a)
        vb = scoring_values(quantize(l2_normalize32(sts_b), precision), precision) if precision != "float32" else l2_normalize32(sts_b)
    m = {}
    for fn in fns:
        s = paired(fn, va, vb)
        m[f"pearson_{fn}"] = num(pearsonr(sts_labels, s)[0])
        m[f"spearman_{fn}"] = num(spearmanr(sts_labels, s)[0])
    m["pearson_max"] = max(m[f"pearson_{fn}"] for fn in fns)
    m["spearman_max"] = max(m[f"spearman_{fn}"] for fn in fns)
    sts_results[precision or "none"] = m
embedding_similarity = {
    "emb1": f32list(sts_a),
    "emb2": f32list(sts_b),
    "emb1_normalized": f32list(l2_normalize32(sts_a)),
    "emb2_normalized": f32list(l2_normalize32(sts_b)),
    "labels": [float(v) for v in sts_labels],
    "results": sts_results,
}

bc_a = rng.normal(size=(50, dim)).astype(np.float32)
bc_labels = rng.integers(0, 2, size=50)
bc_b = (bc_a * (0.2 + 0.8 * bc_labels[:, None]) + rng.normal(size=(50, dim))).astype(np.float32)
bc_results = {}
for fn in fns:
    s = paired(fn, bc_a, bc_b)
    high = fn in ("cosine", "dot")
    r = brute_force_threshold(s if high else -s, bc_labels, high)
    for k, v in r.items():
        bc_results[f"{fn}_{k}"] = v
binary_classification = {"emb1": f32list(bc_a), "emb2": f32list(bc_b), "labels": [int(v) for v in bc_labels], "results": bc_results}

doc = {
    "generator": "scripts/reference/metrics_reference.py",
    "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "sklearn": sklearn.__version__},
    "correlations": correlations,
    "average_precision": aps,
    "thresholds": thresholds,
    "retrieval": retrieval,
    "quantization": quantization,
    "embedding_similarity": embedding_similarity,
    "binary_classification": binary_classification,
}
with open(OUT, "w", encoding="utf-8") as f:
    json.dump(doc, f, indent=1, allow_nan=False)
    f.write("\n")
print(f"wrote {os.path.relpath(OUT)}")
