#!/usr/bin/env python3
"""Reference values for sentencekit's training losses, computed with PyTorch in float64.

Each loss of src/losses is written here again from its definition (the formulas in the
headers of the TypeScript files, which follow sentence-transformers v3), with torch's own
primitives where sentence-transformers uses them (cosine_similarity, pairwise_distance,
cdist, cross_entropy, logsumexp). For a fixed set of random embeddings (batch 6, dim 8) and
labels, every case records the loss and d loss / d embedding of each text column (and of the
classifier for SoftmaxLoss), obtained with torch.autograd. The same values for the first 4
rows check that one graph serves any batch size.

    python3 scripts/reference/losses_reference.py [--out test/fixtures/losses_goldens.json]

Needs only python3 with torch and numpy.
"""

import argparse
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

BATCH, DIM = 6, 8
SUB = 4  # rows of the smaller batch


# ---- similarity functions (sentence-transformers util) ----

def normalize(x, eps=1e-12):
    return x / x.norm(p=2, dim=-1, keepdim=True).clamp_min(eps)


def cos_sim(a, b):
    return normalize(a) @ normalize(b).T


def dot_score(a, b):
    return a @ b.T


def euclidean_sim(a, b):
    return -torch.cdist(a, b, p=2.0)


def manhattan_sim(a, b):
    return -torch.cdist(a, b, p=1.0)


def pairwise_cos_sim(a, b):
    return (normalize(a) * normalize(b)).sum(dim=-1)


def pairwise_dot_score(a, b):
    return (a * b).sum(dim=-1)


def pairwise_euclidean_sim(a, b):
    return -((a - b) ** 2).sum(dim=-1).sqrt()


def pairwise_manhattan_sim(a, b):
    return -(a - b).abs().sum(dim=-1)


def pairwise_angle_sim(x, y):
    # complex view: x = p + iq, y = r + is; (x / y) rescaled by |y| / |x|, summed, absolute
    h = x.shape[1] // 2
    p, q = x[:, :h], x[:, h:]
    r, s = y[:, :h], y[:, h:]
    y_sq = (r * r + s * s).sum(dim=1, keepdim=True)
    real = (p * r + q * s) / y_sq
    imag = (q * r - p * s) / y_sq
    ratio = (p * p + q * q).sum(dim=1, keepdim=True).sqrt() / y_sq.sqrt()
    return (torch.cat([real / ratio, imag / ratio], dim=1).sum(dim=1)).abs()


SIM = {f.__name__: f for f in [cos_sim, dot_score, euclidean_sim, manhattan_sim]}
PAIRWISE = {f.__name__: f for f in [pairwise_cos_sim, pairwise_dot_score, pairwise_euclidean_sim,
                                     pairwise_manhattan_sim, pairwise_angle_sim]}


def row_distance(metric, a, b):
    if metric == 'euclidean':
        return F.pairwise_distance(a, b, p=2)
    if metric == 'manhattan':
        return F.pairwise_distance(a, b, p=1)
    return 1 - F.cosine_similarity(a, b)


# ---- losses: (embeddings list, labels, options) -> scalar ----

def cosine_similarity_loss(reps, y, o):
    pred = F.cosine_similarity(reps[0], reps[1])
    return F.l1_loss(pred, y) if o.get('lossFct') == 'l1' else F.mse_loss(pred, y)


def cosent_loss(reps, y, o, default_sim='pairwise_cos_sim'):
    s = PAIRWISE[o.get('similarityFct', default_sim)](reps[0], reps[1]) * o.get('scale', 20.0)
    diff = s[:, None] - s[None, :]
    counted = (y[:, None] < y[None, :]).to(diff.dtype)
    diff = diff - (1 - counted) * 1e12
    return torch.logsumexp(torch.cat([torch.zeros(1), diff.reshape(-1)]), dim=0)


def angle_loss(reps, y, o):
    return cosent_loss(reps, y, {'scale': o.get('scale', 20.0)}, default_sim='pairwise_angle_sim')


def mnrl_scores(reps, o):
    return SIM[o.get('similarityFct', 'cos_sim')](reps[0], torch.cat(reps[1:])) * o.get('scale', 20.0)


def mnrl(reps, y, o):
    scores = mnrl_scores(reps, o)
    return F.cross_entropy(scores, torch.arange(scores.shape[0]))


def mnsrl(reps, y, o):
    scores = mnrl_scores(reps, o)
    n = scores.shape[0]
    target = torch.arange(n)
    forward = F.cross_entropy(scores, target)
    backward = F.cross_entropy(scores[:, :n].T, target)
    return (forward + backward) / 2


def triplet_loss(reps, y, o):
    metric = o.get('distanceMetric', 'euclidean')
    d_pos = row_distance(metric, reps[0], reps[1])
    d_neg = row_distance(metric, reps[0], reps[2])
    return F.relu(d_pos - d_neg + o.get('margin', 5.0)).mean()


def batch_distances(metric, x):
    if metric == 'cosine':
        return 1 - cos_sim(x, x)
    gram = x @ x.T
    sq = torch.diagonal(gram)
    d2 = (sq[None, :] - 2 * gram + sq[:, None]).clamp_min(0)
    zero = (d2 == 0).to(x.dtype)
    return (1 - zero) * torch.sqrt(d2 + zero * 1e-16)


def label_masks(y):
    n = y.shape[0]
    same = y[None, :] == y[:, None]
    distinct = ~torch.eye(n, dtype=torch.bool)
    return same, distinct


def batch_hard_triplet_loss(reps, y, o):
    x = reps[0]
    d = batch_distances(o.get('distanceMetric', 'euclidean'), x)
    same, distinct = label_masks(y)
    hardest_pos = ((same & distinct).to(x.dtype) * d).max(dim=1, keepdim=True).values
    row_max = d.max(dim=1, keepdim=True).values
    negative = (~same).to(x.dtype)
    hardest_neg = (d + row_max * (1 - negative)).min(dim=1, keepdim=True).values
    return F.relu(hardest_pos - hardest_neg + o.get('margin', 5.0)).mean()


def batch_all_triplet_loss(reps, y, o):
    x = reps[0]
    d = batch_distances(o.get('distanceMetric', 'euclidean'), x)
    same, distinct = label_masks(y)
    valid = (same[:, :, None] & ~same[:, None, :]
             & distinct[:, :, None] & distinct[:, None, :] & distinct[None, :, :])
    t = F.relu(valid.to(x.dtype) * (d[:, :, None] - d[:, None, :] + o.get('margin', 5.0)))
    return t.sum() / ((t > 1e-16).sum() + 1e-16)


def contrastive_loss(reps, y, o):
    d = row_distance(o.get('distanceMetric', 'cosine'), reps[0], reps[1])
    y = y.to(d.dtype)
    per_pair = 0.5 * (y * d ** 2 + (1 - y) * F.relu(o.get('margin', 0.5) - d) ** 2)
    return per_pair.mean() if o.get('sizeAverage', True) else per_pair.sum()


def online_contrastive_loss(reps, y, o):
    d = row_distance(o.get('distanceMetric', 'cosine'), reps[0], reps[1])
    neg = d[y == 0]
    pos = d[y == 1]
    hard_neg = neg[neg < (pos.max() if len(pos) > 1 else neg.mean())]
    hard_pos = pos[pos > (neg.min() if len(neg) > 1 else pos.mean())]
    return (hard_pos ** 2).sum() + (F.relu(o.get('margin', 0.5) - hard_neg) ** 2).sum()


def softmax_loss(reps, y, o, params):
    u, v = reps
    parts = []
    if o.get('concatenationSentRep', True):
        parts += [u, v]
    if o.get('concatenationSentDifference', True):
        parts.append((u - v).abs())
    if o.get('concatenationSentMultiplication', False):
        parts.append(u * v)
    logits = F.linear(torch.cat(parts, dim=1), params['classifier.weight'], params['classifier.bias'])
    return F.cross_entropy(logits, y)


def mse_loss(reps, y, o):
    return F.mse_loss(torch.cat(reps, dim=0), y.repeat(len(reps), 1))


def margin_mse_loss(reps, y, o):
    sim = PAIRWISE[o.get('similarityFct', 'pairwise_dot_score')]
    return F.mse_loss(sim(reps[0], reps[1]) - sim(reps[0], reps[2]), y)


LOSSES = {
    'CosineSimilarityLoss': cosine_similarity_loss,
    'CoSENTLoss': cosent_loss,
    'AnglELoss': angle_loss,
    'MultipleNegativesRankingLoss': mnrl,
    'MultipleNegativesSymmetricRankingLoss': mnsrl,
    'TripletLoss': triplet_loss,
    'BatchHardTripletLoss': batch_hard_triplet_loss,
    'BatchAllTripletLoss': batch_all_triplet_loss,
    'ContrastiveLoss': contrastive_loss,
    'OnlineContrastiveLoss': online_contrastive_loss,
    'MSELoss': mse_loss,
    'MarginMSELoss': margin_mse_loss,
}


def evaluate(config, reps, y, params):
    name = config['name']
    o = {k: v for k, v in config.items() if k != 'name'}
    if name == 'MatryoshkaLoss':
        dims = o['dims']
        weights = o.get('weights', [1] * len(dims))
        total = 0.0
        for dim, w in sorted(zip(dims, weights), key=lambda t: t[0], reverse=True):
            truncated = [normalize(r[:, :dim]) for r in reps]
            total = total + w * evaluate(o['loss'], truncated, y, params)
        return total
    if name == 'SoftmaxLoss':
        return softmax_loss(reps, y, o, params)
    return LOSSES[name](reps, y, o)


# ---- data ----

def make_data():
    rng = np.random.RandomState(20240611)
    e0 = rng.randn(BATCH, DIM)
    cols = {
        'e0': e0,
        'e1': 0.7 * e0 + 0.6 * rng.randn(BATCH, DIM),  # related to e0
        'e2': rng.randn(BATCH, DIM),
        'e3': rng.randn(BATCH, DIM),
        'e4': 0.5 * rng.randn(BATCH, DIM),
    }
    labels = {
        'score': ('score', [0.9, 0.15, 0.6, 0.15, 0.45, 0.0]),  # one tie
        'classes': ('class', [0, 1, 0, 1, 2, 2]),
        'pairs': ('class', [1, 0, 1, 0, 1, 0]),
        'one_positive': ('class', [1, 0, 0, 0, 0, 0]),
        'nli': ('class', [0, 1, 2, 0, 2, 1]),
        'margins': ('score', [float(v) for v in np.round(rng.randn(BATCH) * 2, 6)]),
        'teacher': ('embedding', rng.randn(BATCH, DIM).tolist()),
    }
    fan_in = 3 * DIM
    bound = 1 / np.sqrt(fan_in)
    softmax_params = {
        'classifier.weight': rng.uniform(-bound, bound, (3, fan_in)),
        'classifier.bias': rng.uniform(-bound, bound, 3),
    }
    bound2 = 1 / np.sqrt(2 * DIM)
    softmax_params_mult = {
        'classifier.weight': rng.uniform(-bound2, bound2, (3, 2 * DIM)),
        'classifier.bias': rng.uniform(-bound2, bound2, 3),
    }
    return cols, labels, {'default': softmax_params, 'mult': softmax_params_mult}


CASES = [
    # (id, config, columns, labels, params)
    ('cosine_mse', {'name': 'CosineSimilarityLoss'}, ['e0', 'e1'], 'score', None),
    ('cosine_l1', {'name': 'CosineSimilarityLoss', 'lossFct': 'l1'}, ['e0', 'e2'], 'score', None),
    ('cosent', {'name': 'CoSENTLoss'}, ['e0', 'e1'], 'score', None),
    ('cosent_dot', {'name': 'CoSENTLoss', 'scale': 2, 'similarityFct': 'pairwise_dot_score'}, ['e0', 'e2'], 'score', None),
    ('cosent_euclidean', {'name': 'CoSENTLoss', 'scale': 1.5, 'similarityFct': 'pairwise_euclidean_sim'}, ['e0', 'e1'], 'score', None),
    ('cosent_manhattan', {'name': 'CoSENTLoss', 'scale': 0.5, 'similarityFct': 'pairwise_manhattan_sim'}, ['e0', 'e1'], 'score', None),
    ('angle', {'name': 'AnglELoss'}, ['e0', 'e1'], 'score', None),
    ('angle_scale', {'name': 'AnglELoss', 'scale': 7}, ['e2', 'e3'], 'score', None),
    ('mnrl', {'name': 'MultipleNegativesRankingLoss'}, ['e0', 'e1'], None, None),
    ('mnrl_hard_negatives', {'name': 'MultipleNegativesRankingLoss'}, ['e0', 'e1', 'e2', 'e3'], None, None),
    ('mnrl_dot', {'name': 'MultipleNegativesRankingLoss', 'scale': 1, 'similarityFct': 'dot_score'}, ['e0', 'e1', 'e2'], None, None),
    ('mnrl_euclidean', {'name': 'MultipleNegativesRankingLoss', 'scale': 1, 'similarityFct': 'euclidean_sim'}, ['e0', 'e1', 'e2'], None, None),
    ('mnrl_manhattan', {'name': 'MultipleNegativesRankingLoss', 'scale': 0.5, 'similarityFct': 'manhattan_sim'}, ['e0', 'e1'], None, None),
    ('mnsrl', {'name': 'MultipleNegativesSymmetricRankingLoss'}, ['e0', 'e1'], None, None),
    ('mnsrl_hard_negative', {'name': 'MultipleNegativesSymmetricRankingLoss', 'scale': 5, 'similarityFct': 'dot_score'}, ['e0', 'e1', 'e2'], None, None),
    ('triplet', {'name': 'TripletLoss'}, ['e0', 'e1', 'e2'], None, None),
    ('triplet_cosine', {'name': 'TripletLoss', 'distanceMetric': 'cosine', 'margin': 0.2}, ['e0', 'e2', 'e3'], None, None),
    ('triplet_manhattan', {'name': 'TripletLoss', 'distanceMetric': 'manhattan', 'margin': 1}, ['e0', 'e2', 'e1'], None, None),
    ('batch_hard', {'name': 'BatchHardTripletLoss'}, ['e0'], 'classes', None),
    ('batch_hard_cosine', {'name': 'BatchHardTripletLoss', 'distanceMetric': 'cosine', 'margin': 0.5}, ['e2'], 'classes', None),
    ('batch_all', {'name': 'BatchAllTripletLoss'}, ['e0'], 'classes', None),
    ('batch_all_margin', {'name': 'BatchAllTripletLoss', 'margin': 1}, ['e2'], 'classes', None),
    ('batch_all_cosine', {'name': 'BatchAllTripletLoss', 'distanceMetric': 'cosine', 'margin': 0.2}, ['e3'], 'classes', None),
    ('contrastive', {'name': 'ContrastiveLoss'}, ['e0', 'e1'], 'pairs', None),
    ('contrastive_euclidean_sum', {'name': 'ContrastiveLoss', 'distanceMetric': 'euclidean', 'margin': 5, 'sizeAverage': False}, ['e0', 'e2'], 'pairs', None),
    ('contrastive_manhattan', {'name': 'ContrastiveLoss', 'distanceMetric': 'manhattan', 'margin': 9}, ['e1', 'e2'], 'pairs', None),
    ('online_contrastive', {'name': 'OnlineContrastiveLoss', 'margin': 1.2}, ['e0', 'e2'], 'pairs', None),
    ('online_contrastive_euclidean', {'name': 'OnlineContrastiveLoss', 'distanceMetric': 'euclidean', 'margin': 6}, ['e1', 'e3'], 'pairs', None),
    ('online_contrastive_one_positive', {'name': 'OnlineContrastiveLoss', 'margin': 2}, ['e0', 'e2'], 'one_positive', None),
    ('softmax', {'name': 'SoftmaxLoss', 'embeddingDim': DIM, 'numLabels': 3}, ['e0', 'e1'], 'nli', 'default'),
    ('softmax_mult', {'name': 'SoftmaxLoss', 'embeddingDim': DIM, 'numLabels': 3, 'concatenationSentRep': False,
                      'concatenationSentMultiplication': True}, ['e0', 'e2'], 'nli', 'mult'),
    ('mse', {'name': 'MSELoss'}, ['e4'], 'teacher', None),
    ('mse_two_columns', {'name': 'MSELoss'}, ['e4', 'e0'], 'teacher', None),
    ('margin_mse', {'name': 'MarginMSELoss'}, ['e4', 'e1', 'e2'], 'margins', None),
    ('margin_mse_cos', {'name': 'MarginMSELoss', 'similarityFct': 'pairwise_cos_sim'}, ['e0', 'e1', 'e2'], 'margins', None),
    ('matryoshka_mnrl', {'name': 'MatryoshkaLoss', 'loss': {'name': 'MultipleNegativesRankingLoss'}, 'dims': [8, 4, 2]},
     ['e0', 'e1', 'e2'], None, None),
    ('matryoshka_cosent_weights', {'name': 'MatryoshkaLoss', 'loss': {'name': 'CoSENTLoss', 'scale': 10},
                                   'dims': [2, 8, 4], 'weights': [0.25, 1, 0.5]}, ['e0', 'e1'], 'score', None),
    ('matryoshka_angle', {'name': 'MatryoshkaLoss', 'loss': {'name': 'AnglELoss'}, 'dims': [8, 4, 2]}, ['e2', 'e3'], 'score', None),
    ('matryoshka_triplet', {'name': 'MatryoshkaLoss', 'loss': {'name': 'TripletLoss', 'margin': 0.5}, 'dims': [8, 4]},
     ['e0', 'e1', 'e2'], None, None),
]


def run_case(config, reps_np, label, params_np, rows):
    reps = [torch.tensor(r[:rows], requires_grad=True) for r in reps_np]
    y = None
    if label is not None:
        kind, values = label
        arr = np.asarray(values)[:rows]
        y = torch.tensor(arr, dtype=torch.int64) if kind == 'class' else torch.tensor(arr, dtype=torch.float64)
    params = {k: torch.tensor(v, requires_grad=True) for k, v in (params_np or {}).items()}
    loss = evaluate(config, reps, y, params)
    wrt = reps + list(params.values())
    grads = torch.autograd.grad(loss, wrt, allow_unused=True)
    as_list = lambda g, like: (g if g is not None else torch.zeros_like(like)).detach().numpy().tolist()
    out = {'loss': loss.item(), 'grads': [as_list(g, r) for g, r in zip(grads[:len(reps)], reps)]}
    if params:
        out['param_grads'] = {k: as_list(g, params[k]) for k, g in zip(params.keys(), grads[len(reps):])}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument('--out', default=os.path.join(here, '..', '..', 'test', 'fixtures', 'losses_goldens.json'))
    args = ap.parse_args()
    cols, labels, softmax_params = make_data()
    cases = []
    for cid, config, columns, label_key, params_key in CASES:
        reps_np = [cols[c] for c in columns]
        label = labels[label_key] if label_key else None
        params_np = softmax_params[params_key] if params_key else None
        case = {'id': cid, 'config': config, 'columns': columns, 'labels': label_key}
        if params_np:
            case['params'] = params_key
        case['batch6'] = run_case(config, reps_np, label, params_np, BATCH)
        case['batch4'] = run_case(config, reps_np, label, params_np, SUB)
        cases.append(case)
    doc = {
        'about': 'sentencekit loss goldens: float64 PyTorch losses and autograd gradients '
                 '(scripts/reference/losses_reference.py); batch4 uses the first 4 rows',
        'torch_version': torch.__version__,
        'batch': BATCH,
        'dim': DIM,
        'embeddings': {k: v.tolist() for k, v in cols.items()},
        'labels': {k: {'kind': kind, 'values': list(values)} for k, (kind, values) in labels.items()},
        'params': {k: {n: t.tolist() for n, t in p.items()} for k, p in softmax_params.items()},
        'cases': cases,
    }
    with open(args.out, 'w') as f:
        json.dump(doc, f, separators=(',', ':'))
        f.write('\n')
    print(f'{len(cases)} cases -> {os.path.relpath(args.out)} ({os.path.getsize(args.out)} bytes)')


if __name__ == '__main__':
    main()
