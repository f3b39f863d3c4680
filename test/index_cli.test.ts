// `sentencekit index build|add|remove|info` and `search` end to end with a tiny model: outputs,
// flat and usearch agreeing, chunking, and bad input — a corpus line that is not JSON (its line
// number, nothing written), a non-empty --out, a filter on an unknown field, a query model that
// is not the index's, a truncated or corrupt index file, an unreachable PostgreSQL (names the
// target, no hang) — and SIGKILL during `index add`: the index reopens with exactly the batches
// committed before the kill and answers searches.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openIndex } from '../src/index/index.js';
import { assertExit, cli, MAIN } from './helpers/cli.js';
import { freePort } from './helpers/pglite.js';
import { MINILM_TOKENIZER, sharedMissing } from './helpers/shared.js';
import { tinyModel } from './helpers/train_fixtures.js';

const skip = sharedMissing(MINILM_TOKENIZER);
let root = '';
let model = '';
let other = '';
let corpus = '';

const WORDS = ['river', 'mountain', 'guitar', 'violin', 'bread', 'cheese', 'train', 'plane', 'cat', 'dog', 'rain', 'snow', 'poem', 'novel', 'chess', 'football'];

function sentence(i: number): string {
  const w = (k: number): string => WORDS[(i * 7 + k * 3) % WORDS.length];
  return `The ${w(0)} and the ${w(1)} met a ${w(2)}. Later a ${w(3)} was seen near the ${w(4)}, and nobody knew why the ${w(5)} came, said witness ${i}.`;
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'sk-index-cli-'));
  if (skip) return;
  model = join(root, 'model');
  other = join(root, 'other');
  const m = await tinyModel(1);
  await m.save(model);
  await m.close();
  const o = await tinyModel(2);
  await o.save(other);
  await o.close();
  corpus = join(root, 'corpus.jsonl');
  const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({ _id: `d${i}`, title: i % 2 ? `Title ${i}` : '', text: sentence(i), metadata: { year: 2000 + (i % 5) }, lang: i % 3 ? 'en' : 'de' }));
  await writeFile(corpus, lines.join('\n') + '\n');
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

function jsonLines(s: string): Record<string, unknown>[] {
  return s.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('index build / search: flat and usearch agree; hits carry text and metadata; --queries gives one line per query', { skip }, async () => {
  const flat = join(root, 'flat');
  const hnsw = join(root, 'hnsw');
  const r1 = await cli('index', 'build', '--model', model, '--corpus', corpus, '--out', flat, '--backend', 'flat');
  assertExit(r1, 0);
  const s1 = jsonLines(r1.stdout)[0];
  assert.equal(s1.documents, 30);
  assert.equal(s1.vectors, 30);
  assert.equal(s1.backend, 'flat');
  assertExit(await cli('index', 'build', '--model', model, '--corpus', corpus, '--out', hnsw), 0);
  const q = await cli('search', '--index', flat, '--query', 'a violin and some cheese', '--top-k', '5');
  assertExit(q, 0);
  const hits = jsonLines(q.stdout);
  assert.equal(hits.length, 5);
  for (let i = 1; i < 5; i++) assert.ok((hits[i - 1].score as number) >= (hits[i].score as number));
  const first = hits[0];
  const n = Number(String(first.id).slice(1));
  assert.equal(first.text, (n % 2 ? `Title ${n} ` : '') + sentence(n));
  assert.equal(first['metadata.year'], 2000 + (n % 5));
  assert.equal(first.lang, n % 3 ? 'en' : 'de');
  const q2 = await cli('search', '--index', hnsw, '--query', 'a violin and some cheese', '--top-k', '5');
  assertExit(q2, 0);
  assert.deepEqual(jsonLines(q2.stdout).map((h) => h.id), hits.map((h) => h.id));
  // filters from the command line
  const f = await cli('search', '--index', hnsw, '--query', 'snow', '--top-k', '30', '--filter', '{"lang": "de", "metadata.year": {"$gte": 2002}}');
  assertExit(f, 0);
  const fh = jsonLines(f.stdout);
  assert.ok(fh.length > 0);
  for (const h of fh) assert.ok(h.lang === 'de' && (h['metadata.year'] as number) >= 2002);
  // a file of queries
  const qf = join(root, 'queries.jsonl');
  await writeFile(qf, ['{"_id": "q1", "text": "guitar"}', '{"_id": "q2", "text": "football and chess", "metadata": {}}'].join('\n') + '\n');
  const qs = await cli('search', '--index', flat, '--queries', qf, '--top-k', '3');
  assertExit(qs, 0);
  const lines = jsonLines(qs.stdout);
  assert.deepEqual(lines.map((l) => l.query_id), ['q1', 'q2']);
  for (const l of lines) assert.equal((l.hits as unknown[]).length, 3);
  const info = await cli('index', 'info', '--index', hnsw);
  assertExit(info, 0);
  const st = jsonLines(info.stdout)[0];
  assert.equal(st.count, 30);
  assert.equal(st.backend, 'usearch');
  assert.equal((st.model as { dim: number }).dim, 16);
});

test('index build --chunk-tokens: chunks with offsets; --queries ranks documents by their best chunk', { skip }, async () => {
  const dir = join(root, 'chunked');
  const r = await cli('index', 'build', '--model', model, '--corpus', corpus, '--out', dir, '--chunk-tokens', '16', '--overlap', '2', '--backend', 'flat');
  assertExit(r, 0);
  const s = jsonLines(r.stdout)[0];
  assert.equal(s.documents, 30);
  assert.ok((s.vectors as number) > 30, 'documents were split into chunks');
  const q = await cli('search', '--index', dir, '--query', 'guitar', '--top-k', '3');
  const hits = jsonLines(q.stdout);
  for (const h of hits) {
    const n = Number(String(h.doc_id).slice(1));
    const full = (n % 2 ? `Title ${n} ` : '') + sentence(n);
    assert.equal(full.slice(h.start as number, h.end as number), h.text);
  }
  const qf = join(root, 'q1.jsonl');
  await writeFile(qf, '{"_id": "q", "text": "guitar"}\n');
  const docs = jsonLines((await cli('search', '--index', dir, '--queries', qf, '--top-k', '5')).stdout)[0].hits as { id: string }[];
  assert.equal(docs.length, 5);
  assert.equal(new Set(docs.map((d) => d.id)).size, 5);
  for (const d of docs) assert.match(d.id, /^d\d+$/);
  // removing a document removes its chunks
  const rm1 = await cli('index', 'remove', '--index', dir, '--ids', 'd3');
  assertExit(rm1, 0);
  assert.ok((jsonLines(rm1.stdout)[0].removed as number) >= 2);
});

test('index add / remove / info: overwrite by id, remove from a file or a list', { skip }, async () => {
  const dir = join(root, 'edit');
  assertExit(await cli('index', 'build', '--model', model, '--corpus', corpus, '--out', dir), 0);
  const more = join(root, 'more.jsonl');
  await writeFile(more, [JSON.stringify({ id: 'n1', text: 'a brand new document about violins' }), JSON.stringify({ id: 'd0', text: 'replaced text' })].join('\n'));
  const a = await cli('index', 'add', '--index', dir, '--corpus', more);
  assertExit(a, 0);
  const sa = jsonLines(a.stdout)[0];
  assert.equal(sa.added, 2);
  assert.equal(sa.count, 31);
  const ix = await openIndex(dir);
  const [d0] = await ix.get(['d0']);
  assert.equal(d0!.text, 'replaced text');
  await ix.close();
  const idsFile = join(root, 'ids.txt');
  await writeFile(idsFile, 'd1\nd2\n');
  assertExit(await cli('index', 'remove', '--index', dir, '--ids', idsFile), 0);
  const r = await cli('index', 'remove', '--index', dir, '--ids', 'd4,d5,nope');
  assertExit(r, 0);
  assert.deepEqual(jsonLines(r.stdout)[0], { index: dir, asked: 3, removed: 2, count: 27 });
});

test('bad input: non-JSON corpus line, non-empty --out, unknown filter field, another model, truncated and corrupt files', { skip }, async () => {
  const bad = join(root, 'bad.jsonl');
  await writeFile(bad, ['{"_id": "a", "text": "fine"}', '{"_id": "b", "text": "fine too"}', '{"_id": "c", "text": broken'].join('\n'));
  const out = join(root, 'never');
  assertExit(await cli('index', 'build', '--model', model, '--corpus', bad, '--out', out), 1, `${bad}:3: not JSON`);
  assert.ok(!existsSync(out), 'nothing written');
  const dir = join(root, 'flat');
  assertExit(await cli('index', 'build', '--model', model, '--corpus', corpus, '--out', dir), 1, 'the folder is not empty', '--overwrite');
  assertExit(await cli('search', '--index', dir, '--query', 'x', '--filter', '{"colour": "red"}'), 1, 'unknown field "colour"', 'known fields:');
  assertExit(await cli('search', '--index', dir, '--query', 'x', '--model', other), 1, 'the index was built with model', 'rebuild the index');
  // an add with a bad line changes nothing
  const edit = join(root, 'edit');
  const before = await readFile(join(edit, 'manifest.json'), 'utf8');
  assertExit(await cli('index', 'add', '--index', edit, '--corpus', bad), 1, `${bad}:3: not JSON`);
  assert.equal(await readFile(join(edit, 'manifest.json'), 'utf8'), before);
  // a truncated segment, then a corrupt manifest
  const broken = join(root, 'broken');
  assertExit(await cli('index', 'build', '--model', model, '--corpus', corpus, '--out', broken, '--backend', 'flat'), 0);
  const m = JSON.parse(await readFile(join(broken, 'manifest.json'), 'utf8')) as { segments: { vectors: { file: string } }[] };
  await truncate(join(broken, m.segments[0].vectors.file), 100);
  assertExit(await cli('search', '--index', broken, '--query', 'x'), 1, 'truncated', 'rebuild it with `sentencekit index build`');
  await writeFile(join(broken, 'manifest.json'), '{"format": "sentencekit-index", "vers');
  await assert.rejects(openIndex(broken), /manifest\.json: not valid JSON.*rebuild it/);
  await assert.rejects(openIndex(root), /not an index folder \(no manifest\.json\)/);
});

test('an unreachable PostgreSQL: a clear error naming the target, quickly', { skip }, async () => {
  const port = await freePort();
  const t0 = Date.now();
  const out = join(root, 'pg');
  const r = await cli('index', 'build', '--model', model, '--corpus', corpus, '--out', out, '--backend', 'pgvector', '--pg-url', `postgres://someone:secret@127.0.0.1:${port}/db`);
  assertExit(r, 1, `cannot connect to PostgreSQL at postgres://someone@127.0.0.1:${port}/db`);
  assert.ok(!r.stderr.includes('secret'), 'the password is not printed');
  assert.ok(Date.now() - t0 < 30_000);
  assert.ok(!existsSync(out));
});

test('SIGKILL during index add: reopens with exactly the committed batches, and searches', { skip }, async () => {
  const dir = join(root, 'killed');
  assertExit(await cli('index', 'build', '--model', model, '--corpus', corpus, '--out', dir), 0);
  const big = join(root, 'big.txt');
  const N = 20000;
  await writeFile(big, Array.from({ length: N }, (_, i) => sentence(i + 100)).join('\n') + '\n');
  const child = spawn(process.execPath, [MAIN, 'index', 'add', '--index', dir, '--corpus', big, '--commit-rows', '250'], { stdio: 'ignore' });
  const exited = new Promise<void>((res) => child.on('exit', () => res()));
  // wait for a few commits, then kill
  const t0 = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 50));
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8').catch(() => '{}')) as { nextRow?: number };
    if ((m.nextRow ?? 0) >= 30 + 3 * 250) break;
    assert.ok(Date.now() - t0 < 60_000, 'index add made no commit in 60 s');
  }
  child.kill('SIGKILL');
  await exited;
  const ix = await openIndex(dir);
  try {
    const count = (await ix.stats()).count;
    const added = count - 30;
    assert.ok(added >= 750 && added < N, `added ${added}`);
    assert.equal(added % 250, 0, 'whole batches only');
    const present = await ix.get([String(added), String(added + 1)]);
    assert.ok(present[0] !== undefined, `line ${added} committed`);
    assert.equal(present[1], undefined, `line ${added + 1} was not committed`);
    assert.equal((await ix.get(['1']))[0]!.text, sentence(100));
    const [v] = await ix.get(['7']);
    const hits = await ix.search({ data: v!.vector, rows: 1, dim: v!.vector.length }, 3);
    assert.equal(hits[0][0].id, '7');
  } finally {
    await ix.close();
  }
  // and it takes more documents afterwards
  const more = join(root, 'after.jsonl');
  await writeFile(more, '{"id": "after-kill", "text": "still works"}\n');
  assertExit(await cli('index', 'add', '--index', dir, '--corpus', more), 0);
});
