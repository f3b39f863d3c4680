#!/usr/bin/env python3
"""Self-test for st_reference.py / bench_torch.py on tiny random models.

Builds small random BERT sentence-transformers directories in a temporary
directory (deleted afterwards), then checks:

* ``read_safetensors`` round-trips F32 / F16 / BF16 / I64 tensors;
* ``st_reference.py`` (float64, run as a subprocess) matches an independent
  per-sentence numpy implementation of the same equations (loops, no batching,
  no padding) to 1e-10, for every pooling mode, all modes together, a prompt
  excluded from pooling, Dense (Tanh with bias / Identity without bias) and
  Normalize, and names with a ``bert.`` prefix;
* the float32 module used by ``bench_torch.py`` matches the float64 reference
  to 1e-5;
* ``bench_torch.py`` prints exactly one JSON line with the expected counts.

Usage::

    python3 scripts/reference/selftest.py
"""

from __future__ import annotations

import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import st_model  # noqa: E402

RNG = np.random.default_rng(1234)
H, NH, I, L, V, P, TV = 32, 4, 64, 2, 100, 40, 2
EPS = 1e-12
MODES = list(st_model.POOLING_MODE_KEYS)


def bert_weights(prefix: str = "") -> dict:
    def n(*shape, s=0.3):
        return (RNG.standard_normal(shape) * s).astype(np.float32)

    w = {
        "embeddings.word_embeddings.weight": n(V, H, s=1.0),
        "embeddings.position_embeddings.weight": n(P, H, s=0.5),
        "embeddings.token_type_embeddings.weight": n(TV, H, s=0.5),
        "embeddings.LayerNorm.weight": 1 + n(H, s=0.1),
        "embeddings.LayerNorm.bias": n(H, s=0.1),
        "embeddings.position_ids": np.arange(P, dtype=np.int64)[None],
    }
    for i in range(L):
        p = f"encoder.layer.{i}."
        for m in ("query", "key", "value"):
            w[p + f"attention.self.{m}.weight"] = n(H, H)
            w[p + f"attention.self.{m}.bias"] = n(H, s=0.1)
        w[p + "attention.output.dense.weight"] = n(H, H)
        w[p + "attention.output.dense.bias"] = n(H, s=0.1)
        w[p + "attention.output.LayerNorm.weight"] = 1 + n(H, s=0.1)
        w[p + "attention.output.LayerNorm.bias"] = n(H, s=0.1)
        w[p + "intermediate.dense.weight"] = n(I, H)
        w[p + "intermediate.dense.bias"] = n(I, s=0.1)
        w[p + "output.dense.weight"] = n(H, I)
        w[p + "output.dense.bias"] = n(H, s=0.1)
        w[p + "output.LayerNorm.weight"] = 1 + n(H, s=0.1)
        w[p + "output.LayerNorm.bias"] = n(H, s=0.1)
    w["pooler.dense.weight"] = n(H, H)
    w["pooler.dense.bias"] = n(H)
    return {prefix + k: v for k, v in w.items()}


def make_model(root: str, pooling: dict, dense=None, normalize=False, prefix="") -> tuple:
    os.makedirs(root)
    cfg = {"model_type": "bert", "vocab_size": V, "hidden_size": H, "num_hidden_layers": L,
           "num_attention_heads": NH, "intermediate_size": I, "hidden_act": "gelu",
           "max_position_embeddings": P, "type_vocab_size": TV, "layer_norm_eps": EPS,
           "position_embedding_type": "absolute"}
    with open(os.path.join(root, "config.json"), "w") as f:
        json.dump(cfg, f)
    weights = bert_weights(prefix)
    st_model.write_safetensors(os.path.join(root, "model.safetensors"), weights)
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    os.makedirs(os.path.join(root, "1_Pooling"))
    pcfg = {"word_embedding_dimension": H}
    pcfg.update({k: False for k in MODES})
    pcfg.update(pooling)
    with open(os.path.join(root, "1_Pooling", "config.json"), "w") as f:
        json.dump(pcfg, f)
    dense_w = None
    if dense is not None:
        in_f = H * sum(bool(pcfg[k]) for k in MODES)
        out_f, bias, act = dense
        d = os.path.join(root, "2_Dense")
        os.makedirs(d)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump({"in_features": in_f, "out_features": out_f, "bias": bias,
                       "activation_function": act}, f)
        dense_w = {"linear.weight": (RNG.standard_normal((out_f, in_f)) * 0.3).astype(np.float32)}
        if bias:
            dense_w["linear.bias"] = (RNG.standard_normal(out_f) * 0.1).astype(np.float32)
        st_model.write_safetensors(os.path.join(d, "model.safetensors"), dense_w)
        modules.append({"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"})
    if normalize:
        modules.append({"idx": len(modules), "name": str(len(modules)), "path": f"{len(modules)}_Normalize",
                        "type": "sentence_transformers.models.Normalize"})
    with open(os.path.join(root, "modules.json"), "w") as f:
        json.dump(modules, f)
    weights = {k[len(prefix):]: v for k, v in weights.items()}
    return weights, pcfg, dense_w, (dense[2] if dense else None)


# --------------------------- independent numpy reference ---------------------------

_erf = np.vectorize(math.erf)


def np_ln(x, w, b):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + EPS) * w + b


def np_bert_sentence(w, ids, tt):
    """One unpadded sentence, float64."""
    g = {k: np.asarray(v, dtype=np.float64) for k, v in w.items()}
    S = len(ids)
    h = g["embeddings.word_embeddings.weight"][ids] + g["embeddings.position_embeddings.weight"][:S] \
        + g["embeddings.token_type_embeddings.weight"][tt]
    h = np_ln(h, g["embeddings.LayerNorm.weight"], g["embeddings.LayerNorm.bias"])
    d = H // NH
    for i in range(L):
        p = f"encoder.layer.{i}."
        lin = lambda x, n: x @ g[p + n + ".weight"].T + g[p + n + ".bias"]  # noqa: E731
        q, k, v = lin(h, "attention.self.query"), lin(h, "attention.self.key"), lin(h, "attention.self.value")
        ctx = np.zeros_like(h)
        for hd in range(NH):
            sl = slice(hd * d, (hd + 1) * d)
            s = q[:, sl] @ k[:, sl].T / math.sqrt(d)
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            ctx[:, sl] = s @ v[:, sl]
        h = np_ln(h + lin(ctx, "attention.output.dense"),
                  g[p + "attention.output.LayerNorm.weight"], g[p + "attention.output.LayerNorm.bias"])
        x = lin(h, "intermediate.dense")
        x = 0.5 * x * (1 + _erf(x / math.sqrt(2)))
        h = np_ln(h + lin(x, "output.dense"), g[p + "output.LayerNorm.weight"], g[p + "output.LayerNorm.bias"])
    return h


def np_pool(tok, n_valid, pcfg, prompt_length):
    """Pool one sentence; positions [0, n_valid) are real tokens (padding is appended, not present)."""
    start = 0 if (pcfg.get("include_prompt", True) or prompt_length is None) else min(prompt_length, n_valid)
    valid = np.arange(start, n_valid)
    out = []
    if pcfg["pooling_mode_cls_token"]:
        out.append(tok[0])
    if pcfg["pooling_mode_max_tokens"]:
        out.append(tok[valid].max(0) if len(valid) else np.full(H, -1e9))
    cnt = max(len(valid), 1e-9)
    if pcfg["pooling_mode_mean_tokens"]:
        out.append(tok[valid].sum(0) / cnt)
    if pcfg["pooling_mode_mean_sqrt_len_tokens"]:
        out.append(tok[valid].sum(0) / math.sqrt(cnt))
    if pcfg["pooling_mode_weightedmean_tokens"]:
        wts = (valid + 1).astype(np.float64)
        out.append((tok[valid] * wts[:, None]).sum(0) / max(wts.sum(), 1e-9))
    if pcfg["pooling_mode_lasttoken"]:
        out.append(tok[valid[-1]] if len(valid) else np.zeros(H))
    return np.concatenate(out)


def np_pipeline(w, pcfg, dense_w, act, normalize, sentences, prompt_length):
    rows = []
    for ids, tt in sentences:
        tok = np_bert_sentence(w, ids, tt)
        x = np_pool(tok, len(ids), pcfg, prompt_length)
        if dense_w is not None:
            x = x @ dense_w["linear.weight"].astype(np.float64).T
            if "linear.bias" in dense_w:
                x = x + dense_w["linear.bias"]
            if act.endswith("Tanh"):
                x = np.tanh(x)
        if normalize:
            x = x / max(np.linalg.norm(x), 1e-12)
        rows.append(x)
    return np.stack(rows)


# ------------------------------------ driver ------------------------------------

def make_ids(path):
    """Sentences of varied length, sorted and right-padded into batches of 3."""
    lengths = [3, 5, 6, 9, 12, 17, 20]
    sentences = []
    for n in lengths:
        ids = [1] + list(RNG.integers(5, V, n - 2)) + [2]
        tt = [0] * n
        if n > 8:  # a sentence pair
            tt = [0] * (n // 2) + [1] * (n - n // 2)
        sentences.append(([int(i) for i in ids], tt))
    batches = []
    for b in range(0, len(sentences), 3):
        chunk = sentences[b : b + 3]
        S = max(len(s[0]) for s in chunk)
        batches.append({
            "input_ids": [s[0] + [0] * (S - len(s[0])) for s in chunk],
            "attention_mask": [[1] * len(s[0]) + [0] * (S - len(s[0])) for s in chunk],
            "token_type_ids": [s[1] + [0] * (S - len(s[1])) for s in chunk],
        })
    return sentences, batches


def check_safetensors(tmp):
    path = os.path.join(tmp, "dtypes.safetensors")
    f32 = RNG.standard_normal((3, 4)).astype(np.float32)
    bf16 = (f32.view(np.uint32) >> 16).astype(np.uint16)  # truncation: exactly representable
    f16 = f32.astype(np.float16)
    i64 = np.arange(6, dtype=np.int64).reshape(2, 3)
    tensors = [("a", "F32", f32), ("b", "BF16", bf16), ("c", "F16", f16), ("d", "I64", i64)]
    header, data, off = {"__metadata__": {"format": "pt"}}, b"", 0
    for name, dt, arr in tensors:
        raw = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + len(raw)]}
        data += raw
        off += len(raw)
    hb = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb + data)
    got = st_model.read_safetensors(path)
    assert np.array_equal(got["a"], f32)
    assert got["b"].dtype == np.float32
    assert np.array_equal(got["b"], (bf16.astype(np.uint32) << 16).view(np.float32))
    assert np.abs(got["b"] - f32).max() <= np.abs(f32).max() * 2 ** -7
    assert np.array_equal(got["c"], f16) and np.array_equal(got["d"], i64)
    print("ok  safetensors F32/BF16/F16/I64")


def main() -> int:
    tmp = tempfile.mkdtemp(prefix="st_ref_selftest_")
    failures = 0
    try:
        check_safetensors(tmp)
        sentences, batches = make_ids(None)
        cases = [(f"{m}", {m: True}, None, False, "", None) for m in MODES]
        cases += [
            ("all modes", {m: True for m in MODES}, None, False, "", None),
            ("all modes, prompt excluded", {**{m: True for m in MODES}, "include_prompt": False}, None, False, "", 4),
            ("mean, prompt included", {"pooling_mode_mean_tokens": True, "include_prompt": True}, None, False, "", 4),
            ("mean + Dense(Tanh) + Normalize", {"pooling_mode_mean_tokens": True}, (16, True, "torch.nn.modules.activation.Tanh"), True, "", None),
            ("cls+mean + Dense(Identity, no bias)", {"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": True}, (24, False, "torch.nn.modules.linear.Identity"), False, "", None),
            ("mean + Normalize, bert. prefix", {"pooling_mode_mean_tokens": True}, None, True, "bert.", None),
        ]
        for ci, (label, pooling, dense, normalize, prefix, prompt_length) in enumerate(cases):
            root = os.path.join(tmp, f"model{ci}")
            w, pcfg, dense_w, act = make_model(root, pooling, dense, normalize, prefix)
            ids_path = os.path.join(tmp, f"ids{ci}.json")
            with open(ids_path, "w") as f:
                json.dump({"batches": batches, "prompt_length": prompt_length}, f)
            out_path = os.path.join(tmp, f"out{ci}.json")
            subprocess.run([sys.executable, os.path.join(HERE, "st_reference.py"), "--model", root,
                            "--ids", ids_path, "--out", out_path], check=True)
            with open(out_path) as f:
                ref = json.load(f)
            got64 = np.array(ref["sentence_embedding"])
            want = np_pipeline(w, pcfg, dense_w, act, normalize, sentences, prompt_length)
            err_np = np.abs(got64 - want).max()
            # token embeddings of real positions of the first sentence
            n0 = len(sentences[0][0])
            tok0 = np_bert_sentence(w, *sentences[0])
            err_tok = np.abs(np.array(ref["token_embeddings_first_row"])[:n0] - tok0).max()
            # float32 module (what bench_torch.py runs)
            m32 = st_model.SentenceTransformerModel(root, torch.float32).eval()
            bl, pl = st_model.load_ids(ids_path)
            with torch.inference_mode():
                got32 = np.concatenate([m32(a, b, c, pl)["sentence_embedding"].numpy() for a, b, c in bl])
            err32 = np.abs(got32.astype(np.float64) - got64).max()
            # .npy output
            npy = os.path.join(tmp, f"out{ci}.npy")
            subprocess.run([sys.executable, os.path.join(HERE, "st_reference.py"), "--model", root,
                            "--ids", ids_path, "--out", npy], check=True)
            arr = np.load(npy)
            npy_ok = arr.dtype == np.float32 and np.array_equal(arr, got64.astype(np.float32))
            ok = err_np < 1e-10 and err_tok < 1e-10 and err32 < 1e-5 and npy_ok and got64.shape == want.shape
            failures += not ok
            print(f"{'ok ' if ok else 'FAIL'} {label:40s} dim={got64.shape[1]:3d} |f64-numpy|={err_np:.1e} "
                  f"|tok-numpy|={err_tok:.1e} |f32-f64|={err32:.1e} npy={'ok' if npy_ok else 'BAD'}")

        # bench_torch on the first (CLS pooling) model
        root = os.path.join(tmp, "model0")
        ids_path = os.path.join(tmp, "ids0.json")
        res = subprocess.run([sys.executable, os.path.join(HERE, "bench_torch.py"), "--model", root,
                              "--ids", ids_path, "--threads", "2", "--repeat", "2", "--warmup", "1"],
                             check=True, capture_output=True, text=True)
        lines = res.stdout.splitlines()
        doc = json.loads(lines[0])
        exp_tokens = sum(len(s[0]) for s in sentences)
        exp_padded = sum(len(b["input_ids"]) * len(b["input_ids"][0]) for b in batches)
        ok = (len(lines) == 1 and doc["peer"] == "pytorch" and doc["threads"] == 2
              and doc["sentences"] == len(sentences) and doc["tokens"] == exp_tokens
              and doc["padded_tokens"] == exp_padded and doc["seconds"] > 0)
        failures += not ok
        print(f"{'ok ' if ok else 'FAIL'} bench_torch stdout: {lines}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("all ok" if not failures else f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
