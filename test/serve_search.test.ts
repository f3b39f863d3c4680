// Tests for the search routes over a real index (the flat backend, built by the index layer's
// ingestion with the tiny model): /search's hits equal the index's own search with encode's
// query vectors, filters narrow them, a filter on an unknown field is a 400 naming it,
// POST /documents embeds and upserts (then found by search, committed: it survives a reopen),
// DELETE /documents removes, and a server over an index of another model refuses to start.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openIndex, modelInfo } from '../src/index/index.js';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { createServer } from '../src/serve/app.js';
import { buildTinyIndex, post, removeTinyModel, serveTiny, type Served } from './helpers/serve.js';
import { MINILM_TOKENIZER, sharedMissing } from './helpers/shared.js';
import { tinyModel } from './helpers/train_fixtures.js';

const skip = sharedMissing(MINILM_TOKENIZER);
const DOCS = [
  { _id: 'g1', text: 'A man is playing a guitar on the stage.', lang: 'en', year: 2019 },
  { _id: 'g2', text: 'The cat sleeps on the warm mat all day.', lang: 'en', year: 2021 },
  { _id: 'g3', text: 'Ein Hund rennt schnell durch den Park.', lang: 'de', year: 2022 },
  { _id: 'g4', text: 'Birds sing loudly in the early morning.', lang: 'en', year: 2023 },
  { _id: 'g5', text: 'A red car drives slowly down the road.', lang: 'en', year: 2020 },
];
let dir = '';
let s: Served;

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'sk-serve-index-'));
  await writeFile(join(dir, 'corpus.jsonl'), DOCS.map((d) => JSON.stringify(d)).join('\n') + '\n');
  await buildTinyIndex(join(dir, 'index'), join(dir, 'corpus.jsonl'));
  const index = await openIndex(join(dir, 'index'), { threads: 1 });
  s = await serveTiny({ index, indexDir: join(dir, 'index') });
});

after(async () => {
  await s?.close();
  await removeTinyModel();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('/search: hits equal the index searched with encode\'s query vector; filters; several queries', { skip }, async () => {
  const q = 'a man plays guitar';
  const r = await post(`${s.url}/search`, { query: q, top_k: 3 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const m = await s.reference.encodeMatrix([q]);
  const [expected] = await s.server.ctx.index!.search({ data: m.data, rows: 1, dim: m.dim }, 3);
  assert.deepEqual(r.body.hits.map((h: { id: string }) => h.id), expected.map((h) => h.id));
  r.body.hits.forEach((h: { score: number; text: string }, i: number) => {
    assert.ok(Math.abs(h.score - expected[i].score) < 1e-5);
    assert.equal(h.text, expected[i].text);
  });
  const de = await post(`${s.url}/search`, { query: q, top_k: 5, filter: { lang: 'de' } });
  assert.deepEqual(de.body.hits.map((h: { id: string }) => h.id), ['g3']);
  const recent = await post(`${s.url}/search`, { query: q, top_k: 5, filter: { $and: [{ lang: 'en' }, { year: { $gte: 2021 } }] } });
  assert.deepEqual(recent.body.hits.map((h: { id: string }) => h.id).sort(), ['g2', 'g4']);
  const many = await post(`${s.url}/search`, { queries: [q, 'sleeping cat'], top_k: 2, include_documents: false });
  assert.equal(many.body.results.length, 2);
  assert.equal(many.body.results[0][0].id, expected[0].id);
  assert.equal(many.body.results[0][0].text, undefined);
});

test('/search bad input: unknown filter field, wrong filter form, both or neither query field', { skip }, async () => {
  const unknown = await post(`${s.url}/search`, { query: 'x', filter: { colour: 'red' } });
  assert.equal(unknown.status, 400);
  assert.match(unknown.body.error, /colour/);
  const wrong = await post(`${s.url}/search`, { query: 'x', filter: [1] });
  assert.equal(wrong.status, 400);
  assert.match(wrong.body.error, /"filter" must be an object/);
  const badOp = await post(`${s.url}/search`, { query: 'x', filter: { year: { $near: 3 } } });
  assert.equal(badOp.status, 400);
  for (const body of [{}, { query: 'a', queries: ['b'] }]) {
    const r = await post(`${s.url}/search`, body);
    assert.equal(r.status, 400);
    assert.match(r.body.error, /give "query" .* or "queries"/);
  }
  assert.equal((await post(`${s.url}/search`, { query: '' })).status, 400);
  assert.equal((await post(`${s.url}/search`, { query: 'x' })).status, 200, 'the server keeps answering');
});

test('POST /documents embeds and upserts (committed: found after a reopen); DELETE removes', { skip }, async () => {
  const add = await post(`${s.url}/documents`, { documents: [{ id: 'n1', text: 'Quantum computers factor large numbers.', metadata: { lang: 'en', year: 2024 } }, { id: 'g2', text: 'A sleepy kitten naps.', metadata: { lang: 'en', year: 2024 } }] });
  assert.equal(add.status, 200, JSON.stringify(add.body));
  assert.deepEqual(add.body, { upserted: 2, count: 6 });
  const hit = await post(`${s.url}/search`, { query: 'Quantum computers factor large numbers.', top_k: 1 });
  assert.equal(hit.body.hits[0].id, 'n1');
  assert.ok(hit.body.hits[0].score > 0.999);
  // the server holds the index's writer lock: a second reader opens its last commit read-only
  const reopened = await openIndex(join(dir, 'index'), { threads: 1, readOnly: true });
  const [doc] = await reopened.get(['g2']);
  assert.equal(doc?.text, 'A sleepy kitten naps.');
  const [v] = await s.reference.encode(['A sleepy kitten naps.']);
  let d = 0;
  for (let i = 0; i < v.length; i++) d = Math.max(d, Math.abs(v[i] - doc!.vector[i]));
  assert.ok(d <= 1e-6, 'the stored vector is encode\'s');
  await reopened.close();
  const bad = await post(`${s.url}/documents`, { documents: [{ id: 'x', text: '' }] });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /"documents"\[0\].text must be a non-empty string/);
  const del = await fetch(`${s.url}/documents`, { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ids: ['n1', 'nope'] }) });
  assert.deepEqual(await del.json(), { deleted: 1, count: 5 });
  const gone = await post(`${s.url}/search`, { query: 'Quantum computers factor large numbers.', top_k: 5 });
  assert.ok(!gone.body.hits.some((h: { id: string }) => h.id === 'n1'));
});

test('a server over an index built with another model refuses to start, naming both', { skip }, async () => {
  const other = await tinyModel(99);
  const index = await openIndex(join(dir, 'index'), { threads: 1, readOnly: true });
  try {
    await assert.rejects(createServer({ model: other as SentenceTransformer, modelName: 'other', index, indexDir: join(dir, 'index') }), /built with model tiny.*embedded by other/s);
    assert.notEqual(modelInfo(other, 'other').fingerprint, index.model?.fingerprint);
  } finally {
    await index.close();
    await other.close();
  }
});
