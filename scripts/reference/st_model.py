"""Shared implementation of a sentence-transformers BERT-family pipeline in plain PyTorch.

Used by ``st_reference.py`` (float64 reference outputs) and ``bench_torch.py``
(float32 throughput peer). Nothing here depends on ``transformers``,
``safetensors`` or ``sentence_transformers``: the model directory is read
directly and every module is written from its equations with
``torch.nn.functional`` ops, parameterised by a torch dtype.

Model directory layout (standard sentence-transformers save format)
-------------------------------------------------------------------
``modules.json``
    ``[{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}, ...]``.
    Supported types (matched on the class name): ``Transformer``, ``Pooling``,
    ``Dense``, ``Normalize``. Without ``modules.json`` the directory is treated
    as a bare Hugging Face BERT model followed by mean pooling.
Transformer module (``path``, usually ``""``)
    ``config.json`` (BERT hyper-parameters) and ``model.safetensors``
    (``pytorch_model.bin`` is accepted as a fallback). Tensor names follow
    Hugging Face's ``BertModel``; an optional ``bert.`` prefix is stripped.
Pooling module (usually ``1_Pooling/config.json``)
Dense module (usually ``2_Dense/config.json`` + ``2_Dense/model.safetensors``)
Normalize module (no files)

Equations
---------
Embeddings (absolute positions 0..S-1)::

    h0 = LayerNorm(word[ids] + pos[0..S-1] + type[token_type_ids])

Encoder layer (post-LayerNorm, as Hugging Face ``BertLayer``)::

    Q, K, V     = h Wq^T + bq, h Wk^T + bk, h Wv^T + bv      (split into n_heads of d = H / n_heads)
    scores      = Q K^T / sqrt(d) + (1 - mask) * finfo(float32).min
    ctx         = softmax(scores) V                            (heads concatenated back to H)
    h           = LayerNorm(h + ctx Wo^T + bo)
    h           = LayerNorm(h + act(h Wi^T + bi) Wo2^T + bo2)  (act = gelu(x) = x/2 (1 + erf(x/sqrt 2)))

Pooling (sentence-transformers ``Pooling.forward``), modes concatenated in the
order cls, max, mean, mean_sqrt_len, weightedmean, lasttoken; with
``include_prompt == false`` and a prompt length P, ``mask[:, :P] = 0`` first::

    cls          = h[:, 0]
    max          = max_t (h_t if mask_t else -1e9)
    mean         = sum_t mask_t h_t / max(sum_t mask_t, 1e-9)
    mean_sqrt    = sum_t mask_t h_t / sqrt(max(sum_t mask_t, 1e-9))
    weightedmean = sum_t t mask_t h_t / max(sum_t t mask_t, 1e-9)     (t = 1..S)
    lasttoken    = (h * mask)[last index with mask_t != 0]           (index S-1 if the row is all zero)

Dense: ``y = act(x W^T + b)``. Normalize: ``y = x / max(||x||_2, 1e-12)``.
"""

from __future__ import annotations

import json
import math
import os
import struct
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F

# Value Hugging Face adds to masked attention scores (finfo of the model dtype,
# float32 for the checkpoints we compare against). Kept as float32's minimum
# in the float64 reference too so both paths see the same additive mask.
MASK_FILL = float(torch.finfo(torch.float32).min)

# ---------------------------------------------------------------------------
# safetensors
# ---------------------------------------------------------------------------

_ST_DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U8": "u1",
    "BOOL": "?",
    "BF16": "<u2",  # decoded below
}


def read_safetensors(path: str) -> Dict[str, np.ndarray]:
    """Parse a .safetensors file with numpy.

    Layout: 8-byte little-endian u64 header length N, N bytes of JSON
    ``{name: {"dtype", "shape", "data_offsets": [begin, end]}}`` (plus an
    optional ``__metadata__`` entry), then the data section; offsets are
    relative to the start of the data section. Returns writable arrays; BF16
    tensors are widened exactly to float32.
    """
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    if raw.size < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8].tobytes())
    if 8 + n > raw.size:
        raise ValueError(f"{path}: header length {n} exceeds file size {raw.size}")
    header = json.loads(raw[8 : 8 + n].tobytes().decode("utf-8"))
    base = 8 + n
    out: Dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = info["dtype"]
        if dtype not in _ST_DTYPES:
            raise ValueError(f"{path}: tensor {name!r} has unsupported dtype {dtype}")
        begin, end = info["data_offsets"]
        shape = tuple(int(s) for s in info["shape"])
        np_dtype = np.dtype(_ST_DTYPES[dtype])
        count = int(np.prod(shape)) if shape else 1
        if end - begin != count * np_dtype.itemsize:
            raise ValueError(f"{path}: tensor {name!r} byte size does not match dtype/shape")
        arr = np.frombuffer(raw[base + begin : base + end].tobytes(), dtype=np_dtype, count=count)
        if dtype == "BF16":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        out[name] = arr.astype(arr.dtype.newbyteorder("=")).reshape(shape).copy()
    return out


def write_safetensors(path: str, tensors: Dict[str, np.ndarray]) -> None:
    """Write numpy arrays (float64/float32/float16/int64/int32) as a .safetensors file."""
    names = {np.dtype("<f8"): "F64", np.dtype("<f4"): "F32", np.dtype("<f2"): "F16",
             np.dtype("<i8"): "I64", np.dtype("<i4"): "I32"}
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        le = arr.astype(arr.dtype.newbyteorder("<"))
        data = le.tobytes()
        header[name] = {"dtype": names[np.dtype(le.dtype)], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((8 - len(hbytes) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for c in chunks:
            f.write(c)


def load_weights(directory: str, stem: str = "model") -> Dict[str, np.ndarray]:
    """Load ``<stem>.safetensors`` (or ``pytorch_model.bin`` as a fallback) from a directory."""
    st = os.path.join(directory, f"{stem}.safetensors")
    if os.path.exists(st):
        return read_safetensors(st)
    for alt in ("pytorch_model.bin", "model.bin"):
        p = os.path.join(directory, alt)
        if os.path.exists(p):
            state = torch.load(p, map_location="cpu")
            return {k: v.detach().float().numpy() if v.is_floating_point() else v.numpy()
                    for k, v in state.items()}
    raise FileNotFoundError(f"no {stem}.safetensors or pytorch_model.bin in {directory!r}")


# ---------------------------------------------------------------------------
# BERT
# ---------------------------------------------------------------------------

def _gelu_erf(x: torch.Tensor) -> torch.Tensor:
    return F.gelu(x)


def _gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


HIDDEN_ACTS = {
    "gelu": _gelu_erf,
    "gelu_python": _gelu_erf,
    "gelu_new": _gelu_tanh,
    "gelu_pytorch_tanh": _gelu_tanh,
    "relu": F.relu,
    "silu": F.silu,
    "swish": F.silu,
    "tanh": torch.tanh,
}


def _canonical_bert_name(name: str) -> str:
    for prefix in ("bert.", "model."):
        if name.startswith(prefix):
            name = name[len(prefix):]
    if name.endswith(".gamma"):
        name = name[: -len(".gamma")] + ".weight"
    elif name.endswith(".beta"):
        name = name[: -len(".beta")] + ".bias"
    return name


class BertEncoder(torch.nn.Module):
    """Hugging Face ``BertModel`` last hidden state (post-LayerNorm encoder, absolute positions)."""

    def __init__(self, config: dict, weights: Dict[str, np.ndarray], dtype: torch.dtype):
        super().__init__()
        pet = config.get("position_embedding_type", "absolute")
        if pet != "absolute":
            raise ValueError(f"position_embedding_type {pet!r} is not supported (only 'absolute')")
        act = config.get("hidden_act", "gelu")
        if act not in HIDDEN_ACTS:
            raise ValueError(f"hidden_act {act!r} is not supported")
        self.act = HIDDEN_ACTS[act]
        self.hidden = int(config["hidden_size"])
        self.n_heads = int(config["num_attention_heads"])
        if self.hidden % self.n_heads:
            raise ValueError("hidden_size must be divisible by num_attention_heads")
        self.d_head = self.hidden // self.n_heads
        self.n_layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.max_pos = int(config.get("max_position_embeddings", 512))
        self.dtype = dtype

        w = {_canonical_bert_name(k): v for k, v in weights.items()}

        def get(name: str, shape=None) -> torch.Tensor:
            if name not in w:
                raise KeyError(f"missing tensor {name!r} in the transformer weights")
            t = torch.from_numpy(np.asarray(w[name], dtype=np.float64)).to(dtype).contiguous()
            if shape is not None and tuple(t.shape) != tuple(shape):
                raise ValueError(f"tensor {name!r} has shape {tuple(t.shape)}, expected {tuple(shape)}")
            return t

        H, I = self.hidden, int(config["intermediate_size"])
        self.register_buffer("word_emb", get("embeddings.word_embeddings.weight", (int(config["vocab_size"]), H)))
        self.register_buffer("pos_emb", get("embeddings.position_embeddings.weight", (self.max_pos, H)))
        tv = int(config.get("type_vocab_size", 2))
        self.register_buffer("type_emb", get("embeddings.token_type_embeddings.weight", (tv, H)))
        self.register_buffer("emb_ln_w", get("embeddings.LayerNorm.weight", (H,)))
        self.register_buffer("emb_ln_b", get("embeddings.LayerNorm.bias", (H,)))
        self.layers: List[Dict[str, torch.Tensor]] = []
        for i in range(self.n_layers):
            p = f"encoder.layer.{i}."
            layer = {
                "q_w": get(p + "attention.self.query.weight", (H, H)),
                "q_b": get(p + "attention.self.query.bias", (H,)),
                "k_w": get(p + "attention.self.key.weight", (H, H)),
                "k_b": get(p + "attention.self.key.bias", (H,)),
                "v_w": get(p + "attention.self.value.weight", (H, H)),
                "v_b": get(p + "attention.self.value.bias", (H,)),
                "ao_w": get(p + "attention.output.dense.weight", (H, H)),
                "ao_b": get(p + "attention.output.dense.bias", (H,)),
                "aln_w": get(p + "attention.output.LayerNorm.weight", (H,)),
                "aln_b": get(p + "attention.output.LayerNorm.bias", (H,)),
                "i_w": get(p + "intermediate.dense.weight", (I, H)),
                "i_b": get(p + "intermediate.dense.bias", (I,)),
                "o_w": get(p + "output.dense.weight", (H, I)),
                "o_b": get(p + "output.dense.bias", (H,)),
                "oln_w": get(p + "output.LayerNorm.weight", (H,)),
                "oln_b": get(p + "output.LayerNorm.bias", (H,)),
            }
            for k, v in layer.items():
                self.register_buffer(f"l{i}_{k}", v)
            self.layers.append(layer)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: Optional[torch.Tensor] = None) -> torch.Tensor:
        B, S = input_ids.shape
        if S > self.max_pos:
            raise ValueError(f"sequence length {S} exceeds max_position_embeddings {self.max_pos}")
        H, nh, dh = self.hidden, self.n_heads, self.d_head
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        h = self.word_emb[input_ids] + self.pos_emb[:S].unsqueeze(0) + self.type_emb[token_type_ids]
        h = F.layer_norm(h, (H,), self.emb_ln_w, self.emb_ln_b, self.eps)
        # [B, 1, 1, S] additive mask, as Hugging Face's get_extended_attention_mask.
        mask_add = (1.0 - attention_mask.to(self.dtype))[:, None, None, :] * MASK_FILL
        scale = math.sqrt(dh)
        for L in self.layers:
            q = F.linear(h, L["q_w"], L["q_b"]).view(B, S, nh, dh).transpose(1, 2)
            k = F.linear(h, L["k_w"], L["k_b"]).view(B, S, nh, dh).transpose(1, 2)
            v = F.linear(h, L["v_w"], L["v_b"]).view(B, S, nh, dh).transpose(1, 2)
            scores = torch.matmul(q, k.transpose(-1, -2)) / scale + mask_add
            probs = torch.softmax(scores, dim=-1)
            ctx = torch.matmul(probs, v).transpose(1, 2).reshape(B, S, H)
            attn = F.linear(ctx, L["ao_w"], L["ao_b"])
            h = F.layer_norm(attn + h, (H,), L["aln_w"], L["aln_b"], self.eps)
            ffn = F.linear(self.act(F.linear(h, L["i_w"], L["i_b"])), L["o_w"], L["o_b"])
            h = F.layer_norm(ffn + h, (H,), L["oln_w"], L["oln_b"], self.eps)
        return h


# ---------------------------------------------------------------------------
# Pooling / Dense / Normalize
# ---------------------------------------------------------------------------

POOLING_MODE_KEYS = (
    "pooling_mode_cls_token",
    "pooling_mode_max_tokens",
    "pooling_mode_mean_tokens",
    "pooling_mode_mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens",
    "pooling_mode_lasttoken",
)


class Pooling(torch.nn.Module):
    """sentence-transformers ``Pooling.forward`` (v3 semantics, ``lasttoken`` via flip/max)."""

    def __init__(self, config: dict):
        super().__init__()
        self.dim = config.get("word_embedding_dimension")
        self.modes = {k: bool(config.get(k, False)) for k in POOLING_MODE_KEYS}
        self.include_prompt = bool(config.get("include_prompt", True))
        if not any(self.modes.values()):
            raise ValueError("pooling config enables no pooling mode")

    def forward(self, token_embeddings: torch.Tensor, attention_mask: torch.Tensor,
                prompt_length: Optional[int] = None) -> torch.Tensor:
        # sentence-transformers mutates its inputs in place (mask for the prompt,
        # token_embeddings for max pooling); work on copies so the caller's
        # tensors stay untouched. Later modes multiply by the mask, so the
        # in-place -1e9 fill never changes their results.
        attention_mask = attention_mask.clone()
        if not self.include_prompt and prompt_length is not None:
            attention_mask[:, : int(prompt_length)] = 0
        dtype = token_embeddings.dtype
        bs, seq_len, hidden = token_embeddings.shape
        mask = attention_mask.unsqueeze(-1).expand(token_embeddings.size()).to(dtype)
        out = []
        if self.modes["pooling_mode_cls_token"]:
            out.append(token_embeddings[:, 0])
        if self.modes["pooling_mode_max_tokens"]:
            masked = token_embeddings.masked_fill(mask == 0, -1e9)
            out.append(torch.max(masked, 1)[0])
        if self.modes["pooling_mode_mean_tokens"] or self.modes["pooling_mode_mean_sqrt_len_tokens"]:
            sum_embeddings = torch.sum(token_embeddings * mask, 1)
            sum_mask = torch.clamp(mask.sum(1), min=1e-9)
            if self.modes["pooling_mode_mean_tokens"]:
                out.append(sum_embeddings / sum_mask)
            if self.modes["pooling_mode_mean_sqrt_len_tokens"]:
                out.append(sum_embeddings / torch.sqrt(sum_mask))
        if self.modes["pooling_mode_weightedmean_tokens"]:
            weights = (torch.arange(1, seq_len + 1, device=token_embeddings.device)
                       .unsqueeze(0).unsqueeze(-1).expand(token_embeddings.size()).to(dtype))
            wmask = mask * weights
            sum_embeddings = torch.sum(token_embeddings * wmask, 1)
            sum_mask = torch.clamp(wmask.sum(1), min=1e-9)
            out.append(sum_embeddings / sum_mask)
        if self.modes["pooling_mode_lasttoken"]:
            values, indices = attention_mask.flip(1).max(1)
            indices = torch.where(values == 0, torch.full_like(indices, seq_len - 1), indices)
            gather = (seq_len - indices - 1).view(bs, 1, 1).expand(bs, 1, hidden)
            out.append(torch.gather(token_embeddings * mask, 1, gather).squeeze(1))
        return torch.cat(out, 1)


DENSE_ACTS = {
    "Identity": lambda x: x,
    "Tanh": torch.tanh,
    "ReLU": F.relu,
    "Sigmoid": torch.sigmoid,
    "GELU": F.gelu,
    "SiLU": F.silu,
}


class Dense(torch.nn.Module):
    """sentence-transformers ``Dense``: ``act(x W^T + b)``."""

    def __init__(self, directory: str, dtype: torch.dtype):
        super().__init__()
        with open(os.path.join(directory, "config.json")) as f:
            cfg = json.load(f)
        act_name = str(cfg.get("activation_function", "torch.nn.modules.activation.Tanh")).split(".")[-1]
        if act_name not in DENSE_ACTS:
            raise ValueError(f"Dense activation {cfg.get('activation_function')!r} is not supported")
        self.act = DENSE_ACTS[act_name]
        w = load_weights(directory)
        w = {k[len("linear."):] if k.startswith("linear.") else k: v for k, v in w.items()}
        W = torch.from_numpy(np.asarray(w["weight"], dtype=np.float64)).to(dtype)
        out_f, in_f = int(cfg["out_features"]), int(cfg["in_features"])
        if tuple(W.shape) != (out_f, in_f):
            raise ValueError(f"Dense weight shape {tuple(W.shape)} != ({out_f}, {in_f})")
        self.register_buffer("weight", W)
        if cfg.get("bias", True):
            self.register_buffer("bias", torch.from_numpy(np.asarray(w["bias"], dtype=np.float64)).to(dtype))
        else:
            self.bias = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(F.linear(x, self.weight, self.bias))


class Normalize(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, p=2, dim=1, eps=1e-12)


# ---------------------------------------------------------------------------
# Whole pipeline
# ---------------------------------------------------------------------------

class SentenceTransformerModel(torch.nn.Module):
    """Transformer -> Pooling -> [Dense...] -> [Normalize], as listed in modules.json."""

    def __init__(self, model_dir: str, dtype: torch.dtype = torch.float64):
        super().__init__()
        self.dtype = dtype
        mpath = os.path.join(model_dir, "modules.json")
        if os.path.exists(mpath):
            with open(mpath) as f:
                modules = sorted(json.load(f), key=lambda m: int(m.get("idx", 0)))
        else:
            modules = [{"path": "", "type": "sentence_transformers.models.Transformer"},
                       {"path": None, "type": "sentence_transformers.models.Pooling"}]
        self.encoder: Optional[BertEncoder] = None
        self.post: List[torch.nn.Module] = []
        for i, m in enumerate(modules):
            kind = str(m["type"]).split(".")[-1]
            sub = os.path.join(model_dir, m["path"]) if m.get("path") is not None else None
            if kind == "Transformer":
                if i != 0:
                    raise ValueError("the Transformer module must come first")
                with open(os.path.join(sub, "config.json")) as f:
                    cfg = json.load(f)
                mt = cfg.get("model_type", "bert")
                if mt not in ("bert",):
                    raise ValueError(f"model_type {mt!r} is not supported (BERT only)")
                self.encoder = BertEncoder(cfg, load_weights(sub), dtype)
            elif kind == "Pooling":
                if sub is not None and os.path.exists(os.path.join(sub, "config.json")):
                    with open(os.path.join(sub, "config.json")) as f:
                        pcfg = json.load(f)
                else:
                    pcfg = {"pooling_mode_mean_tokens": True}
                self.post.append(Pooling(pcfg))
            elif kind == "Dense":
                self.post.append(Dense(sub, dtype))
            elif kind == "Normalize":
                self.post.append(Normalize())
            else:
                raise ValueError(f"unsupported module type {m['type']!r}")
        if self.encoder is None:
            raise ValueError("no Transformer module found")
        for j, mod in enumerate(self.post):
            self.add_module(f"post{j}", mod)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: Optional[torch.Tensor] = None,
                prompt_length: Optional[int] = None) -> Dict[str, torch.Tensor]:
        tok = self.encoder(input_ids, attention_mask, token_type_ids)
        x: Optional[torch.Tensor] = None
        for mod in self.post:
            if isinstance(mod, Pooling):
                x = mod(tok, attention_mask, prompt_length)
            else:
                if x is None:
                    raise ValueError(f"{type(mod).__name__} before Pooling is not supported")
                x = mod(x)
        if x is None:
            raise ValueError("no Pooling module found")
        return {"token_embeddings": tok, "sentence_embedding": x}


# ---------------------------------------------------------------------------
# IDS.json
# ---------------------------------------------------------------------------

def load_ids(path: str):
    """Read IDS.json -> (list of (input_ids, attention_mask, token_type_ids) int64 tensors, prompt_length)."""
    with open(path) as f:
        doc = json.load(f)
    batches = []
    for bi, b in enumerate(doc["batches"]):
        ids = torch.tensor(b["input_ids"], dtype=torch.int64)
        if ids.dim() != 2:
            raise ValueError(f"batch {bi}: input_ids must be a rectangular [B, S] list")
        am = b.get("attention_mask")
        am = torch.ones_like(ids) if am is None else torch.tensor(am, dtype=torch.int64)
        tt = b.get("token_type_ids")
        tt = torch.zeros_like(ids) if tt is None else torch.tensor(tt, dtype=torch.int64)
        if am.shape != ids.shape or tt.shape != ids.shape:
            raise ValueError(f"batch {bi}: attention_mask/token_type_ids shape differs from input_ids")
        batches.append((ids, am, tt))
    pl = doc.get("prompt_length")
    return batches, (None if pl is None else int(pl))
