// The usearch backend's own paths: a filtered search with more matches than the exact limit
// (ANN with oversampling, every hit satisfying the filter, the filtered top k found), int8
// storage with float32 rescoring (scores equal to the exact cosine), and a removal followed by
// a reopen that replays segments after the saved ANN structure.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIndex, openIndex, type Vectors } from '../src/index/index.js';
import { int8Codes } from '../src/index/int8.js';
import { Rng } from '../src/models/init.js';
import { cosine } from './helpers/vectors.js';

const root = await mkdtemp(join(tmpdir(), 'sk-index-ann-'));
after(() => rm(root, { recursive: true, force: true }));

const DIM = 16;
const N = 400;
function vectors(n: number, seed: number): Vectors {
  const data = new Float32Array(n * DIM);
  new Rng(seed).fillNormal(data, 1);
  return { data, rows: n, dim: DIM };
}
const base = vectors(N, 1);
const queries = vectors(5, 2);
const ids = Array.from({ length: N }, (_, i) => `v${i}`);
const meta = ids.map((_, i) => ({ group: i % 4 }));

const row = (v: Vectors, i: number): Float32Array => v.data.subarray(i * DIM, (i + 1) * DIM);

test('usearch: a filter matching more than the exact limit goes through the ANN graph, oversampled', async () => {
  const ix = await createIndex({ backend: 'usearch', dir: join(root, 'f'), dim: DIM, exactBelow: 10, usearch: { expansionSearch: 200 } });
  await ix.upsert(ids, base, meta);
  const hits = await ix.search(queries, 10, { filter: { group: { $in: [1, 2] } } });
  for (let q = 0; q < 5; q++) {
    assert.equal(hits[q].length, 10);
    for (const h of hits[q]) assert.ok([1, 2].includes(h.metadata!.group as number));
    const want = ids.map((id, i) => ({ id, s: cosine(row(queries, q), row(base, i)), g: i % 4 })).filter((x) => x.g === 1 || x.g === 2).sort((a, b) => b.s - a.s).slice(0, 10);
    const found = hits[q].filter((h) => want.some((w) => w.id === h.id)).length;
    assert.ok(found >= 9, `recall@10 of the filtered ANN search ${found / 10}`);
  }
  await ix.close();
});

// usearch's concurrent add() can leave a node stored but unreachable by any search (upstream
// issue #735; with concurrent insertion about a third of these builds lose at least one vector), so
// the backend inserts serially while a graph is small: every stored vector must find itself first.
test('usearch: every stored vector is reachable — each finds itself first, in 12 builds of 20-row batches', async () => {
  const missing: string[] = [];
  for (let b = 0; b < 12; b++) {
    const dir = join(root, `reach-${b}`);
    const v = vectors(N, 100 + b);
    const ix = await createIndex({ backend: 'usearch', dir, dim: DIM, exactBelow: 0 });
    for (let s = 0; s < N; s += 20) await ix.upsert(ids.slice(s, s + 20), { data: v.data.subarray(s * DIM, (s + 20) * DIM), rows: 20, dim: DIM });
    const hits = await ix.search(v, 1, { includeDocuments: false });
    hits.forEach((h, i) => {
      if (h[0]?.id !== ids[i]) missing.push(`build ${b}: ${ids[i]} found ${h[0]?.id}`);
    });
    await ix.close();
    await rm(dir, { recursive: true, force: true });
  }
  assert.deepEqual(missing, []);
});

test('usearch: int8 storage with float32 rescoring gives exact cosine scores', async () => {
  const ix = await createIndex({ backend: 'usearch', dir: join(root, 'q'), dim: DIM, usearch: { quantization: 'i8', rescore: 8 } });
  await ix.upsert(ids, base);
  const hits = await ix.search(queries, 5);
  for (let q = 0; q < 5; q++) {
    for (const h of hits[q]) assert.ok(Math.abs(h.score - cosine(row(queries, q), row(base, Number(h.id.slice(1))))) < 1e-5);
    for (let j = 1; j < 5; j++) assert.ok(hits[q][j - 1].score >= hits[q][j].score);
  }
  assert.equal((await ix.stats()).ann && ((await ix.stats()).ann as { quantization: string }).quantization, 'i8');
  await ix.close();
  const again = await openIndex(join(root, 'q'));
  assert.deepEqual((await again.search(queries, 5)).map((h) => h.map((x) => x.id)), hits.map((h) => h.map((x) => x.id)));
  await again.close();
});

// usearch's own cast to int8 (127 · x/‖x‖, truncated) leaves a 384-dimensional unit vector about
// ±6 levels a component, and its ranking is then too coarse for a top 10 (0.895 of the exact hits
// here with that cast); the backend's own codes, round(127 · x / max|x|), keep it (0.99).
test('usearch: int8 codes keep the ranking — recall@10 of the int8 graph alone (rescore 1) over 384-dimensional clustered vectors', async () => {
  const dim = 384;
  const n = 2000;
  const rng = new Rng(7);
  const centres = new Float32Array(20 * dim);
  rng.fillNormal(centres, 1);
  const make = (rows: number): Float32Array => {
    const out = new Float32Array(rows * dim);
    for (let i = 0; i < rows; i++) {
      const c = Math.floor(rng.uniform() * 20);
      for (let d = 0; d < dim; d++) out[i * dim + d] = centres[c * dim + d] + 0.9 * rng.normal();
    }
    return out;
  };
  const data = make(n);
  const qs = make(40);
  const codes = int8Codes(data, n, dim);
  for (let i = 0; i < n; i++) {
    const c = codes.subarray(i * dim, (i + 1) * dim);
    assert.equal(Math.max(...Array.from(c, Math.abs)), 127);
    assert.ok(Math.abs(cosine(Float32Array.from(c), data.subarray(i * dim, (i + 1) * dim)) - 1) < 1e-4);
  }
  const ix = await createIndex({ backend: 'usearch', dir: join(root, 'codes'), dim, exactBelow: 0, usearch: { quantization: 'i8', rescore: 1, expansionSearch: 400 } });
  await ix.upsert(Array.from({ length: n }, (_, i) => `d${i}`), { data, rows: n, dim });
  const hits = await ix.search({ data: qs, rows: 40, dim }, 10, { includeDocuments: false });
  let found = 0;
  for (let q = 0; q < 40; q++) {
    const qv = qs.subarray(q * dim, (q + 1) * dim);
    const exact = Array.from({ length: n }, (_, i) => ({ id: `d${i}`, s: cosine(qv, data.subarray(i * dim, (i + 1) * dim)) })).sort((a, b) => b.s - a.s).slice(0, 10);
    found += hits[q].filter((h) => exact.some((e) => e.id === h.id)).length;
  }
  assert.ok(found / 400 >= 0.95, `recall@10 of the int8 graph ${found / 400}`);
  await ix.close();
});

test('usearch: changes after the saved ANN structure are replayed on reopen', async () => {
  const dir = join(root, 'r');
  const ix = await createIndex({ backend: 'usearch', dir, dim: DIM });
  await ix.upsert(ids.slice(0, 200), { data: base.data.subarray(0, 200 * DIM), rows: 200, dim: DIM });
  await ix.close(); // saves the ANN structure
  const a = await openIndex(dir);
  await a.remove(['v3']);
  await a.upsert(ids.slice(200), { data: base.data.subarray(200 * DIM), rows: 200, dim: DIM });
  await a.upsert(['v7'], { data: row(base, 300).slice(), rows: 1, dim: DIM });
  await a.flush(); // committed, but no new ANN snapshot (as after a kill)
  const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { ann: { seq: number }; segments: { seq: number }[] };
  assert.ok(m.segments.some((s) => s.seq > m.ann.seq), 'segments after the ANN snapshot');
  const b = await openIndex(dir, { readOnly: true }); // beside the writer, as a search would
  assert.equal((await b.stats()).count, 399);
  const self = await b.search({ data: row(base, 3).slice(), rows: 1, dim: DIM }, 3);
  assert.ok(!self[0].some((h) => h.id === 'v3'));
  const moved = await b.search({ data: row(base, 300).slice(), rows: 1, dim: DIM }, 2);
  assert.deepEqual(new Set(moved[0].map((h) => h.id)), new Set(['v7', 'v300']));
  const old7 = await b.search({ data: row(base, 7).slice(), rows: 1, dim: DIM }, 1);
  assert.notEqual(old7[0][0].id, 'v7');
  await b.close();
  await a.close();
});

test('one writer per folder: a second writer is refused, a dead writer\'s lock is taken over, readers write nothing', async () => {
  const dir = join(root, 'lock');
  const w = await createIndex({ backend: 'usearch', dir, dim: DIM });
  await w.upsert(ids.slice(0, 10), { data: base.data.subarray(0, 10 * DIM), rows: 10, dim: DIM });
  await w.flush();
  await assert.rejects(openIndex(dir), /another process \(pid \d+\) is writing this index/);
  // a reader sees the last commit beside the writer, and cannot change the index
  const r = await openIndex(dir, { readOnly: true });
  assert.equal((await r.stats()).count, 10);
  await assert.rejects(r.upsert(['x'], vectors(1, 9)), /opened read-only/);
  const before = await readFile(join(dir, 'manifest.json'), 'utf8');
  await r.close();
  assert.equal(await readFile(join(dir, 'manifest.json'), 'utf8'), before, 'a reader wrote nothing');
  await w.close();
  // a lock left by a process that no longer runs
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(dir, 'writer.lock'), '999999999');
  const again = await openIndex(dir);
  assert.equal((await again.stats()).count, 10);
  await again.close();
});
