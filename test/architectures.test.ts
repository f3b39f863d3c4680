// Every encoder family against the real transformers / sentence-transformers
// (test/fixtures/arch_goldens.json, written by scripts/make_arch_goldens.ts):
// - a model built and saved by Python (test/fixtures/arch/<arch>, unchanged) loads here and
//   encodes within 1e-5 of Python's embeddings;
// - a model created here (same seed → same bytes: its model.safetensors hash is the one Python
//   read) encodes within 1e-5 of what Python computed loading that folder unchanged;
// - five fine-tuning steps (CosineSimilarityLoss, dropout off, AdamW, clipping, constant lr)
//   give Python's per-step losses (2e-4 relative) and trained embeddings (1e-4);
// - the exported ONNX graph gives the embeddings the built graph gives.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportModel } from '../src/export/export_model.js';
import { createLoss } from '../src/losses/index.js';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { Trainer } from '../src/training/trainer.js';
import { ARCH_CASES, ARCH_TEXTS, ARCH_TRAIN, archTrainExamples } from './fixtures/arch_cases.js';

interface Golden { python_model: number[][]; ours: number[][]; ours_safetensors_sha256: string; train_losses: number[]; trained: number[][] }
const goldens = JSON.parse(await readFile(new URL('../../test/fixtures/arch_goldens.json', import.meta.url), 'utf8')) as { cases: Record<string, Golden> };
const FIXTURES = new URL('../../test/fixtures/', import.meta.url).pathname;

function maxDiff(data: Float32Array, dim: number, ref: number[][]): number {
  assert.equal(data.length, ref.length * dim);
  let m = 0;
  ref.forEach((row, r) => {
    assert.equal(row.length, dim);
    row.forEach((x, j) => (m = Math.max(m, Math.abs(data[r * dim + j] - x))));
  });
  return m;
}

for (const c of ARCH_CASES) {
  const gold = goldens.cases[c.arch];
  const pythonDir = join(FIXTURES, 'arch', c.arch);

  test(`${c.arch}: a model saved by Python loads and encodes as Python does`, async () => {
    assert.ok(gold, `no golden for ${c.arch}; run scripts/make_arch_goldens.ts`);
    const m = await SentenceTransformer.load(pythonDir, { threads: 1 });
    try {
      assert.equal(m.info().model_type, c.arch);
      const e = await m.encodeMatrix(ARCH_TEXTS, { batchSize: 3 });
      const d = maxDiff(e.data, e.dim, gold.python_model);
      assert.ok(d <= 1e-5, `max |diff| ${d}`);
    } finally {
      await m.close();
    }
  });

  test(`${c.arch}: a model created here loads in Python unchanged and encodes the same there`, async () => {
    const dir = await mkdtemp(join(tmpdir(), `sk-arch-${c.arch}-`));
    try {
      const m = await SentenceTransformer.create({ tokenizerDir: join(FIXTURES, c.tokenizer), arch: c.arch, ...c.create });
      await m.save(dir);
      const sha = createHash('sha256').update(await readFile(join(dir, 'model.safetensors'))).digest('hex');
      assert.equal(sha, gold.ours_safetensors_sha256, 'the weights differ from the ones Python read: the goldens are stale');
      const e = await m.encodeMatrix(ARCH_TEXTS);
      const d = maxDiff(e.data, e.dim, gold.ours);
      assert.ok(d <= 1e-5, `max |diff| ${d}`);
      await m.close();
      // and ours reloads here to the same embeddings
      const back = await SentenceTransformer.load(dir, { threads: 1 });
      const e2 = await back.encodeMatrix(ARCH_TEXTS);
      assert.ok(maxDiff(e2.data, e2.dim, gold.ours) <= 1e-5);
      await back.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test(`${c.arch}: five fine-tuning steps follow Python's, and the export gives the same embeddings`, async () => {
    const model = await SentenceTransformer.load(pythonDir, { threads: 1 });
    const out = await mkdtemp(join(tmpdir(), `sk-arch-train-${c.arch}-`));
    try {
      const r = await new Trainer({
        model, trainDataset: { examples: archTrainExamples() }, loss: createLoss('CosineSimilarityLoss', {}), progress: false,
        args: { maxSteps: ARCH_TRAIN.steps, batchSize: ARCH_TRAIN.batchSize, learningRate: ARCH_TRAIN.learningRate, scheduler: 'constant', warmupSteps: 0, weightDecay: ARCH_TRAIN.weightDecay, maxGradNorm: ARCH_TRAIN.maxGradNorm, shuffle: false, dropout: false, logSteps: 1, saveSteps: null, threads: 1 },
      }).train();
      const losses = r.logHistory.filter((h) => typeof h.loss === 'number').map((h) => Number(h.loss));
      assert.equal(losses.length, gold.train_losses.length);
      losses.forEach((l, i) => assert.ok(Math.abs(l - gold.train_losses[i]) <= 2e-4 * Math.max(1e-3, Math.abs(gold.train_losses[i])), `step ${i + 1}: loss ${l} vs ${gold.train_losses[i]}`));
      model.invalidate();
      const e = await model.encodeMatrix(ARCH_TEXTS);
      const d = maxDiff(e.data, e.dim, gold.trained);
      assert.ok(d <= 1e-4, `trained embeddings: max |diff| ${d}`);
      await exportModel(model, join(out, 'export'));
      const onnx = await SentenceTransformer.load(join(out, 'export'), { backend: 'onnx', threads: 1 });
      const eo = await onnx.encodeMatrix(ARCH_TEXTS);
      let m = 0;
      for (let i = 0; i < e.data.length; i++) m = Math.max(m, Math.abs(eo.data[i] - e.data[i]));
      assert.ok(m <= 1e-5, `exported graph: max |diff| ${m}`);
      await onnx.close();
    } finally {
      await model.close();
      await rm(out, { recursive: true, force: true });
    }
  });
}
