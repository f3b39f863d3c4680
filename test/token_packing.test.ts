// Token packing (layers.ts `packTokens`): the encoder's row-wise work on the real tokens only
// gives the same embeddings as the padded layout, for every family (MPNet's shared relative
// attention bias included), and the same training — losses and weights after ten steps — as
// the padded graph (dropout off: packed sites draw keep-masks for the real tokens only, so the
// two layouts draw different masks). SENTENCEKIT_PACK=0 builds the padded graph.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { createLoss } from '../src/losses/index.js';
import { Trainer } from '../src/training/trainer.js';
import { TRAIN_MODEL, trainExamples, TRAIN_CASES } from './fixtures/train_cases.js';

const TOKENIZER = new URL('../../test/fixtures/tiny-tokenizer', import.meta.url).pathname;

async function withPacking<T>(on: boolean, f: () => Promise<T>): Promise<T> {
  const before = process.env.SENTENCEKIT_PACK;
  process.env.SENTENCEKIT_PACK = on ? '1' : '0';
  try {
    return await f();
  } finally {
    if (before === undefined) delete process.env.SENTENCEKIT_PACK;
    else process.env.SENTENCEKIT_PACK = before;
  }
}

// lengths from 1 word to many, so that most of the batch is padding
const TEXTS = ['a', 'the cat sat on the mat while the dog slept by the warm fire in the old house', 'two words', 'one two three four five', 'x', 'a longer sentence with several more words in it than most'];

for (const arch of ['bert', 'mpnet', 'roberta', 'distilbert']) {
  test(`${arch}: packed and padded encoders give the same embeddings on a mixed-length batch`, async () => {
    const make = (): Promise<SentenceTransformer> => SentenceTransformer.create({ tokenizerDir: TOKENIZER, arch, hidden: 32, layers: 2, heads: 4, intermediate: 64, maxSeqLength: 32, maxPositionEmbeddings: 64, seed: 5 });
    const run = (on: boolean): Promise<{ sentence: Float32Array; tokens: Float32Array; seqLen: number; hidden: number; lengths: number[] }> =>
      withPacking(on, async () => {
        const m = await make();
        try {
          // the switch does change the graph
          assert.equal(m.buildGraph().graph.nodes.some((n) => n.op === 'NonZero'), on);
          const encoded = TEXTS.map((t) => m.tokenizer.encode(t));
          const r = await m.runTokenized(encoded, { tokenEmbeddings: true });
          return { sentence: r.sentence, tokens: r.tokens!, seqLen: r.seqLen, hidden: r.hidden, lengths: encoded.map((e) => e.ids.length) };
        } finally {
          await m.close();
        }
      });
    const packed = await run(true);
    const padded = await run(false);
    assert.ok(Math.min(...packed.lengths) * 4 < packed.seqLen, 'the batch is mostly padding');
    let worst = 0;
    packed.sentence.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - padded.sentence[i]))));
    assert.ok(worst <= 1e-6, `sentence embeddings differ by ${worst}`);
    const { seqLen, hidden } = packed;
    let worstToken = 0;
    packed.lengths.forEach((len, i) => {
      for (let t = 0; t < seqLen; t++) {
        for (let j = 0; j < hidden; j++) {
          const at = (i * seqLen + t) * hidden + j;
          if (t < len) worstToken = Math.max(worstToken, Math.abs(packed.tokens[at] - padded.tokens[at]));
          else assert.equal(packed.tokens[at], 0, `text ${i}: a padded position is not zero`);
        }
      }
    });
    assert.ok(worstToken <= 1e-5, `token embeddings differ by ${worstToken}`);
  });
}

test('training on packed tokens follows the padded graph: ten steps, same losses and weights', async () => {
  const c = TRAIN_CASES.find((x) => x.name === 'MultipleNegativesRankingLoss')!;
  const run = (on: boolean): Promise<{ losses: number[]; weights: Float32Array[] }> =>
    withPacking(on, async () => {
      const model = await SentenceTransformer.create({ tokenizerDir: TOKENIZER, ...TRAIN_MODEL, layers: 2 });
      const args = { epochs: 1, batchSize: 6, learningRate: 1e-3, warmupSteps: 2, weightDecay: 0.01, shuffle: false, dropout: false, saveSteps: null, logSteps: 1, threads: 1 };
      const r = await new Trainer({ model, trainDataset: { examples: trainExamples(c).slice(0, 60) }, loss: createLoss('MultipleNegativesRankingLoss', {}), args, progress: false }).train();
      return { losses: r.logHistory.filter((h) => typeof h.loss === 'number').map((h) => Number(h.loss)), weights: [...model.transformer.params.values()].map((p) => p.data.slice()) };
    });
  const packed = await run(true);
  const padded = await run(false);
  assert.equal(packed.losses.length, 10);
  packed.losses.forEach((x, i) => assert.ok(Math.abs(x - padded.losses[i]) <= 1e-5 * Math.max(1, Math.abs(x)), `step ${i + 1}: ${x} vs ${padded.losses[i]}`));
  let worst = 0;
  packed.weights.forEach((w, i) => w.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - padded.weights[i][j])))));
  assert.ok(worst <= 1e-5, `weights differ by ${worst} after ten steps`);
  assert.ok(packed.losses.some((x, i) => i > 0 && x !== packed.losses[0]), 'the model trains');
});
