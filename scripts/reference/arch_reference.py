#!/usr/bin/env python3
"""Architecture parity goldens from the real libraries (transformers 5, sentence-transformers 6).

For one architecture:
  1. builds a small random model with the real transformers class (seeded), wraps it as
     sentence-transformers Transformer + mean Pooling, saves it with sentence-transformers to
     --python-out (the directory SentenceKit must load), and encodes --texts with it;
  2. loads --ours (a directory SentenceKit wrote) with sentence-transformers, unchanged, and
     encodes the same texts;
  3. fine-tunes a fresh load of the --python-out model for the plan's steps: the real
     SentenceTransformer forward (dropout off), CosineSimilarityLoss (MSE of cos(u, v) and the
     score), torch.optim.AdamW with the Hugging Face Trainer's groups (no decay on biases and
     LayerNorm weights), clip_grad_norm_, constant learning rate; records each step's loss and
     the final embeddings of the texts.
Writes one JSON to --out.

Usage: .venv/bin/python scripts/reference/arch_reference.py --arch distilbert --tokenizer DIR \
         --sizes SIZES.json --python-out DIR --ours DIR --texts TEXTS.json --train PLAN.json --out OUT.json
"""
import argparse
import hashlib
import json
import os
import tempfile

import torch
import transformers
from sentence_transformers import SentenceTransformer, models  # noqa: the 5.x-era names still load in 6.0


def build_hf(arch, sizes, vocab_size, pad_id):
    h, l, a, i, p = sizes['hidden'], sizes['layers'], sizes['heads'], sizes['intermediate'], sizes['maxPositionEmbeddings']
    if arch == 'distilbert':
        cfg = transformers.DistilBertConfig(vocab_size=vocab_size, dim=h, n_layers=l, n_heads=a, hidden_dim=i,
                                            max_position_embeddings=p, pad_token_id=pad_id, architectures=['DistilBertModel'])
        return transformers.DistilBertModel(cfg)
    if arch in ('roberta', 'xlm-roberta'):
        cls_cfg, cls = (transformers.RobertaConfig, transformers.RobertaModel) if arch == 'roberta' else (transformers.XLMRobertaConfig, transformers.XLMRobertaModel)
        cfg = cls_cfg(vocab_size=vocab_size, hidden_size=h, num_hidden_layers=l, num_attention_heads=a, intermediate_size=i,
                      max_position_embeddings=p + pad_id + 1, pad_token_id=pad_id, bos_token_id=0, eos_token_id=2, type_vocab_size=1,
                      layer_norm_eps=1e-5, architectures=[cls.__name__])
        return cls(cfg)
    if arch == 'mpnet':
        cfg = transformers.MPNetConfig(vocab_size=vocab_size, hidden_size=h, num_hidden_layers=l, num_attention_heads=a, intermediate_size=i,
                                       max_position_embeddings=p + pad_id + 1, pad_token_id=pad_id, layer_norm_eps=1e-5, architectures=['MPNetModel'])
        return transformers.MPNetModel(cfg)
    raise SystemExit(f'unknown arch {arch}')


def tokenizer_for(arch, tok_dir):
    if arch in ('roberta', 'xlm-roberta', 'mpnet'):
        return transformers.AutoTokenizer.from_pretrained(tok_dir)
    vocab = os.path.join(tok_dir, 'vocab.txt')
    if arch == 'distilbert':
        return transformers.DistilBertTokenizerFast(vocab_file=vocab, do_lower_case=True, model_max_length=512)
    raise SystemExit(f'unknown arch {arch}')


def encode(model, texts):
    return model.encode(texts, batch_size=4, convert_to_numpy=True).astype('float64').tolist()


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def finetune(model_dir, plan, texts):
    model = SentenceTransformer(model_dir, device='cpu')
    model.eval()  # dropout off; autograd still on
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (no_decay if n.endswith('bias') or 'LayerNorm' in n or 'layer_norm' in n else decay).append(p)
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': plan['weightDecay']}, {'params': no_decay, 'weight_decay': 0.0}],
                            lr=plan['learningRate'], betas=(0.9, 0.999), eps=1e-8)
    losses = []
    ex = plan['examples']
    B = plan['batchSize']
    for s in range(plan['steps']):
        batch = ex[s * B:(s + 1) * B]
        feats = [model.tokenize([e['texts'][c] for e in batch]) for c in range(2)]
        u, v = (model(f)['sentence_embedding'] for f in feats)
        label = torch.tensor([e['label'] for e in batch], dtype=torch.float32)
        loss = torch.nn.functional.mse_loss(torch.cosine_similarity(u, v), label)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), plan['maxGradNorm'])
        opt.step()
        losses.append(loss.item())
    with torch.no_grad():
        return losses, encode(model, texts)


def main():
    ap = argparse.ArgumentParser()
    for k in ['arch', 'tokenizer', 'sizes', 'python-out', 'ours', 'texts', 'train', 'out']:
        ap.add_argument('--' + k, required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    sizes = json.load(open(a.sizes))
    texts = json.load(open(a.texts))
    plan = json.load(open(a.train))
    tok = tokenizer_for(a.arch, a.tokenizer)
    torch.manual_seed(sizes['seed'])
    hf = build_hf(a.arch, sizes, len(tok.get_vocab()), tok.pad_token_id)
    with tempfile.TemporaryDirectory() as tmp:
        hf.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        t = models.Transformer(tmp, max_seq_length=sizes['maxSeqLength'])
        pool = models.Pooling(t.get_embedding_dimension(), 'mean')
        st = SentenceTransformer(modules=[t, pool], device='cpu')
        st.save(a.python_out)
    python_model = SentenceTransformer(a.python_out, device='cpu')
    ours = SentenceTransformer(a.ours, device='cpu')
    losses, trained = finetune(a.python_out, plan, texts)
    out = {
        'versions': {'transformers': transformers.__version__, 'torch': torch.__version__,
                     'sentence_transformers': __import__('sentence_transformers').__version__},
        'python_model': encode(python_model, texts),
        'ours': encode(ours, texts),
        'ours_safetensors_sha256': sha256(os.path.join(a.ours, 'model.safetensors')),
        'train_losses': losses,
        'trained': trained,
    }
    json.dump(out, open(a.out, 'w'))


if __name__ == '__main__':
    main()
