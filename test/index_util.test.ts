// semanticSearch, paraphraseMining and communityDetection against float64 brute force written
// from sentence-transformers' util definitions; chunked corpora give the one-shot answer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { communityDetection, paraphraseMining, semanticSearch } from '../src/index/util.js';
import { Rng } from '../src/models/init.js';
import type { Vectors } from '../src/index/types.js';

function random(n: number, dim: number, seed: number): Vectors {
  const data = new Float32Array(n * dim);
  new Rng(seed).fillNormal(data, 1);
  return { data, rows: n, dim };
}

/** Rows scattered around `c` centres (spread `s`): clusters for community detection. */
function clustered(n: number, dim: number, c: number, s: number, seed: number): Vectors {
  const rng = new Rng(seed);
  const centres = new Float32Array(c * dim);
  rng.fillNormal(centres, 1);
  const data = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) data[i * dim + d] = centres[(i % c) * dim + d] + s * rng.normal();
  return { data, rows: n, dim };
}

function cos(a: Vectors, i: number, b: Vectors, j: number): number {
  let d = 0, na = 0, nb = 0;
  for (let k = 0; k < a.dim; k++) {
    const x = a.data[i * a.dim + k], y = b.data[j * b.dim + k];
    d += x * y;
    na += x * x;
    nb += y * y;
  }
  return d / Math.sqrt(na * nb);
}

test('semanticSearch: top-k equals a float64 brute force; a chunked corpus (matrix or iterable) gives the same', async () => {
  const q = random(7, 12, 1);
  const c = random(300, 12, 2);
  const whole = await semanticSearch(q, c, { topK: 5 });
  const chunked = await semanticSearch(q, c, { topK: 5, corpusChunkSize: 37, queryChunkSize: 3 });
  async function* parts(): AsyncGenerator<Vectors> {
    for (let s = 0; s < 300; s += 64) yield { data: c.data.subarray(s * 12, Math.min(300, s + 64) * 12), rows: Math.min(300, s + 64) - s, dim: 12 };
  }
  const streamed = await semanticSearch(q, parts(), { topK: 5 });
  for (let i = 0; i < 7; i++) {
    const want = Array.from({ length: 300 }, (_, j) => ({ j, s: cos(q, i, c, j) })).sort((a, b) => b.s - a.s).slice(0, 5);
    assert.deepEqual(whole[i].map((m) => m.corpusId), want.map((w) => w.j));
    for (let t = 0; t < 5; t++) assert.ok(Math.abs(whole[i][t].score - want[t].s) < 1e-5);
    assert.deepEqual(chunked[i].map((m) => m.corpusId), want.map((w) => w.j));
    assert.deepEqual(streamed[i].map((m) => m.corpusId), want.map((w) => w.j));
  }
});

test('paraphraseMining: the best distinct pairs (i < j) by cosine, highest first, at most maxPairs', async () => {
  const e = random(40, 6, 3);
  const pairs = await paraphraseMining(e, { topK: 39, maxPairs: 25 });
  const all: [number, number, number][] = [];
  for (let i = 0; i < 40; i++) for (let j = i + 1; j < 40; j++) all.push([cos(e, i, e, j), i, j]);
  all.sort((a, b) => b[0] - a[0]);
  assert.equal(pairs.length, 25);
  assert.deepEqual(pairs.map((p) => [p[1], p[2]]), all.slice(0, 25).map((p) => [p[1], p[2]]));
  for (let t = 0; t < 25; t++) assert.ok(Math.abs(pairs[t][0] - all[t][0]) < 1e-5);
  // with a small topK, only each row's nearest neighbours are considered
  const near = await paraphraseMining(e, { topK: 1 });
  for (const [, i, j] of near) {
    const nn = (r: number): number => Array.from({ length: 40 }, (_, x) => x).filter((x) => x !== r).sort((a, b) => cos(e, r, e, b) - cos(e, r, e, a))[0];
    assert.ok(nn(i) === j || nn(j) === i, `(${i}, ${j}) is a nearest-neighbour pair`);
  }
});

test('communityDetection: as sentence-transformers defines it (float64 port), largest first, no row twice', async () => {
  const e = clustered(90, 8, 3, 0.35, 5);
  const threshold = 0.8;
  const minSize = 10;
  const got = await communityDetection(e, { threshold, minCommunitySize: minSize, batchSize: 16 });
  // reference: every row whose minSize-th neighbour reaches the threshold seeds a community
  const seeds: number[][] = [];
  for (let i = 0; i < 90; i++) {
    const order = Array.from({ length: 90 }, (_, j) => ({ j, s: cos(e, i, e, j) })).sort((a, b) => b.s - a.s || a.j - b.j);
    if (order[minSize - 1].s >= threshold) seeds.push(order.filter((o) => o.s >= threshold).map((o) => o.j));
  }
  seeds.sort((a, b) => b.length - a.length);
  const taken = new Set<number>();
  const want: number[][] = [];
  for (const c of seeds) {
    const rest = c.filter((x) => !taken.has(x));
    if (rest.length >= minSize) {
      want.push(rest);
      rest.forEach((x) => taken.add(x));
    }
  }
  assert.ok(want.length >= 2, 'the fixture has communities');
  assert.deepEqual(got.map((c) => [...c].sort((a, b) => a - b)), want.map((c) => [...c].sort((a, b) => a - b)));
  const seen = new Set<number>();
  for (const c of got) for (const x of c) {
    assert.ok(!seen.has(x));
    seen.add(x);
  }
  assert.deepEqual(await communityDetection(e, { threshold: 0.9999, minCommunitySize: 2 }), []);
});
