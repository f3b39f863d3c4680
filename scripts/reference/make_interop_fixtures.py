#!/usr/bin/env python3
"""Interop fixtures made by the real libraries (sentence-transformers 6.0.1, torch 2.13).

Writes, under ``test/fixtures/``:

* ``torch_pickle/``: files written by ``torch.save`` — a state dict in the zip container
  (float32, float16, bfloat16, int64, bool, a 0-d tensor, a transposed view, a slice that
  shares its storage with another tensor), the same in the legacy (torch < 1.6) stream, and
  files whose pickles name ``posix.system`` / ``builtins.eval`` (a loader that executes them
  would create ``PWNED`` next to the file). ``expected.json`` holds every tensor's dtype,
  shape and values (flattened, C order).
* ``interop/``: small random models (hidden size 16) built with transformers and saved by
  ``SentenceTransformer.save`` of sentence-transformers 6.0.1: every pooling mode, Dense,
  Normalize, prompts with ``default_prompt_name`` and ``include_prompt`` false, a cased
  tokenizer with ``do_lower_case`` set on the Transformer, one converted to
  ``pytorch_model.bin`` files, StaticEmbedding + Normalize (safetensors and
  pytorch_model.bin), and one in the 2.x layout (module names
  ``sentence_transformers.models.*``, Pooling by flags, ``max_seq_length`` in
  ``sentence_bert_config.json``, ``pytorch_model.bin``). ``sentences.json`` holds 320 texts
  (short, long past max_seq_length, accented, CJK, emoji); each model folder ``M`` has
  ``M.golden.npy`` (float32 [320, dim]: ``model.encode(sentences)``) and, for the prompt
  model, ``M.golden_<prompt>.npy`` per prompt name and ``M.golden_noprompt.npy``
  (``prompt=""``).

Run by hand (it takes under a minute) from the repository root, after bash scripts/python_env.sh::

    .venv/bin/python scripts/reference/make_interop_fixtures.py
"""

import json
import os
import random
import shutil
import sys

import numpy as np
import torch
from safetensors.torch import load_file
from transformers import BertConfig, BertModel, BertTokenizerFast

from sentence_transformers import SentenceTransformer
from sentence_transformers.base.modules.dense import Dense
from sentence_transformers.base.modules.normalize import Normalize
from sentence_transformers.base.modules.transformer import Transformer
from sentence_transformers.sentence_transformer.modules.pooling import Pooling
from sentence_transformers.sentence_transformer.modules.static_embedding import StaticEmbedding

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "test", "fixtures")
HIDDEN = 16


# ------------------------------------------------------------------ torch.save files


class Evil:
    """A pickle that runs a command when loaded by an unrestricted unpickler."""

    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


def torch_pickles():
    out = os.path.join(FIX, "torch_pickle")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    g = torch.Generator().manual_seed(7)
    base = torch.randn(4, 6, generator=g)
    sd = {
        "linear.weight": torch.randn(3, 5, generator=g),
        "linear.bias": torch.randn(3, generator=g),
        "half": torch.randn(2, 3, generator=g).half(),
        "bf16": torch.randn(5, generator=g).bfloat16(),
        "position_ids": torch.arange(7, dtype=torch.int64).unsqueeze(0),
        "flags": torch.tensor([True, False, True]),
        "scalar": torch.tensor(2.5),
        "transposed": base.t(),  # non-contiguous view: stride (1, 6)
        "rows": base[1:3],  # shares base's storage at offset 6
        "base": base,
    }
    expected = {}
    for k, v in sd.items():
        c = v.contiguous()
        vals = c.float().flatten().tolist() if v.dtype not in (torch.int64, torch.bool) else [int(x) for x in c.flatten().tolist()]
        dt = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64", torch.bool: "BOOL"}[v.dtype]
        expected[k] = {"dtype": dt, "shape": list(v.shape), "values": vals}
    torch.save(sd, os.path.join(out, "zip.bin"))
    torch.save(sd, os.path.join(out, "legacy.bin"), _use_new_zipfile_serialization=False)
    marker = "test/fixtures/torch_pickle/PWNED"  # relative: the repository root is the working directory
    torch.save({"w": sd["linear.bias"], "x": Evil(os.system, f"touch {marker}")}, os.path.join(out, "malicious_system.bin"))
    torch.save({"w": sd["linear.bias"], "x": Evil(eval, f"open({marker!r}, 'w')")}, os.path.join(out, "malicious_eval.bin"))
    torch.save({"x": Evil(os.system, f"touch {marker}")}, os.path.join(out, "malicious_legacy.bin"), _use_new_zipfile_serialization=False)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"torch": torch.__version__, "tensors": expected}, f, indent=1)
        f.write("\n")
    # the files load in torch itself, restricted too
    back = torch.load(os.path.join(out, "zip.bin"), weights_only=True)
    assert all(torch.equal(back[k], sd[k]) for k in sd)


# ------------------------------------------------------------------ sentences


WORDS = (
    "the a cat dog sat on mat runs quickly under blue sky house river tree music play read book "
    "city night day sun moon green small big old new happy sad fast slow water fire stone road "
    "garden window friend market train station coffee morning evening winter summer"
).split()
ACCENTED = "café naïve résumé señor über façade crème brûlée São Paulo Zürich déjà vu fiancée jalapeño Ångström".split()
CJK = ["猫が座った", "今日は天気がいい", "我喜欢读书", "北京欢迎你", "안녕하세요", "東京タワー", "学习机器", "山と川"]
EMOJI = ["🙂", "🐱", "🚀", "❤️", "👍🏽", "🎉", "🌍", "👨‍👩‍👧"]


def sentences():
    rng = random.Random(1234)
    out = []
    for i in range(320):
        kind = i % 8
        n = rng.randint(3, 12)
        words = [rng.choice(WORDS) for _ in range(n)]
        if kind == 1:
            words += [rng.choice(ACCENTED) for _ in range(rng.randint(1, 4))]
        elif kind == 2:
            words += [rng.choice(CJK) for _ in range(rng.randint(1, 3))]
        elif kind == 3:
            words += [rng.choice(EMOJI) for _ in range(rng.randint(1, 3))]
        elif kind == 4:  # long: past max_seq_length (truncated)
            words = [rng.choice(WORDS + ACCENTED) for _ in range(rng.randint(60, 140))]
        elif kind == 5:
            words = [w.capitalize() if rng.random() < 0.5 else w.upper() for w in words]
        rng.shuffle(words)
        s = " ".join(words)
        if kind == 6:
            s = s + rng.choice([".", "!", "?", " ...", ", yes."])
        if kind == 7 and i % 16 == 7:
            s = rng.choice(["", " ", "a"])  # empty and near-empty texts
        out.append(s)
    return out


def vocab(texts, cased):
    pieces = set()
    for t in texts:
        for w in t.replace(".", " . ").replace(",", " , ").replace("!", " ! ").replace("?", " ? ").split():
            pieces.add(w if cased else w.lower())
    chars = sorted({c for t in texts for c in (t if cased else t.lower()) if not c.isspace()})
    words = sorted(w for w in pieces if len(w) > 1)[:400]
    toks = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars + ["##" + c for c in chars] + words
    seen, out = set(), []
    for t in toks:
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


# ------------------------------------------------------------------ models


def bert_dir(tmp, texts, cased, seed):
    os.makedirs(tmp, exist_ok=True)
    v = vocab(texts, cased)
    tok = BertTokenizerFast(vocab={t: i for i, t in enumerate(v)}, do_lower_case=not cased, model_max_length=64)
    assert len(tok) == len(v), (len(tok), len(v))
    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=len(tok), hidden_size=HIDDEN, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=32, max_position_embeddings=96,
    )
    model = BertModel(cfg, add_pooling_layer=False)
    with torch.no_grad():  # larger than BERT's init so that every weight matters in the embeddings
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    return tmp


def build_static(name, tmp, texts, seed):
    src = bert_dir(os.path.join(tmp, name), texts, False, seed)
    tok = BertTokenizerFast.from_pretrained(src)
    torch.manual_seed(seed)
    weights = torch.randn(len(tok), HIDDEN)
    return SentenceTransformer(modules=[StaticEmbedding(tok, embedding_weights=weights), Normalize()], device="cpu")


def build(name, tmp, texts, modes=None, *, static=False, dense=None, normalize=False, include_prompt=True, prompts=None,
          default_prompt_name=None, cased=False, lower=False, seed=0, similarity=None):
    if static:
        return build_static(name, tmp, texts, seed)
    src = bert_dir(os.path.join(tmp, name), texts, cased, seed)
    t = Transformer(src, max_seq_length=48, do_lower_case=lower)
    mods = [t, Pooling(HIDDEN, modes if len(modes) > 1 else modes[0], include_prompt=include_prompt)]
    dim = HIDDEN * len(modes)
    if dense:
        torch.manual_seed(seed + 100)
        mods.append(Dense(dim, dense, activation_function=torch.nn.Tanh()))
    if normalize:
        mods.append(Normalize())
    kw = {}
    if prompts is not None:
        kw["prompts"] = prompts
        kw["default_prompt_name"] = default_prompt_name
    if similarity:
        kw["similarity_fn_name"] = similarity
    return SentenceTransformer(modules=mods, device="cpu", **kw)


def to_pytorch_bin(folder):
    """Replaces each model.safetensors with the pytorch_model.bin torch.save writes."""
    for root, _, files in os.walk(folder):
        if "model.safetensors" in files:
            p = os.path.join(root, "model.safetensors")
            torch.save(load_file(p), os.path.join(root, "pytorch_model.bin"))
            os.remove(p)


def to_v2_layout(folder):
    """Rewrites a saved folder into the layout sentence-transformers 2.x writes."""
    mpath = os.path.join(folder, "modules.json")
    mods = json.load(open(mpath))
    names = {"Transformer": "sentence_transformers.models.Transformer", "Pooling": "sentence_transformers.models.Pooling",
             "Dense": "sentence_transformers.models.Dense", "Normalize": "sentence_transformers.models.Normalize"}
    for m in mods:
        m["type"] = names[m["type"].rsplit(".", 1)[1]]
    json.dump(mods, open(mpath, "w"), indent=2)
    tc = json.load(open(os.path.join(folder, "tokenizer_config.json")))
    json.dump({"max_seq_length": tc["model_max_length"], "do_lower_case": False}, open(os.path.join(folder, "sentence_bert_config.json"), "w"), indent=2)
    tc["model_max_length"] = 512
    json.dump(tc, open(os.path.join(folder, "tokenizer_config.json"), "w"), indent=2)
    pc = json.load(open(os.path.join(folder, "1_Pooling", "config.json")))
    modes = pc["pooling_mode"] if isinstance(pc["pooling_mode"], list) else [pc["pooling_mode"]]
    json.dump({"word_embedding_dimension": pc["embedding_dimension"],
               "pooling_mode_cls_token": "cls" in modes, "pooling_mode_mean_tokens": "mean" in modes,
               "pooling_mode_max_tokens": "max" in modes, "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens" in modes},
              open(os.path.join(folder, "1_Pooling", "config.json"), "w"), indent=4)
    for sub in os.listdir(folder):
        if sub.endswith("_Normalize"):
            shutil.rmtree(os.path.join(folder, sub))
            os.makedirs(os.path.join(folder, sub))
    json.dump({"__version__": {"sentence_transformers": "2.2.2", "transformers": "4.30.2", "pytorch": "2.0.1"}},
              open(os.path.join(folder, "config_sentence_transformers.json"), "w"), indent=2)
    for junk in ("README.md",):
        p = os.path.join(folder, junk)
        if os.path.exists(p):
            os.remove(p)
    to_pytorch_bin(folder)


def to_v3_lowercase(folder):
    """The 3.x-5.x layout with do_lower_case in sentence_bert_config.json over a cased tokenizer.

    (sentence-transformers 6 keeps that flag as a Lowercase step in tokenizer.json, which
    transformers 5 drops again when it loads a BertTokenizer, so 6.x cannot save it itself.)
    """
    tc = json.load(open(os.path.join(folder, "tokenizer_config.json")))
    json.dump({"max_seq_length": tc["model_max_length"], "do_lower_case": True}, open(os.path.join(folder, "sentence_bert_config.json"), "w"), indent=2)
    mpath = os.path.join(folder, "modules.json")
    mods = json.load(open(mpath))
    for m in mods:
        m["type"] = "sentence_transformers.models." + m["type"].rsplit(".", 1)[1]
    json.dump(mods, open(mpath, "w"), indent=2)
    pc = json.load(open(os.path.join(folder, "1_Pooling", "config.json")))
    json.dump({"word_embedding_dimension": pc["embedding_dimension"], "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
               "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_weightedmean_tokens": False,
               "pooling_mode_lasttoken": False, "include_prompt": True}, open(os.path.join(folder, "1_Pooling", "config.json"), "w"), indent=4)


def interop():
    out = os.path.join(FIX, "interop")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    texts = sentences()
    with open(os.path.join(out, "sentences.json"), "w") as f:
        json.dump(texts, f, ensure_ascii=False, indent=0)
        f.write("\n")
    tmp = os.path.join(out, ".src")
    prompts = {"query": "query: ", "passage": "passage: ", "empty": ""}
    specs = {
        "st6_mean_normalize": dict(modes=["mean"], normalize=True, seed=1),
        "st6_cls_max_dense": dict(modes=["max", "cls"], dense=8, normalize=True, seed=2),
        "st6_mean_sqrt_len": dict(modes=["mean_sqrt_len_tokens"], seed=3, similarity="dot"),
        "st6_weightedmean": dict(modes=["weightedmean"], seed=4),
        "st6_lasttoken": dict(modes=["lasttoken"], seed=5),
        "st6_prompts": dict(modes=["mean"], include_prompt=False, prompts=prompts, default_prompt_name="query", normalize=True, seed=6),
        "v3_lowercase": dict(modes=["mean"], cased=True, seed=7),
        "st6_cased": dict(modes=["mean"], cased=True, lower=False, seed=7),
        "st6_pytorch_bin": dict(modes=["mean"], dense=8, seed=8),
        "v2_layout": dict(modes=["max", "mean"], dense=8, normalize=True, seed=9),
        "st6_static": dict(static=True, seed=10),
        "st6_static_bin": dict(static=True, seed=11),
    }
    for name, spec in specs.items():
        m = build(name, tmp, texts, **spec)
        folder = os.path.join(out, name)
        m.save(folder)
        os.remove(os.path.join(folder, "README.md"))
        emb = m.encode(texts, convert_to_numpy=True, batch_size=32).astype(np.float32)
        np.save(os.path.join(out, f"{name}.golden.npy"), emb)
        if spec.get("prompts"):
            for pn in m.prompts:
                np.save(os.path.join(out, f"{name}.golden_{pn}.npy"), m.encode(texts, prompt_name=pn, convert_to_numpy=True).astype(np.float32))
            np.save(os.path.join(out, f"{name}.golden_noprompt.npy"), m.encode(texts, prompt="", convert_to_numpy=True).astype(np.float32))
        if name in ("st6_pytorch_bin", "st6_static_bin"):
            to_pytorch_bin(folder)
        if name == "v2_layout":
            to_v2_layout(folder)
        if name == "v3_lowercase":
            to_v3_lowercase(folder)
        # what was written loads back in sentence-transformers 6 with the same embeddings
        back = SentenceTransformer(folder, device="cpu").encode(texts, convert_to_numpy=True)
        d = float(np.abs(back - emb).max())
        if name == "v3_lowercase":  # the flag lowercases the texts: the embeddings change
            assert d > 1e-2, (name, d)
            np.save(os.path.join(out, f"{name}.golden.npy"), back.astype(np.float32))
        else:
            assert d <= 1e-6, (name, d)
        print(f"{name}: dim {emb.shape[1]}, reload max|diff| {d:.2e}", file=sys.stderr)
    shutil.rmtree(tmp)


if __name__ == "__main__":
    os.chdir(ROOT)
    torch_pickles()
    interop()
