// End to end on a slice of the real MS MARCO subset (../shared/data/msmarco): `index build`
// (flat; flat and usearch with chunking) then `search --queries` over the judged queries; nDCG@10
// from the qrels for flat equals `evaluate retrieval`'s cosine_ndcg@10 with the same model, and
// chunked usearch is within 0.01 of chunked flat. (The whole subset: `npm run bench -- --only msmarco`.)

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ndcgOf, qrelsOf } from '../bench/msmarco_search.js';
import { assertExit, cli } from './helpers/cli.js';
import { MINILM_TOKENIZER, SHARED, sharedMissing } from './helpers/shared.js';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';

const MSMARCO = join(SHARED, 'data', 'msmarco');
const skip = sharedMissing(MINILM_TOKENIZER, join(MSMARCO, 'corpus.jsonl'));
const root = await mkdtemp(join(tmpdir(), 'sk-index-msmarco-'));
after(() => rm(root, { recursive: true, force: true }));

test('msmarco slice: search --queries nDCG@10 equals evaluate retrieval for flat; chunked usearch within 0.01 of chunked flat', { skip }, async () => {
  // a BEIR folder of the first 300 passages, the judgements on them, and the queries judged there
  const corpusLines = (await readFile(join(MSMARCO, 'corpus.jsonl'), 'utf8')).split('\n').filter(Boolean).slice(0, 300);
  const ids = new Set(corpusLines.map((l) => (JSON.parse(l) as { _id: string })._id));
  const qrels = (await readFile(join(MSMARCO, 'qrels', 'test.tsv'), 'utf8')).split('\n').filter((l) => ids.has(l.split('\t')[1]));
  const judged = new Set(qrels.filter((l) => Number(l.split('\t')[2]) > 0).map((l) => l.split('\t')[0]));
  const queries = (await readFile(join(MSMARCO, 'queries.jsonl'), 'utf8')).split('\n').filter((l) => l && judged.has((JSON.parse(l) as { _id: string })._id));
  assert.ok(queries.length >= 5, `${queries.length} judged queries in the slice`);
  const dir = join(root, 'beir');
  await mkdir(join(dir, 'qrels'), { recursive: true });
  await writeFile(join(dir, 'corpus.jsonl'), corpusLines.join('\n') + '\n');
  await writeFile(join(dir, 'queries.jsonl'), queries.join('\n') + '\n');
  await writeFile(join(dir, 'qrels', 'test.tsv'), qrels.join('\n') + '\n');
  const model = join(root, 'model');
  const m = await SentenceTransformer.create({ tokenizerDir: MINILM_TOKENIZER, hidden: 32, layers: 1, heads: 2, intermediate: 64, seed: 3, maxSeqLength: 64 });
  await m.save(model);
  await m.close();
  const ev = await cli('evaluate', 'retrieval', '--model', model, '--corpus', join(dir, 'corpus.jsonl'), '--queries', join(dir, 'queries.jsonl'), '--qrels', join(dir, 'qrels', 'test.tsv'));
  assertExit(ev, 0);
  const want = (JSON.parse(ev.stdout) as Record<string, number>)['cosine_ndcg@10'];
  const q = await qrelsOf(join(dir, 'qrels', 'test.tsv'));
  const ndcg: Record<string, number> = {};
  for (const [name, extra] of [['flat', ['--backend', 'flat']], ['flat_chunked', ['--backend', 'flat', '--chunk-tokens', '48']], ['usearch_chunked', ['--chunk-tokens', '48']]] as [string, string[]][]) {
    const ix = join(root, name);
    assertExit(await cli('index', 'build', '--model', model, '--corpus', join(dir, 'corpus.jsonl'), '--out', ix, ...extra), 0);
    const s = await cli('search', '--index', ix, '--queries', join(dir, 'queries.jsonl'), '--top-k', '10');
    assertExit(s, 0);
    const r = ndcgOf(s.stdout, q);
    assert.equal(r.queries, queries.length);
    ndcg[name] = r.ndcg10;
  }
  assert.ok(Math.abs(ndcg.flat - want) < 1e-9, `flat ${ndcg.flat} vs evaluate retrieval ${want}`);
  assert.ok(Math.abs(ndcg.usearch_chunked - ndcg.flat_chunked) <= 0.01, `chunked: usearch ${ndcg.usearch_chunked} vs flat ${ndcg.flat_chunked}`);
});
