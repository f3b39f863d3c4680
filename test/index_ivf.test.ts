// The ivf backend: the WebAssembly kernels against plain JavaScript (int8 dot products exact on
// odd row counts and a dimension that is no multiple of 16; float32 dots); recall@10 ≥ 0.95 on
// 20,000 clustered 384-dimensional vectors at the default nprobe, with scores equal to the exact
// cosine (rescored in float32); dot products for metric dot; removal (the engine never returns a
// removed row, also after the lists are repacked); save → load and close → reopen give the same
// results; a training crossing (below trainFrom, then above) keeps every stored vector first for
// itself; a truncated file is refused naming it; the committed module equals its .wat source.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble, moduleFile } from '../scripts/build_kernels.js';
import { createIndex, ExactIndex, IndexCorruptError, openIndex, type Vectors } from '../src/index/index.js';
import { IvfEngine, NPROBE } from '../src/index/ivf.js';
import { IVF_WASM } from '../src/index/kernels/ivf_wasm.js';
import { Rng } from '../src/models/init.js';
import { cosine } from './helpers/vectors.js';

const root = await mkdtemp(join(tmpdir(), 'sk-index-ivf-'));
after(() => rm(root, { recursive: true, force: true }));

/** n vectors around c centres ~ N(0, 1)^dim, each a centre plus N(0, σ²) noise, L2-normalised (as bench/index_bench.ts). */
function clustered(n: number, dim: number, c: number, seed: number, sigma = 0.9, centreSeed = 42): Vectors {
  const centres = new Float32Array(c * dim);
  new Rng(centreSeed).fillNormal(centres, 1);
  const rng = new Rng(seed);
  const data = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(rng.uniform() * c);
    let nn = 0;
    for (let d = 0; d < dim; d++) {
      const v = centres[k * dim + d] + sigma * rng.normal();
      data[i * dim + d] = v;
      nn += v * v;
    }
    for (let d = 0; d < dim; d++) data[i * dim + d] /= Math.sqrt(nn);
  }
  return { data, rows: n, dim };
}

function random(n: number, dim: number, seed: number): Vectors {
  const data = new Float32Array(n * dim);
  new Rng(seed).fillNormal(data, 1);
  return { data, rows: n, dim };
}

const at = (v: Vectors, i: number): Float32Array => v.data.subarray(i * v.dim, (i + 1) * v.dim);
const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i], 0);

test('ivf kernels: scan_i8 equals a JavaScript integer dot exactly (odd row counts, dimension 37 padded to 48); dot_f32 gives float dots and squared norms', () => {
  const memory = new WebAssembly.Memory({ initial: 4 });
  const k = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(IVF_WASM, 'base64')), { env: { memory } }).exports as unknown as {
    scan_i8(q: number, c: number, n: number, dp: number, out: number): void;
    dot_f32(q: number, c: number, n: number, dp: number, out: number): void;
  };
  const rng = new Rng(3);
  const dim = 37;
  const dp = 48;
  for (const n of [1, 3, 5, 7, 13, 1001]) {
    const i8 = new Int8Array(memory.buffer);
    const i16 = new Int16Array(memory.buffer);
    const i32 = new Int32Array(memory.buffer);
    const q = 0;
    const codes = 1024;
    const out = codes + n * dp;
    i8.fill(0);
    for (let d = 0; d < dim; d++) i16[d] = Math.floor(rng.uniform() * 255) - 127;
    for (let r = 0; r < n; r++) for (let d = 0; d < dim; d++) i8[codes + r * dp + d] = Math.floor(rng.uniform() * 255) - 127;
    // the extremes, where a wrong sign extension or overflow would show
    for (let d = 0; d < dim; d++) i8[codes + d] = d % 2 ? -127 : 127;
    k.scan_i8(q, codes, n, dp, out);
    for (let r = 0; r < n; r++) {
      let want = 0;
      for (let d = 0; d < dim; d++) want += i16[d] * i8[codes + r * dp + d];
      assert.equal(i32[(out >> 2) + r], want, `n ${n}, row ${r}`);
    }
    const f32 = new Float32Array(memory.buffer);
    const base = 4096;
    const fout = base + n * dp * 4;
    f32.fill(0);
    for (let d = 0; d < dim; d++) f32[d] = rng.normal();
    for (let r = 0; r < n; r++) for (let d = 0; d < dim; d++) f32[(base >> 2) + r * dp + d] = rng.normal();
    k.dot_f32(0, base, n, dp, fout);
    for (let r = 0; r < n; r++) {
      let want = 0;
      let sq = 0;
      for (let d = 0; d < dim; d++) {
        want += f32[d] * f32[(base >> 2) + r * dp + d];
        sq += f32[(base >> 2) + r * dp + d] ** 2;
      }
      assert.ok(Math.abs(f32[(fout >> 2) + 2 * r] - want) < 1e-4, `dot_f32 n ${n}, row ${r}: ${f32[(fout >> 2) + 2 * r]} vs ${want}`);
      assert.ok(Math.abs(f32[(fout >> 2) + 2 * r + 1] - sq) < 1e-4 * sq, `squared norm, row ${r}`);
    }
  }
});

test('ivf kernels: the committed module equals ivf.wat assembled again', async () => {
  const src = new URL('../../src/index/kernels/', import.meta.url).pathname;
  const text = moduleFile('ivf', await assemble(await readFile(join(src, 'ivf.wat'), 'utf8'), 'ivf.wat'));
  assert.equal(await readFile(join(src, 'ivf_wasm.ts'), 'utf8'), text, 'run node dist/scripts/build_kernels.js');
});

test('ivf: 20,000 clustered 384-d vectors, trained: recall@10 ≥ 0.95 at the default nprobe, exact cosine scores; reopen gives the same hits', async () => {
  const dim = 384;
  const base = clustered(20000, dim, 40, 1);
  const queries = clustered(200, dim, 40, 2);
  const ids = Array.from({ length: base.rows }, (_, i) => String(i));
  const dir = join(root, 'recall');
  const ix = await createIndex({ backend: 'ivf', dir, dim });
  for (let s = 0; s < base.rows; s += 5000) {
    await ix.upsert(ids.slice(s, s + 5000), { data: base.data.subarray(s * dim, (s + 5000) * dim), rows: 5000, dim });
  }
  const ann = (await ix.stats()).ann as { nlist: number; nprobe: number; trainedAt: number };
  assert.equal(ann.nprobe, NPROBE);
  assert.equal(ann.trainedAt, 20000, 'trained at the first upsert past trainFrom (4,096), again at 4× that');
  assert.equal(ann.nlist, 20);
  const exact = new ExactIndex(dim);
  exact.add(base);
  const gt = (await exact.search(queries, 10)).ids;
  await exact.close();
  const hits = await ix.search(queries, 10, { includeDocuments: false });
  let found = 0;
  for (let q = 0; q < queries.rows; q++) {
    const want = new Set(gt.subarray(q * 10, q * 10 + 10));
    for (const h of hits[q]) {
      if (want.has(Number(h.id))) found++;
      assert.ok(Math.abs(h.score - cosine(at(queries, q), at(base, Number(h.id)))) < 1e-5, `score of ${h.id} is the exact cosine`);
    }
    for (let j = 1; j < hits[q].length; j++) assert.ok(hits[q][j - 1].score >= hits[q][j].score);
  }
  const recall = found / (queries.rows * 10);
  assert.ok(recall >= 0.95, `recall@10 ${recall}`);
  await ix.close();
  const again = await openIndex(dir, { readOnly: true });
  assert.deepEqual(await again.search(queries, 10, { includeDocuments: false }), hits);
  await again.close();
});

test('ivf: metric dot scores are exact dot products', async () => {
  const dim = 24;
  const base = random(600, dim, 5);
  const queries = random(5, dim, 6);
  const ix = await createIndex({ backend: 'ivf', dir: join(root, 'dot'), dim, metric: 'dot', ivf: { trainFrom: 100, nlist: 8, nprobe: 8 } });
  await ix.upsert(Array.from({ length: 600 }, (_, i) => String(i)), base);
  const hits = await ix.search(queries, 5, { includeDocuments: false });
  for (let q = 0; q < 5; q++) {
    const want = Array.from({ length: 600 }, (_, i) => ({ i, s: dot(at(queries, q), at(base, i)) })).sort((a, b) => b.s - a.s).slice(0, 5);
    assert.deepEqual(hits[q].map((h) => Number(h.id)), want.map((w) => w.i), 'nprobe = nlist: the exact top 5');
    hits[q].forEach((h, j) => assert.ok(Math.abs(h.score - want[j].s) < 1e-4));
  }
  await ix.close();
});

/** An engine over a plain array of vectors (row r: vectors r). */
function engineOver(v: Vectors, o: ConstructorParameters<typeof IvfEngine>[2]): IvfEngine {
  return new IvfEngine(v.dim, 'cosine', o, (r) => at(v, r));
}

function rowsOf(n: number, from = 0): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => from + i);
}

test('ivf: a training crossing keeps every stored vector first for itself; removed rows never come back, also after repacking; save → load is identical', async () => {
  const dim = 32;
  const v = random(7000, dim, 11);
  const e = engineOver(v, { nprobe: 1000 });
  await e.add(rowsOf(3000), v.data.subarray(0, 3000 * dim));
  assert.equal((e.stats().ann as { nlist: number }).nlist, 0, 'below trainFrom: no centroids');
  await e.add(rowsOf(4000, 3000), v.data.subarray(3000 * dim));
  const ann = e.stats().ann as { nlist: number; size: number };
  assert.equal(ann.nlist, 7, 'trained at 7,000 rows: rows / 1000 lists');
  assert.equal(ann.size, 7000);
  const self = e.search(v, 1);
  const lost = Array.from({ length: 7000 }, (_, i) => i).filter((i) => self.rows[i] !== i);
  assert.deepEqual(lost, [], 'each stored vector is its own first hit at nprobe = nlist');

  // remove nine in ten (the lists' room then exceeds 4× their rows: they are repacked)
  const memory = (e.stats().ann as { memoryBytes: number }).memoryBytes;
  const removed = Int32Array.from({ length: 7000 }, (_, i) => i).filter((i) => i % 10 !== 0);
  await e.remove(removed);
  assert.ok((e.stats().ann as { memoryBytes: number }).memoryBytes < memory, 'repacked into a smaller memory');
  assert.equal((e.stats().ann as { size: number }).size, 7000 - removed.length);
  const gone = new Set(removed);
  const res = e.search(v, 10);
  for (let i = 0; i < 7000; i++) {
    for (let j = 0; j < 10; j++) assert.ok(!gone.has(res.rows[i * 10 + j]), `row ${res.rows[i * 10 + j]} was removed`);
    if (i % 10 === 0) assert.equal(res.rows[i * 10], i, `${i} still finds itself`);
  }
  // a removed row may be added again; a present one may not
  await e.add(Int32Array.of(1), at(v, 1));
  await assert.rejects(e.add(Int32Array.of(1), at(v, 1)), /row 1 is already in the index/);

  const path = join(root, 'engine.ivf');
  e.save(path);
  const f = engineOver(v, { nprobe: 1000 });
  f.load(path);
  const queries = random(50, dim, 12);
  assert.deepEqual(f.search(queries, 10), e.search(queries, 10));
  const { memoryBytes: _m, ...described } = e.stats().ann as Record<string, unknown>;
  assert.deepEqual({ ...(f.stats().ann as Record<string, unknown>), memoryBytes: undefined }, { ...described, memoryBytes: undefined });
  const g = engineOver(v, { nprobe: 2 });
  g.load(path);
  const narrow = g.search(queries, 10);
  assert.ok(narrow.rows.every((r) => r === -1 || !gone.has(r) || r === 1));

  await truncate(path, 1000);
  const h = engineOver(v, {});
  assert.throws(() => h.load(path), (err: Error) => err instanceof IndexCorruptError && err.message.includes(path) && /truncated/.test(err.message));
  e.close();
  f.close();
  g.close();
  h.close();
});
