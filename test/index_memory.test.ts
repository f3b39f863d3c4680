// The embedded index's memory and its segment files at scale, kept cheap: a child process
// builds 40,000 × 384 (61 MB of float32) in 12 commits and reopens it, and its peak RSS growth
// must stay near one copy of the vectors (the store's; commits stream from it, merges stream
// file to file); merges copy O(n log n) bytes on disk, not more. Replay in batches: overwrites
// and removals that span the reader's batches (REPLAY_BATCH operations) reopen to the same
// documents and graph, both replayed into the graph and from the saved (memory-mapped) graph;
// a merge whose source segment was damaged fails and leaves the last commit in place.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createIndex, IndexCorruptError, openIndex, type Vectors } from '../src/index/index.js';
import { REPLAY_BATCH } from '../src/index/segments.js';
import { DocStore, STORE_BLOCK_ROWS } from '../src/index/documents.js';
import { Rng } from '../src/models/init.js';

const run = promisify(execFile);
const root = await mkdtemp(join(tmpdir(), 'sk-index-memory-'));
after(() => rm(root, { recursive: true, force: true }));
const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'index_memory_child.js');
const MB = 2 ** 20;

test('building 40,000 × 384 in 12 commits and reopening it holds about one copy of the vectors', async () => {
  const flushes = 12;
  const { stdout } = await run(process.execPath, [CHILD, join(root, 'big'), '40000', '384', String(flushes), 'flat']);
  const r = JSON.parse(stdout) as { dataBytes: number; buildGrowth: number; reopenGrowth: number; mergeBytes: number; count: number; same: boolean };
  assert.equal(r.count, 40000);
  assert.ok(r.same, 'the reopened index returns the vectors written');
  // one copy in the store plus a fixed allowance (heap, one block, I/O pieces); the previous
  // layout (doubling store, a copy per commit, merges read into memory) grew 4.5× the data here
  assert.ok(r.buildGrowth <= 1.6 * r.dataBytes + 48 * MB, `build grew the peak RSS by ${(r.buildGrowth / MB).toFixed(0)} MB for ${(r.dataBytes / MB).toFixed(0)} MB of vectors`);
  // the reopen reads into a new store while the closed writer's may not be collected yet
  assert.ok(r.reopenGrowth <= 2.2 * r.dataBytes + 48 * MB, `build and reopen grew the peak RSS by ${(r.reopenGrowth / MB).toFixed(0)} MB for ${(r.dataBytes / MB).toFixed(0)} MB of vectors`);
  // geometric merging: every byte is copied at most about log2(commits) times (the ops files add ~2 %)
  assert.ok(r.mergeBytes > 0, 'the tail segments were merged');
  assert.ok(r.mergeBytes <= 1.1 * r.dataBytes * Math.log2(flushes), `merges copied ${(r.mergeBytes / MB).toFixed(0)} MB for ${(r.dataBytes / MB).toFixed(0)} MB of vectors`);
});

test('the store grows in fixed blocks: no copy beyond the first block, views for consecutive rows', () => {
  const dim = 3;
  const s = new DocStore(dim);
  const n = STORE_BLOCK_ROWS * 2 + 5;
  for (let r = 0; r < n; r++) s.put(r, `d${r}`, Float32Array.of(r, -r, r / 2), undefined, undefined);
  assert.equal(s.vectorBytes, (STORE_BLOCK_ROWS * 2 + 64) * dim * 4);
  for (const r of [0, STORE_BLOCK_ROWS - 1, STORE_BLOCK_ROWS, n - 1]) assert.deepEqual(Array.from(s.vectorAt(r)), [r, -r, r / 2]);
  const pieces = [...s.vectorRange(STORE_BLOCK_ROWS - 2, STORE_BLOCK_ROWS + 3)];
  assert.deepEqual(pieces.map((p) => p.length / dim), [2, 3]);
  assert.deepEqual(Array.from(pieces[1].subarray(0, dim)), [STORE_BLOCK_ROWS, -STORE_BLOCK_ROWS, STORE_BLOCK_ROWS / 2]);
  const rows = Int32Array.of(STORE_BLOCK_ROWS - 1, STORE_BLOCK_ROWS, 7);
  assert.deepEqual(Array.from(s.gather(rows)), [...rows].flatMap((r) => [r, -r, r / 2]));
  s.clear();
  assert.equal(s.vectorBytes, 0);
  assert.equal(s.count, 0);
});

const DIM = 8;
function vectors(n: number, seed: number): Vectors {
  const data = new Float32Array(n * DIM);
  new Rng(seed).fillNormal(data, 1);
  return { data, rows: n, dim: DIM };
}

test('segments replay in batches: overwrites and removals across batches, into the graph and from the saved graph', async () => {
  const dir = join(root, 'replay');
  const n = REPLAY_BATCH * 2 + 100;
  const ix = await createIndex({ backend: 'usearch', dir, dim: DIM, threads: 1 });
  const first = vectors(n, 1);
  const ids = Array.from({ length: n }, (_, i) => `v${i}`);
  await ix.upsert(ids, first, ids.map((_, i) => ({ i })));
  // overwrite ids written in the first batch, remove others, in the same commit (one segment)
  const over = ids.filter((_, i) => i % 3 === 0);
  const second = vectors(over.length, 2);
  await ix.upsert(over, second, over.map(() => ({ i: -1 })));
  const gone = ids.filter((_, i) => i % 3 === 1 && i < REPLAY_BATCH + 50);
  assert.equal(await ix.remove(gone), gone.length);
  await ix.flush();
  const expect = new Map<string, Float32Array>();
  ids.forEach((id, i) => expect.set(id, first.data.subarray(i * DIM, (i + 1) * DIM)));
  over.forEach((id, j) => expect.set(id, second.data.subarray(j * DIM, (j + 1) * DIM)));
  for (const id of gone) expect.delete(id);
  const queries = vectors(5, 3);
  const want = await ix.search(queries, 5, { includeDocuments: false });

  const check = async (label: string): Promise<void> => {
    const r = await openIndex(dir, { readOnly: true });
    const st = await r.stats();
    assert.equal(st.count, expect.size, label);
    assert.equal((st.ann as { size: number }).size, expect.size, `${label}: the graph holds the live rows only`);
    const docs = await r.get(ids);
    ids.forEach((id, i) => {
      const e = expect.get(id);
      if (e === undefined) assert.equal(docs[i], undefined, `${label}: ${id} was removed`);
      else assert.deepEqual(Array.from(docs[i]!.vector), Array.from(e), `${label}: ${id}`);
    });
    assert.deepEqual(await r.search(queries, 5, { includeDocuments: false }), want, label);
    await r.close();
  };
  await check('replayed into the graph');
  await ix.close();
  const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { ann?: unknown };
  assert.ok(m.ann, 'close saved the graph');
  await check('from the saved graph');
});

test('a merge that finds a damaged segment fails; the last commit stays', async () => {
  const dir = join(root, 'damaged');
  const ix = await createIndex({ backend: 'flat', dir, dim: DIM, threads: 1 });
  await ix.upsert(['a', 'b'], vectors(2, 4));
  await ix.flush();
  const before = await readFile(join(dir, 'manifest.json'), 'utf8');
  const seg = (JSON.parse(before) as { segments: { vectors: { file: string } }[] }).segments[0].vectors.file;
  const bytes = await readFile(join(dir, seg));
  bytes[3] ^= 0xff;
  await writeFile(join(dir, seg), bytes);
  await ix.upsert(['c'], vectors(1, 5));
  await assert.rejects(ix.flush(), (e: Error) => e instanceof IndexCorruptError && /SHA-256 differs.*rebuild it/.test(e.message));
  assert.equal(await readFile(join(dir, 'manifest.json'), 'utf8'), before, 'nothing committed');
  await assert.rejects(ix.close(), IndexCorruptError);
});
