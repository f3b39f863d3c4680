// One contract, every backend: flat, usearch (the embedded ANN default), ivf, pgvector over PGlite
// in-process and pgvector over PGlite's socket server with the `pg` client. Each runs the same
// checks: upsert and search against a float64 brute force, overwrite, remove, get, filters
// (equality, $in, ranges, $and/$or, unknown field, wrong type), reopen, model mismatch and bad
// input that must leave what is stored untouched.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIndex, openIndex, type CreateIndexOptions, type Filter, type IndexModelInfo, type Metadata, type OpenIndexOptions, type VectorIndex, type Vectors } from '../src/index/index.js';
import { Rng } from '../src/models/init.js';
import { startPglite, startPgliteServer } from './helpers/pglite.js';
import { cosine } from './helpers/vectors.js';

const DIM = 8;
const N = 60;
const MODEL: IndexModelInfo = { name: 'test-model', dim: DIM, normalize: true, fingerprint: 'a'.repeat(64) };
const OTHER: IndexModelInfo = { ...MODEL, name: 'other-model', fingerprint: 'b'.repeat(64) };

const root = await mkdtemp(join(tmpdir(), 'sk-index-contract-'));
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

function randomVectors(n: number, seed: number): Vectors {
  const rng = new Rng(seed);
  const data = new Float32Array(n * DIM);
  rng.fillNormal(data, 1);
  return { data, rows: n, dim: DIM };
}

const ids = Array.from({ length: N }, (_, i) => `doc-${i}`);
const metas: Metadata[] = ids.map((_, i) => ({ year: 2000 + (i % 10), lang: i % 3 === 0 ? 'de' : 'en', ok: i % 2 === 0 }));
const texts = ids.map((_, i) => `text number ${i}`);
const vecs = randomVectors(N, 7);
const queries = randomVectors(4, 99);

/** Float64 brute force over the live documents the predicate admits. */
function truth(live: Map<string, Float32Array>, q: Float32Array, k: number, keep: (id: string) => boolean = () => true): { id: string; score: number }[] {
  return [...live].filter(([id]) => keep(id)).map(([id, v]) => ({ id, score: cosine(q, v) })).sort((a, b) => b.score - a.score).slice(0, k);
}

function row(v: Vectors, i: number): Float32Array {
  return v.data.subarray(i * DIM, (i + 1) * DIM);
}

interface Target {
  name: string;
  /** Whether search is approximate (recall checked instead of exact order). */
  approximate: boolean;
  create(dir: string): Promise<VectorIndex>;
  reopen(dir: string): Promise<VectorIndex>;
}

let pglite: Awaited<ReturnType<typeof startPglite>> | null = null;
let server: Awaited<ReturnType<typeof startPgliteServer>> | null = null;
let tableNo = 0;

const targets: Target[] = [
  { name: 'flat', approximate: false, create: (dir) => createIndex({ backend: 'flat', dir, dim: DIM, model: MODEL }), reopen: (dir) => openIndex(dir) },
  { name: 'usearch', approximate: true, create: (dir) => createIndex({ backend: 'usearch', dir, dim: DIM, model: MODEL }), reopen: (dir) => openIndex(dir) },
  // trained from 32 vectors into 4 lists, so that the contract runs on a trained quantizer
  { name: 'ivf', approximate: true, create: (dir) => createIndex({ backend: 'ivf', dir, dim: DIM, model: MODEL, ivf: { trainFrom: 32, nlist: 4 } }), reopen: (dir) => openIndex(dir) },
  {
    name: 'pgvector (PGlite in-process)', approximate: true,
    create: async (dir) => {
      pglite ??= await startPglite();
      if (!closers.includes(pglite.close)) closers.push(pglite.close);
      return createIndex({ backend: 'pgvector', dir, dim: DIM, model: MODEL, pgvector: { client: pglite.client, table: `t${tableNo++}` } } satisfies CreateIndexOptions);
    },
    reopen: (dir) => openIndex(dir, { client: pglite!.client } satisfies OpenIndexOptions),
  },
  {
    name: 'pgvector (PGlite socket, pg client)', approximate: true,
    create: async (dir) => {
      server ??= await startPgliteServer();
      if (!closers.includes(server.close)) closers.push(server.close);
      return createIndex({ backend: 'pgvector', dir, dim: DIM, model: MODEL, pgvector: { connectionString: server.connectionString, table: `s${tableNo++}` } });
    },
    reopen: (dir) => openIndex(dir),
  },
];

for (const t of targets) {
  test(`index contract: ${t.name}`, async (tt) => {
    const dir = join(root, t.name.replace(/[^a-z]+/g, '_'));
    let ix = await t.create(dir);
    const live = new Map<string, Float32Array>();
    const meta = new Map<string, Metadata>();
    try {
      assert.equal(ix.dim, DIM);
      assert.equal(ix.metric, 'cosine');
      assert.deepEqual(ix.model, MODEL);

      await tt.test('upsert, then search equals a float64 brute force', async () => {
        await ix.upsert(ids.slice(0, 40), { data: vecs.data.subarray(0, 40 * DIM), rows: 40, dim: DIM }, metas.slice(0, 40), texts.slice(0, 40));
        await ix.upsert(ids.slice(40), { data: vecs.data.subarray(40 * DIM), rows: N - 40, dim: DIM }, metas.slice(40), texts.slice(40));
        await ix.flush();
        ids.forEach((id, i) => {
          live.set(id, row(vecs, i));
          meta.set(id, metas[i]);
        });
        assert.equal((await ix.stats()).count, N);
        const hits = await ix.search(queries, 5);
        assert.equal(hits.length, 4);
        for (let q = 0; q < 4; q++) {
          const want = truth(live, row(queries, q), 5);
          assert.equal(hits[q].length, 5);
          if (!t.approximate) assert.deepEqual(hits[q].map((h) => h.id), want.map((w) => w.id));
          else assert.ok(hits[q].filter((h) => want.some((w) => w.id === h.id)).length >= 4, `${t.name}: recall@5 below 0.8 on 60 vectors`);
          for (const h of hits[q]) {
            assert.ok(Math.abs(h.score - cosine(row(queries, q), live.get(h.id)!)) < 2e-3, `score of ${h.id}`);
            assert.equal(h.text, texts[ids.indexOf(h.id)]);
            assert.deepEqual(h.metadata, meta.get(h.id));
          }
          for (let j = 1; j < hits[q].length; j++) assert.ok(hits[q][j - 1].score >= hits[q][j].score - 1e-6, 'best first');
        }
        // every vector searched for finds itself first
        const self = await ix.search(vecs, 1);
        self.forEach((h, i) => {
          assert.equal(h[0].id, ids[i], `${t.name}: ${ids[i]} searched for finds ${h[0].id}`);
          assert.ok(Math.abs(h[0].score - 1) < 1e-3);
        });
      });

      await tt.test('overwrite replaces vector, metadata and text; get returns what is stored', async () => {
        const nv = randomVectors(1, 1234);
        await ix.upsert(['doc-5'], nv, [{ year: 1999, lang: 'fr', ok: false }], ['replaced']);
        await ix.flush();
        live.set('doc-5', row(nv, 0));
        meta.set('doc-5', { year: 1999, lang: 'fr', ok: false });
        assert.equal((await ix.stats()).count, N);
        const [d, missing] = await ix.get(['doc-5', 'nope']);
        assert.equal(missing, undefined);
        assert.equal(d!.text, 'replaced');
        assert.deepEqual(d!.metadata, { year: 1999, lang: 'fr', ok: false });
        for (let i = 0; i < DIM; i++) assert.ok(Math.abs(d!.vector[i] - nv.data[i]) < 1e-6);
        const self = await ix.search(nv, 1);
        assert.equal(self[0][0].id, 'doc-5');
        assert.equal(self[0][0].text, 'replaced');
      });

      await tt.test('remove: gone from search and get; the count says how many existed', async () => {
        assert.equal(await ix.remove(['doc-13', 'doc-14', 'never-there']), 2);
        await ix.flush();
        live.delete('doc-13');
        live.delete('doc-14');
        meta.delete('doc-13');
        meta.delete('doc-14');
        assert.equal((await ix.stats()).count, N - 2);
        assert.deepEqual(await ix.get(['doc-13']), [undefined]);
        const hits = await ix.search({ data: row(vecs, 13).slice(), rows: 1, dim: DIM }, 10);
        assert.ok(!hits[0].some((h) => h.id === 'doc-13' || h.id === 'doc-14'));
      });

      await tt.test('filters: equality, $in, $nin, ranges, $and/$or have the same meaning', async () => {
        const cases: [Filter, (m: Metadata) => boolean][] = [
          [{ lang: 'de' }, (m) => m.lang === 'de'],
          [{ lang: { $in: ['de', 'fr'] } }, (m) => m.lang === 'de' || m.lang === 'fr'],
          [{ lang: { $nin: ['en'] }, ok: true }, (m) => m.lang !== 'en' && m.ok === true],
          [{ year: { $gte: 2003, $lt: 2006 } }, (m) => (m.year as number) >= 2003 && (m.year as number) < 2006],
          [{ $or: [{ year: 1999 }, { $and: [{ lang: 'en' }, { year: { $gt: 2007 } }] }] }, (m) => m.year === 1999 || (m.lang === 'en' && (m.year as number) > 2007)],
          [{ ok: { $ne: true } }, (m) => m.ok !== true],
        ];
        for (const [f, pred] of cases) {
          const hits = await ix.search(queries, 50, { filter: f });
          for (let q = 0; q < 4; q++) {
            const want = truth(live, row(queries, q), 50, (id) => pred(meta.get(id)!));
            assert.ok(want.length > 0, `filter ${JSON.stringify(f)} matches something`);
            assert.deepEqual(new Set(hits[q].map((h) => h.id)), new Set(want.map((w) => w.id)), `${t.name} filter ${JSON.stringify(f)}`);
            for (const h of hits[q]) assert.ok(pred(h.metadata!), `hit ${h.id} satisfies ${JSON.stringify(f)}`);
          }
        }
        const top3 = await ix.search(queries, 3, { filter: { lang: 'de' } });
        for (let q = 0; q < 4; q++) assert.equal(top3[q].length, 3);
      });

      await tt.test('concurrent filtered searches each get their own answer (as a server issues them)', async () => {
        const filters: Filter[] = [{ year: 2003 }, { lang: 'de' }, { year: { $gte: 2007 } }, { ok: true }, { year: { $in: [2001, 2005] } }, { lang: 'en', ok: false }];
        const jobs = filters.flatMap((f) => [0, 1, 2, 3].map((q) => ({ f, q })));
        const one = (j: { f: Filter; q: number }): Promise<string[]> => ix.search({ data: row(queries, j.q).slice(), rows: 1, dim: DIM }, 5, { filter: j.f }).then((h) => h[0].map((x) => x.id));
        const sequential: string[][] = [];
        for (const j of jobs) sequential.push(await one(j));
        const together = await Promise.all(jobs.map(one));
        assert.deepEqual(together, sequential);
      });

      await tt.test('a filter on an unknown field or of the wrong type is an error', async () => {
        await assert.rejects(ix.search(queries, 3, { filter: { colour: 'red' } }), /unknown field "colour".*known fields: lang, ok, year/);
        await assert.rejects(ix.search(queries, 3, { filter: { year: 'recent' } }), /field "year" holds number values.*string "recent"/);
        await assert.rejects(ix.search(queries, 3, { filter: { lang: { $gt: 3 } } }), /\$gt compares numbers, but field "lang" holds string values/);
        await assert.rejects(ix.search(queries, 3, { filter: { year: { $between: [1, 2] } } as Filter }), /unknown operator "\$between"/);
        await assert.rejects(ix.search(queries, 3, { filter: { $or: [] } }), /\$or: needs a non-empty array/);
      });

      await tt.test('bad input is refused and nothing stored is lost', async () => {
        const before = (await ix.stats()).count;
        await assert.rejects(ix.upsert(['x'], { data: new Float32Array(DIM + 1), rows: 1, dim: DIM + 1 }), /dimension 9, the index 8/);
        const nan = new Float32Array(2 * DIM);
        nan[DIM + 3] = Number.NaN;
        await assert.rejects(ix.upsert(['x', 'y'], { data: nan, rows: 2, dim: DIM }), /row 1 component 3 is NaN/);
        await assert.rejects(ix.upsert(['x', 'x'], randomVectors(2, 5)), /id "x" appears twice in one batch/);
        await assert.rejects(ix.upsert(['x'], randomVectors(1, 5), [{ nested: { a: 1 } } as unknown as Metadata]), /metadata field "nested" of id "x"/);
        await assert.rejects(ix.search({ data: new Float32Array(4), rows: 1, dim: 4 }, 3), /dimension 4, the index 8/);
        await assert.rejects(ix.search(queries, 0), /k must be a positive integer/);
        await ix.flush();
        assert.equal((await ix.stats()).count, before);
        assert.deepEqual(await ix.get(['x', 'y']), [undefined, undefined]);
      });

      await tt.test('model mismatch: a query from another model is refused', async () => {
        await assert.rejects(ix.search(queries, 3, { model: OTHER }), /built with model test-model.*embedded by other-model/);
        assert.equal((await ix.search(queries, 3, { model: MODEL }))[0].length, 3);
      });

      await tt.test('reopen: the committed state, searchable, with its model', async () => {
        const beforeHits = await ix.search(queries, 5, { includeDocuments: false });
        await ix.close();
        ix = await t.reopen(dir);
        assert.equal((await ix.stats()).count, N - 2);
        assert.deepEqual(ix.model, MODEL);
        const again = await ix.search(queries, 5, { includeDocuments: false });
        assert.deepEqual(again.map((h) => h.map((x) => x.id)), beforeHits.map((h) => h.map((x) => x.id)));
        const [d] = await ix.get(['doc-5']);
        assert.equal(d!.text, 'replaced');
        await assert.rejects(ix.search(queries, 3, { filter: { colour: 'red' } }), /unknown field "colour"/);
        // writes after reopening persist too
        await ix.upsert(['late'], randomVectors(1, 77), [{ year: 2042, lang: 'en', ok: true }]);
        await ix.close();
        ix = await t.reopen(dir);
        assert.equal((await ix.stats()).count, N - 1);
        assert.equal((await ix.search(queries, 1, { filter: { year: 2042 } }))[0][0].id, 'late');
      });
    } finally {
      await ix.close();
    }
  });
}

test('pgvector halfvec: float16 storage, same top hits, scores to float16 precision', async () => {
  pglite ??= await startPglite();
  if (!closers.includes(pglite.close)) closers.push(pglite.close);
  const ix = await createIndex({ backend: 'pgvector', dir: join(root, 'halfvec'), dim: DIM, pgvector: { client: pglite.client, table: 'half', halfvec: true } });
  try {
    await ix.upsert(ids, vecs, metas);
    assert.equal((await ix.stats()).halfvec, true);
    const hits = await ix.search(queries, 3);
    const live = new Map(ids.map((id, i) => [id, row(vecs, i)]));
    for (let q = 0; q < 4; q++) {
      const want = truth(live, row(queries, q), 3);
      assert.equal(hits[q][0].id, want[0].id);
      for (const h of hits[q]) assert.ok(Math.abs(h.score - cosine(row(queries, q), live.get(h.id)!)) < 5e-3);
    }
    const [d] = await ix.get(['doc-0']);
    for (let i = 0; i < DIM; i++) assert.ok(Math.abs(d!.vector[i] - vecs.data[i]) < 2e-3 * Math.max(1, Math.abs(vecs.data[i])));
  } finally {
    await ix.close();
  }
});
