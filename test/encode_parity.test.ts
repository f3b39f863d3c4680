// Embeddings of models made by create-model equal the float64 PyTorch reference
// (test/fixtures/encode_goldens.json, from scripts/make_encode_goldens.ts) within 1e-5, for
// every pooling mode, with and without Dense and Normalize, with prompts, after a save/load
// round trip, whatever the batch size.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { Pooling } from '../src/models/pooling.js';
import { ENCODE_CASES, ENCODE_TEXTS } from './fixtures/encode_cases.js';
import { MINILM_TOKENIZER, sharedMissing } from './helpers/shared.js';

const TOL = 1e-5;
const goldens = JSON.parse(await readFile(new URL('../../test/fixtures/encode_goldens.json', import.meta.url), 'utf8')) as {
  cases: Record<string, { dim: number; embeddings: number[][] }>;
};

for (const c of ENCODE_CASES) {
  test(`encode parity: ${c.name}`, { skip: sharedMissing(MINILM_TOKENIZER) }, async () => {
    const golden = goldens.cases[c.name];
    assert.ok(golden, `no golden for ${c.name}; run scripts/make_encode_goldens.ts`);
    let model = await SentenceTransformer.create({ ...c.create, tokenizerDir: MINILM_TOKENIZER });
    if (c.includePrompt === false) {
      const p = model.pooling as Pooling;
      const idx = model.modules.findIndex((m) => m.module === p);
      model.modules[idx] = { ...model.modules[idx], module: new Pooling(p.wordEmbeddingDimension, p.modes, false) };
    }
    const dir = await mkdtemp(join(tmpdir(), 'sk-parity-'));
    try {
      await model.save(dir);
      model = await SentenceTransformer.load(dir, { threads: 1 });
      for (const batchSize of c.name.startsWith('tiny') ? [1, 5, 32] : [5]) {
        const m = await model.encodeMatrix(ENCODE_TEXTS, { batchSize, prompt: c.prompt });
        assert.equal(m.dim, golden.dim);
        assert.equal(m.rows, golden.embeddings.length);
        let worst = 0;
        for (let r = 0; r < m.rows; r++) {
          for (let j = 0; j < m.dim; j++) worst = Math.max(worst, Math.abs(m.data[r * m.dim + j] - golden.embeddings[r][j]));
        }
        assert.ok(worst <= TOL, `${c.name} batch ${batchSize}: max |diff| ${worst.toExponential(2)} > ${TOL}`);
      }
      await model.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('encode: normalize option, truncateDim and the order of results', { skip: sharedMissing(MINILM_TOKENIZER) }, async () => {
  const model = await SentenceTransformer.create({ tokenizerDir: MINILM_TOKENIZER, hidden: 32, layers: 1, heads: 4, intermediate: 64, normalize: false, seed: 3 });
  const full = await model.encodeMatrix(ENCODE_TEXTS, { batchSize: 4 });
  const one = await model.encode([ENCODE_TEXTS[2]]);
  const inBatch = full.data.subarray(2 * 32, 3 * 32);
  const diff = Math.max(...Array.from(one[0], (x, j) => Math.abs(x - inBatch[j])));
  assert.ok(diff < 1e-5, `a text alone and in a padded batch differ by ${diff}`);
  const norm = await model.encodeMatrix(ENCODE_TEXTS, { normalize: true, truncateDim: 8 });
  assert.equal(norm.dim, 8);
  for (let r = 0; r < norm.rows; r++) {
    let s = 0;
    for (let j = 0; j < 8; j++) s += norm.data[r * 8 + j] ** 2;
    assert.ok(Math.abs(Math.sqrt(s) - 1) < 1e-5);
  }
  assert.equal(full.truncated, 0);
  const empty = await model.encodeMatrix([]);
  assert.equal(empty.rows, 0);
  await model.close();
});
