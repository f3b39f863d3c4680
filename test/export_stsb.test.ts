// The exported files give `encode`'s embeddings on every STS-B dev sentence (3,000 texts): the
// float32 sentence graph run by onnxruntime-node on its own, and the exported model.onnx through
// transformers.js's feature-extraction pipeline (mean pooling, normalize), within 1e-5.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { exportModel } from '../src/export/export_model.js';
import { MINILM_TOKENIZER, STSB_DEV, sharedMissing } from './helpers/shared.js';

test('exported files equal encode on all STS-B dev sentences (max |diff| ≤ 1e-5)', { skip: sharedMissing(MINILM_TOKENIZER, STSB_DEV), timeout: 120_000 }, async (t) => {
  const sentences = (await readFile(STSB_DEV, 'utf8')).split('\n').map((l) => l.split('\t')).filter((f) => f.length >= 7).flatMap((f) => [f[5], f[6]]);
  assert.equal(sentences.length, 3000);
  const root = await mkdtemp(join(tmpdir(), 'sk-export-stsb-'));
  try {
    const model = await SentenceTransformer.create({ tokenizerDir: MINILM_TOKENIZER, hidden: 32, layers: 2, heads: 4, intermediate: 64, seed: 21, maxSeqLength: 128 });
    const out = join(root, 'exported');
    await exportModel(model, out, {});
    const ref = await model.encodeMatrix(sentences, { batchSize: 64 });
    const dim = ref.dim;
    // 1. the sentence graph alone, in batches of 100 padded to their longest text
    const session = await ort.InferenceSession.create(join(out, 'onnx', 'sentence_embedding.onnx'), { intraOpNumThreads: 2 });
    let worst = 0;
    for (let s = 0; s < sentences.length; s += 100) {
      const b = model.tokenizer.pad(model.tokenizer.encodeBatch(sentences.slice(s, s + 100)));
      const dims = [b.batchSize, b.seqLen];
      const res = await session.run({
        input_ids: new ort.Tensor('int64', b.inputIds, dims),
        attention_mask: new ort.Tensor('int64', b.attentionMask, dims),
        token_type_ids: new ort.Tensor('int64', b.tokenTypeIds, dims),
      }, ['sentence_embedding']);
      const e = res.sentence_embedding.data as Float32Array;
      for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(e[i] - ref.data[s * dim + i]));
    }
    await session.release();
    assert.ok(worst <= 1e-5, `sentence graph: max |diff| ${worst}`);
    // 2. transformers.js on model.onnx
    let tjs: typeof import('@huggingface/transformers');
    try {
      tjs = await import('@huggingface/transformers');
    } catch {
      t.diagnostic('@huggingface/transformers is not installed; its comparison was skipped');
      return;
    }
    tjs.env.allowRemoteModels = false;
    tjs.env.allowLocalModels = true;
    tjs.env.localModelPath = dirname(out);
    tjs.env.useFSCache = false;
    const pipe = await tjs.pipeline('feature-extraction', basename(out), { local_files_only: true, dtype: 'fp32', session_options: { intraOpNumThreads: 2 } } as never);
    let worstTjs = 0;
    try {
      for (let s = 0; s < sentences.length; s += 100) {
        const rows = (await pipe(sentences.slice(s, s + 100), { pooling: 'mean', normalize: true })).tolist() as number[][];
        rows.forEach((r, i) => r.forEach((x, j) => (worstTjs = Math.max(worstTjs, Math.abs(x - ref.data[(s + i) * dim + j])))));
      }
    } finally {
      await pipe.dispose();
    }
    assert.ok(worstTjs <= 1e-5, `transformers.js: max |diff| ${worstTjs}`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
