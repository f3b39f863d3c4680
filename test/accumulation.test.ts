// Gradient accumulation and GradCache give the same training as one large batch:
// CosineSimilarityLoss on 2 × 3 accumulated micro-batches equals batches of 6, and
// CachedMultipleNegativesRankingLoss with mini-batches of 2 equals
// MultipleNegativesRankingLoss on the whole batch (dropout off, same data order).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { createLoss } from '../src/losses/index.js';
import { Trainer } from '../src/training/trainer.js';
import { TRAIN_MODEL, trainExamples, TRAIN_CASES } from './fixtures/train_cases.js';

const TOKENIZER = new URL('../../test/fixtures/tiny-tokenizer', import.meta.url).pathname;
const base = { epochs: 1, learningRate: 1e-3, warmupSteps: 2, weightDecay: 0.01, shuffle: false, dropout: false, saveSteps: null, logSteps: 1, threads: 1 };

async function run(lossName: string, options: Record<string, unknown>, args: Record<string, unknown>, caseName: string): Promise<{ losses: number[]; weights: Float32Array[] }> {
  const model = await SentenceTransformer.create({ tokenizerDir: TOKENIZER, ...TRAIN_MODEL });
  const c = TRAIN_CASES.find((x) => x.name === caseName)!;
  const r = await new Trainer({ model, trainDataset: { examples: trainExamples(c).slice(0, 60) }, loss: createLoss(lossName, options), args: { ...base, ...args }, progress: false }).train();
  return { losses: r.logHistory.filter((h) => typeof h.loss === 'number').map((h) => Number(h.loss)), weights: [...model.transformer.params.values()].map((p) => p.data) };
}

function compare(a: { losses: number[]; weights: Float32Array[] }, b: { losses: number[]; weights: Float32Array[] }): void {
  assert.equal(a.losses.length, b.losses.length);
  a.losses.forEach((x, i) => assert.ok(Math.abs(x - b.losses[i]) <= 1e-5 * Math.max(1, Math.abs(x)), `step ${i + 1}: ${x} vs ${b.losses[i]}`));
  const diffs: number[] = [];
  a.weights.forEach((w, i) => w.forEach((x, j) => diffs.push(Math.abs(x - b.weights[i][j]))));
  diffs.sort((x, y) => x - y);
  assert.ok(diffs[Math.floor(diffs.length * 0.999)] < 1e-5, `99.9th percentile weight difference ${diffs[Math.floor(diffs.length * 0.999)]}`);
  assert.ok(diffs[diffs.length - 1] < 1e-3, `largest weight difference ${diffs[diffs.length - 1]}`);
}

test('gradient accumulation: 2 × 3 equals batches of 6 (CosineSimilarityLoss)', async () => {
  const big = await run('CosineSimilarityLoss', {}, { batchSize: 6 }, 'CosineSimilarityLoss');
  const acc = await run('CosineSimilarityLoss', {}, { batchSize: 3, gradientAccumulationSteps: 2 }, 'CosineSimilarityLoss');
  assert.equal(big.losses.length, 10);
  compare(big, acc);
});

test('CachedMultipleNegativesRankingLoss with mini-batches of 2 equals MultipleNegativesRankingLoss', async () => {
  const full = await run('MultipleNegativesRankingLoss', {}, { batchSize: 6 }, 'MultipleNegativesRankingLoss');
  const cached = await run('CachedMultipleNegativesRankingLoss', { miniBatchSize: 2 }, { batchSize: 6 }, 'MultipleNegativesRankingLoss');
  compare(full, cached);
});

test('LossEvaluator: the validation loss equals the training loss of the same batch before any update', async () => {
  const { LossEvaluator } = await import('../src/evaluation/loss_evaluator.js');
  const c = TRAIN_CASES.find((x) => x.name === 'CoSENTLoss')!;
  const examples = trainExamples(c).slice(0, 12);
  const model = await SentenceTransformer.create({ tokenizerDir: TOKENIZER, ...TRAIN_MODEL });
  const ev = new LossEvaluator(createLoss('CoSENTLoss', {}), examples, { batchSize: 6, name: 'dev' });
  const before = await ev.evaluate(model);
  const r = await new Trainer({ model, trainDataset: { examples }, loss: createLoss('CoSENTLoss', {}), args: { ...base, batchSize: 6, learningRate: 0 }, progress: false }).train();
  const losses = r.logHistory.filter((h) => typeof h.loss === 'number').map((h) => Number(h.loss));
  const mean = (losses[0] + losses[1]) / 2;
  assert.ok(Math.abs(before.dev_loss - mean) < 1e-5, `${before.dev_loss} vs ${mean}`);
  assert.equal(ev.primaryMetric, 'dev_loss');
});
