// similarity / similarityPairwise (exported helpers and SentenceTransformer methods) against
// float64 formulas written here from sentence-transformers' util (cos_sim, dot_score,
// euclidean_sim = −cdist p=2, manhattan_sim = −cdist p=1, and the pairwise_* forms), for every
// input shape (one vector, a list, an encodeMatrix result); the exported cosSim works on arrays;
// a model's similarity follows similarity_fn_name from its config.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cosSim, dotScore, euclideanSim, manhattanSim, similarity, similarityPairwise, SentenceTransformer, SIMILARITY_FNS, type SimilarityFn } from '../src/index.js';
import { MINILM_TOKENIZER, sharedMissing } from './helpers/shared.js';

function rand(seed: number): () => number {
  let s = seed;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296) * 2 - 1;
}

function vectors(n: number, d: number, seed: number): Float32Array[] {
  const r = rand(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: d }, r));
}

function ref(fn: SimilarityFn, x: ArrayLike<number>, y: ArrayLike<number>): number {
  let dot = 0, nx = 0, ny = 0, l2 = 0, l1 = 0;
  for (let k = 0; k < x.length; k++) {
    dot += x[k] * y[k];
    nx += x[k] * x[k];
    ny += y[k] * y[k];
    l2 += (x[k] - y[k]) ** 2;
    l1 += Math.abs(x[k] - y[k]);
  }
  switch (fn) {
    case 'cosine': return dot / (Math.max(Math.sqrt(nx), 1e-12) * Math.max(Math.sqrt(ny), 1e-12));
    case 'dot': return dot;
    case 'euclidean': return -Math.sqrt(l2);
    case 'manhattan': return -l1;
  }
}

const a = vectors(5, 24, 1);
const b = vectors(7, 24, 2);

test('similarity: every function equals the float64 formula, [N, M], one row per embedding of a', async () => {
  for (const fn of SIMILARITY_FNS) {
    const s = await similarity(a, b, fn);
    assert.equal(s.length, 5);
    for (let i = 0; i < 5; i++) {
      assert.equal(s[i].length, 7);
      for (let j = 0; j < 7; j++) {
        const want = ref(fn, a[i], b[j]);
        assert.ok(Math.abs(s[i][j] - want) <= 1e-5 * Math.max(1, Math.abs(want)), `${fn} [${i}, ${j}]: ${s[i][j]} vs ${want}`);
      }
    }
  }
  // identical vectors: distance 0, cosine 1
  const self = await similarity(a, a, 'euclidean');
  for (let i = 0; i < 5; i++) assert.ok(Math.abs(self[i][i]) < 2e-3, `euclidean self-similarity ${self[i][i]}`);
});

test('similarityPairwise: s_i = sim(a_i, b_i) for every function; mismatched inputs are errors', async () => {
  const b5 = b.slice(0, 5);
  for (const fn of SIMILARITY_FNS) {
    const s = await similarityPairwise(a, b5, fn);
    assert.equal(s.length, 5);
    for (let i = 0; i < 5; i++) {
      const want = ref(fn, a[i], b5[i]);
      assert.ok(Math.abs(s[i] - want) <= 1e-5 * Math.max(1, Math.abs(want)), `${fn} [${i}]: ${s[i]} vs ${want}`);
    }
  }
  await assert.rejects(similarityPairwise(a, b), /5 and 7 embeddings/);
  await assert.rejects(similarity(a, vectors(2, 8, 3)), /24 and 8 dimensions/);
  await assert.rejects(similarity(a, b, 'jaccard' as SimilarityFn), /unknown similarity function "jaccard"/);
});

test('the exported cosSim, dotScore, euclideanSim and manhattanSim take plain arrays and matrices', async () => {
  assert.deepEqual((await cosSim([1, 0], [[1, 0], [0, 2], [-3, 0]])).map((r) => [...r]), [[1, 0, -1]]);
  assert.deepEqual([...(await dotScore([1, 2], [3, 4]))[0]], [11]);
  assert.deepEqual([...(await euclideanSim([[0, 0]], [[3, 4]]))[0]], [-5]);
  assert.deepEqual([...(await manhattanSim({ data: new Float32Array([0, 0, 1, 1]), rows: 2, dim: 2 }, [[3, 4]]))].map((r) => [...r]), [[-7], [-5]]);
});

const skip = sharedMissing(MINILM_TOKENIZER);

test('model.similarity uses the model\'s similarity_fn_name (cosine by default) on encode and encodeMatrix output', { skip }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sk-sim-'));
  const texts = ['a man plays a guitar', 'someone plays music', 'the cat sleeps'];
  try {
    const created = await SentenceTransformer.create({ tokenizerDir: MINILM_TOKENIZER, hidden: 16, layers: 1, heads: 2, intermediate: 32, seed: 3, normalize: false });
    await created.save(dir);
    const cfgPath = join(dir, 'config_sentence_transformers.json');
    for (const fn of ['cosine', 'dot'] as const) {
      const cfg = JSON.parse(await readFile(cfgPath, 'utf8')) as Record<string, unknown>;
      await writeFile(cfgPath, JSON.stringify({ ...cfg, similarity_fn_name: fn }));
      const model = await SentenceTransformer.load(dir, { threads: 1 });
      try {
        const e = await model.encode(texts);
        const s = await model.similarity(e, e);
        const m = await model.similarity(await model.encodeMatrix(texts), e.slice(0, 1));
        const p = await model.similarityPairwise(e, [...e].reverse());
        for (let i = 0; i < 3; i++) {
          for (let j = 0; j < 3; j++) assert.ok(Math.abs(s[i][j] - ref(fn, e[i], e[j])) <= 1e-5 * Math.max(1, Math.abs(ref(fn, e[i], e[j]))), `${fn} [${i}, ${j}]`);
          assert.ok(Math.abs(m[i][0] - s[i][0]) <= 1e-6 * Math.max(1, Math.abs(s[i][0])));
          assert.ok(Math.abs(p[i] - s[i][2 - i]) <= 1e-5 * Math.max(1, Math.abs(s[i][2 - i])));
        }
        if (fn === 'dot') assert.ok(Math.abs(s[0][0] - 1) > 1e-3, 'dot of an unnormalised embedding with itself is not 1');
      } finally {
        await model.close();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
