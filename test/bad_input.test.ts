// Bad input is reported, never silently turned into a wrong or partial result: evaluate detects
// the data format from the content and names it; bad rows are counted, shown and limited
// (--max-bad-rows, maxBadRowRate); encode refuses binary input and invalid UTF-8 (or replaces it
// on request); class names get one numbering in every file; labels outside a loss's range,
// a max_seq_length beyond the position embeddings and a truncateDim beyond the dimension are
// refused; qrels pointing at unknown documents are counted; encode('a string') gives one vector;
// retrieval reports map@100 beside ndcg@10.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertExit, cli } from './helpers/cli.js';
import { SHARED } from './helpers/shared.js';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { loadDataset, streamDataset } from '../src/data/dataset.js';
import { readTexts, type TextReadStats } from '../src/io/text_input.js';
import { parseTrainConfig } from '../src/training/config.js';
import { Trainer } from '../src/training/trainer.js';
import { createLoss } from '../src/losses/index.js';
import { InformationRetrievalEvaluator } from '../src/evaluation/information_retrieval.js';
import { buildEvaluator } from '../src/cli/evaluator_spec.js';
import { sniffFormat } from '../src/data/sniff.js';

const TOKENIZER = new URL('../../test/fixtures/tiny-tokenizer', import.meta.url).pathname;
const SNLI = join(SHARED, 'data', 'nli', 'snli_dev.jsonl');
const MNLI = join(SHARED, 'data', 'nli', 'mnli_dev.jsonl');

let root = '';
let modelDir = '';
let model: SentenceTransformer | null = null;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'sk-bad-input-'));
  modelDir = join(root, 'model');
  assertExit(await cli('create-model', '--tokenizer', TOKENIZER, '--hidden', '16', '--layers', '1', '--heads', '2', '--intermediate', '32', '--max-seq-length', '32', '--out', modelDir), 0);
  model = await SentenceTransformer.load(modelDir, { threads: 1 });
});

after(async () => {
  await model?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

const PAIRS = [
  ['a man plays the guitar', 'a man plays music', '4.2'],
  ['a cat sleeps', 'the dog runs', '0.4'],
  ['a woman is cooking', 'someone cooks food', '3.8'],
  ['the red car', 'a blue ball', '0.9'],
  ['birds sing loudly', 'birds are singing', '4.8'],
];

async function file(name: string, text: string | Buffer): Promise<string> {
  const p = join(root, name);
  await writeFile(p, text);
  return p;
}

function json(stdout: string): Record<string, any> {
  return JSON.parse(stdout) as Record<string, any>;
}

// ------------------------------------------------------------------ 6: format from the content

test('evaluate sts reads a headed CSV by its content (not its name) and names the format it used', async () => {
  const csv = await file('my.csv', `sentence1,sentence2,score\n${PAIRS.map((p) => p.join(',')).join('\n')}\n`);
  const r = await cli('evaluate', 'sts', '--model', modelDir, '--data', csv);
  assertExit(r, 0, /my\.csv \(read as csv \(detected: comma-separated, header row "sentence1", "sentence2", "score"\)\): 5 rows read, 5 used, 0 bad/);
  const o = json(r.stdout);
  assert.ok(Number.isFinite(o.spearman_cosine));
  assert.equal(o.input[0].rows, 5);
  assert.match(o.input[0].format, /^csv \(detected/);
  // the metrics equal the in-process evaluator's on the same pairs
  const { evaluator } = await buildEvaluator({ evaluator: 'sts', path: csv, format: 'csv' });
  const want = await evaluator.evaluate(model!);
  assert.ok(Math.abs(want.spearman_cosine! - o.spearman_cosine) < 1e-9);

  const tsv = await file('pairs.txt', `s1\ts2\tscore\n${PAIRS.map((p) => p.join('\t')).join('\n')}\n`);
  const t = await cli('evaluate', 'sts', '--model', modelDir, '--data', tsv);
  assertExit(t, 0, 'read as tsv (detected: tab-separated, header row');

  const headerless = await file('nohead.csv', `${PAIRS.map((p) => p.join(',')).join('\n')}\n`);
  const h = await cli('evaluate', 'sts', '--model', modelDir, '--data', headerless);
  assertExit(h, 0, 'no header row: columns taken in order');
  assert.equal(json(h.stdout).input[0].rows, 5);
});

const STSB_DEV = join(SHARED, 'data', 'stsb', 'sts-dev.csv');
const MRPC = join(SHARED, 'data', 'mrpc', 'msr_paraphrase_train.txt');
test('evaluate recognises the STS-B and MRPC layouts from the content', { skip: existsSync(STSB_DEV) && existsSync(MRPC) ? false : 'no shared STS-B / MRPC' }, async () => {
  const sts = await sniffFormat(STSB_DEV);
  assert.equal(sts.format, 'stsb');
  assert.match(sts.description, /^stsb: the STS Benchmark layout \(detected: tab-separated, no header row/);
  assert.equal((await loadDataset({ path: STSB_DEV, format: sts.format })).report.goodRows, 1500);
  const mrpc = await sniffFormat(MRPC);
  assert.equal(mrpc.format, 'mrpc');
  assert.equal((await loadDataset({ path: MRPC, format: mrpc.format })).report.goodRows, 4076);
  for (const [path, format] of [[SNLI, 'jsonl'], [join(SHARED, 'data', 'msmarco', 'qrels', 'test.tsv'), 'tsv']] as const) {
    if (existsSync(path)) assert.equal((await sniffFormat(path)).format, format, path);
  }
});

// ------------------------------------------------------------------ 7: bad rows counted, limited

test('evaluate: a short row in a 3-row CSV fails above the limit, naming the line, the format and --max-bad-rows', async () => {
  const csv = await file('short.csv', 'sentence1,sentence2,score\na cat,a dog,1.5\nthe man plays\nhello there,general kenobi,0.5\n');
  const r = await cli('evaluate', 'sts', '--model', modelDir, '--data', csv);
  assertExit(r, 1, /1 of 3 records read so far are bad/, /line 3: has 1 field, expected 3/, /--max-bad-rows/, /read as csv/);
  assert.equal(r.stdout, '');
  const ok = await cli('evaluate', 'sts', '--model', modelDir, '--data', csv, '--max-bad-rows', '1');
  assertExit(ok, 0, '3 rows read, 2 used, 1 bad; first bad line 3: has 1 field, expected 3');
  const o = json(ok.stdout);
  assert.deepEqual([o.input[0].rows, o.input[0].good_rows, o.input[0].bad_rows], [3, 2, 1]);
  assert.deepEqual(o.input[0].first_bad, { line: 3, problem: "has 1 field, expected 3 (the header's count)" });
  assertExit(await cli('evaluate', 'sts', '--model', modelDir, '--data', csv, '--max-bad-rows', '50%'), 0);
  assertExit(await cli('evaluate', 'sts', '--model', modelDir, '--data', csv, '--max-bad-rows', 'lots'), 2, '--max-bad-rows takes a count');
});

test('evaluate: 1 bad line in 1,001 JSON lines is within the default limit and is reported on stderr and in the JSON', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 1001; i++) {
    const p = PAIRS[i % PAIRS.length]!;
    lines.push(i === 500 ? '{"sentence1": "broken' : JSON.stringify({ sentence1: p[0], sentence2: p[1], score: Number(p[2]) }));
  }
  const path = await file('pairs.jsonl', `${lines.join('\n')}\n`);
  const r = await cli('evaluate', 'sts', '--model', modelDir, '--data', path);
  assertExit(r, 0, /1001 rows read, 1000 used, 1 bad; first bad line 501: not valid JSON/);
  const o = json(r.stdout);
  assert.equal(o.input[0].bad_rows, 1);
  assert.equal(o.input[0].first_bad.line, 501);
  assert.match(o.input[0].format, /JSON lines/);
  assertExit(await cli('evaluate', 'sts', '--model', modelDir, '--data', path, '--max-bad-rows', '0'), 1, /more than maxBadRows 0 allows/);
});

test('training config: maxBadRowRate, maxBadRows and labelMap are accepted and checked', async () => {
  const train = await file('cfg-train.csv', 'sentence1,sentence2,score\na,b,0.5\n');
  const base = { model: 'm', loss: { name: 'CoSENTLoss' }, output: 'out' };
  const cfg = parseTrainConfig({ ...base, train: { path: train, format: 'csv', maxBadRowRate: 0.05, maxBadRows: 3, labelMap: { yes: 1, no: 0 } }, eval: { path: train, format: 'csv', maxBadRowRate: 0.2 } }, join(root, 'c.json'));
  assert.equal(cfg.train[0]!.maxBadRowRate, 0.05);
  assert.deepEqual(cfg.train[0]!.labelMap, { yes: 1, no: 0 });
  assert.equal(cfg.eval!.maxBadRowRate, 0.2);
  assert.throws(() => parseTrainConfig({ ...base, train: { path: train, format: 'csv', maxBadRowRate: 5 } }, join(root, 'c.json')), /train\.maxBadRowRate: must be a number from 0 to 1/);
  assert.throws(() => parseTrainConfig({ ...base, train: { path: train, format: 'csv', labelMap: { a: 0, b: 0 } } }, join(root, 'c.json')), /train\.labelMap: "a" and "b" are both 0/);
  // the limit reaches the reader
  const lines = ['sentence1,sentence2,score'];
  for (let i = 0; i < 200; i++) lines.push(i % 50 === 0 ? 'x,y,n/a' : `x${i},y${i},0.5`);
  const many = await file('many.csv', `${lines.join('\n')}\n`);
  await assert.rejects(loadDataset({ path: many, format: 'csv' }), /3 of 101 records read so far are bad.*maxBadRowRate/s);
  assert.equal((await loadDataset({ path: many, format: 'csv' }, { maxBadRows: 4 })).report.badRows, 4);
});

// ------------------------------------------------------------------ 8: binary and invalid UTF-8

test('encode refuses a binary file and invalid UTF-8 with the line; --on-invalid-utf8 replace embeds and counts', async () => {
  const bin = await file('binary.txt', Buffer.concat([Buffer.from('first line\nsecond\n'), Buffer.from([0x00, 0x01, 0x02, 0xff]), Buffer.from('\n')]));
  assertExit(await cli('encode', '--model', modelDir, '--input', bin, '--output', join(root, 'bin.npy')), 1, /binary\.txt line 3: contains a NUL byte: this looks like a binary file/);
  assert.equal(existsSync(join(root, 'bin.npy')), false);

  const latin1 = await file('latin1.txt', Buffer.concat([Buffer.from('plain ascii\n'), Buffer.from('caf\xe9 au lait\n', 'latin1'), Buffer.from('ok\n')]));
  assertExit(await cli('encode', '--model', modelDir, '--input', latin1, '--output', join(root, 'l.npy')), 1, /latin1\.txt line 2: invalid UTF-8 at byte 4 of the line \(bytes E9 20 61 75\).*--on-invalid-utf8 replace/);
  const r = await cli('encode', '--model', modelDir, '--input', latin1, '--output', join(root, 'l.npy'), '--on-invalid-utf8', 'replace');
  assertExit(r, 0, 'encoded 3 texts', /1 line\(s\) held invalid UTF-8 .* \(first: line 2\)/);

  const jsonl = await file('bad.jsonl', Buffer.concat([Buffer.from('{"text": "fine"}\n{"text": "caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]));
  assertExit(await cli('encode', '--model', modelDir, '--input', jsonl, '--output', join(root, 'j.npy')), 1, /bad\.jsonl line 2: invalid UTF-8/);

  // the data readers (evaluation, training) replace and note it, with the line of the first
  // (a 300,000-character line puts the bad byte in the file's second read chunk)
  const csv = await file('latin1.csv', Buffer.concat([Buffer.from(`text\nfine\n${'x'.repeat(300000)}\na\nb\ncaf`), Buffer.from([0xe9]), Buffer.from('\n')]));
  const d = await loadDataset({ path: csv, format: 'csv' });
  assert.match(d.report.notes.join('\n'), /1 invalid UTF-8 byte sequence\(s\) replaced by U\+FFFD; .*the first is on line 6/);
  // and a NUL byte past the first kilobytes is refused too
  const late = await file('late-nul.csv', Buffer.concat([Buffer.from('text\n' + 'x\n'.repeat(20000)), Buffer.from([0]), Buffer.from('\n')]));
  await assert.rejects(loadDataset({ path: late, format: 'csv' }), /late-nul\.csv: a NUL byte at byte offset 40005: this part of the file is binary/);

  // the reader: a valid U+FFFD in the text is not mistaken for a bad byte; a split multi-byte character is fine
  const good = await file('good.txt', `${'é'.repeat(40000)}\n\uFFFD replacement char\n`);
  const stats: TextReadStats = { invalidUtf8Lines: 0, firstInvalidUtf8Line: null };
  const texts: string[] = [];
  for await (const b of readTexts(good, { stats })) texts.push(...b.texts);
  assert.deepEqual(texts.map((t) => t.length), [40000, 18]);
  assert.equal(stats.invalidUtf8Lines, 0);
});

// ------------------------------------------------------------------ 9: stable class numbering

test('class names: one numbering whatever order a file meets them in, streamed or loaded, with a class missing', async () => {
  const a = await file('a.jsonl', ['neutral', 'entailment', 'contradiction'].map((l) => JSON.stringify({ premise: 'p', hypothesis: 'h', label: l })).join('\n'));
  const b = await file('b.jsonl', ['contradiction', 'entailment'].map((l) => JSON.stringify({ premise: 'p', hypothesis: 'h', label: l })).join('\n'));
  const columns = { premise: 'premise', hypothesis: 'hypothesis', label: 'label' };
  const want = { entailment: 0, neutral: 1, contradiction: 2 };
  for (const path of [a, b]) {
    const s = streamDataset({ path, format: 'jsonl', columns });
    const labels: unknown[] = [];
    for await (const e of s) labels.push(e.label);
    const l = await loadDataset({ path, format: 'jsonl', columns });
    assert.deepEqual(l.examples.map((e) => e.label), labels, 'stream and load agree');
    for (const [name, id] of Object.entries(s.report.labelMap!)) assert.equal(id, want[name as keyof typeof want], `${path}: ${name}`);
  }
  const nli = await loadDataset({ path: a, format: 'nli' });
  assert.deepEqual(nli.examples.map((e) => e.label), [1, 0, 2], 'the jsonl numbering is the nli preset\'s');
});

test('SNLI and MultiNLI dev streamed as JSON lines number their labels alike', { skip: existsSync(SNLI) && existsSync(MNLI) ? false : 'no shared NLI data' }, async () => {
  const maps = [];
  for (const path of [SNLI, MNLI]) {
    const s = streamDataset({ path, format: 'jsonl', columns: { premise: 'premise', hypothesis: 'hypothesis', label: 'label' } }, { limit: 50 });
    for await (const e of s) void e;
    maps.push(s.report.labelMap);
  }
  assert.deepEqual(maps[0], maps[1]);
});

// ------------------------------------------------------------------ 10: labels outside the loss's range

test('CosineSimilarityLoss refuses 0–5 scores (suggesting scoreScale 5) and scores outside [-1, 1]; scoreScale fixes it', async () => {
  const csv = await file('sts05.csv', `sentence1,sentence2,score\n${PAIRS.map((p) => p.join(',')).join('\n')}\n`);
  const raw = await loadDataset({ path: csv, format: 'csv' });
  const loss = createLoss('CosineSimilarityLoss', {});
  const make = (examples: typeof raw.examples): Trainer => new Trainer({ model: model!, trainDataset: { examples }, loss, args: { maxSteps: 1, batchSize: 2 }, outputDir: join(root, 'never') });
  assert.throws(() => make(raw.examples), /CosineSimilarityLoss expects labels in \[-1, 1\].*the labels run 0\.4–4\.8 \(example 0 has 4\.2\)\. If the scores run 0–5.*"scoreScale": 5/s);
  assert.throws(() => make([{ texts: ['a', 'b'], label: 0.5 }, { texts: ['c', 'd'], label: -3 }]), /the labels run -3–0\.5 \(example 1 has -3\)/);
  const scaled = await loadDataset({ path: csv, format: 'csv', scoreScale: 5 });
  assert.doesNotThrow(() => make(scaled.examples));
  assert.throws(
    () => new Trainer({ model: model!, trainDataset: { examples: [{ texts: ['a', 'b'], label: 2 }] }, loss: createLoss('ContrastiveLoss', {}), args: { maxSteps: 1 }, outputDir: join(root, 'never') }),
    /ContrastiveLoss expects labels in integers 0–1/,
  );
  // CoSENT only uses the order of the scores: 0–5 is fine
  assert.doesNotThrow(() => new Trainer({ model: model!, trainDataset: { examples: raw.examples }, loss: createLoss('CoSENTLoss', {}), args: { maxSteps: 1 }, outputDir: join(root, 'never') }));
});

// ------------------------------------------------------------------ 11: max_seq_length, truncateDim

test('a max_seq_length beyond the position embeddings and a truncateDim beyond the dimension are refused, not lowered', async () => {
  await assert.rejects(SentenceTransformer.load(modelDir, { maxSeqLength: 100000 }), /maxSeqLength \(--max-seq-length\) 100000 is more than this model's max_position_embeddings 512/);
  await assert.rejects(SentenceTransformer.create({ tokenizerDir: TOKENIZER, hidden: 16, layers: 1, heads: 2, intermediate: 32, maxSeqLength: 100000 }), /100000 is more than this model's max_position_embeddings 512/);
  const input = await file('three.txt', 'one\ntwo\nthree\n');
  assertExit(await cli('encode', '--model', modelDir, '--input', input, '--max-seq-length', '100000'), 1, /max_position_embeddings 512/);
  assertExit(await cli('encode', '--model', modelDir, '--input', input, '--truncate-dim', '1000', '--output', join(root, 't.npy')), 1, /truncateDim \(--truncate-dim\) 1000 is more than the 16 dimensions/);
  assert.equal(existsSync(join(root, 't.npy')), false);
  await assert.rejects(model!.encodeMatrix(['x'], { truncateDim: 17 }), /more than the 16 dimensions/);
  assert.equal((await model!.encodeMatrix(['x'], { truncateDim: 8 })).dim, 8);
  assert.throws(
    () => new Trainer({ model: model!, trainDataset: { examples: [{ texts: ['a', 'b'] }] }, loss: createLoss('MultipleNegativesRankingLoss', {}), args: { maxSeqLength: 100000 }, outputDir: join(root, 'never') }),
    /args\.maxSeqLength: 100000 is more than the model's max_position_embeddings 512/,
  );
});

// ------------------------------------------------------------------ 12, 16: retrieval

test('retrieval: qrels pointing at documents missing from the corpus are counted and reported; map@100 beside ndcg@10', async () => {
  const corpus = { d1: 'a man plays the guitar', d2: 'a cat sleeps on the mat', d3: 'the dog runs fast' };
  const queries = { q1: 'guitar music', q2: 'sleeping cat', q3: 'a fast dog' };
  const qrels = { q1: { d1: 1, gone1: 1 }, q2: { gone2: 1, gone3: 1 }, q3: { d3: 1 }, q9: { d2: 1 } };
  const ev = new InformationRetrievalEvaluator(queries, corpus, qrels);
  assert.deepEqual({ ...ev.coverage, examples: ev.coverage.examples.length }, { judgements: 6, unknownDocuments: 3, unknownQueries: 1, queriesWithoutKnownDocument: 1, examples: 3 });
  assert.throws(() => new InformationRetrievalEvaluator(queries, corpus, { q1: { gone: 1 } }), /none of the 1 relevance judgements points at a document in the corpus/);

  await writeFile(join(root, 'corpus.jsonl'), Object.entries(corpus).map(([id, text]) => JSON.stringify({ _id: id, title: '', text })).join('\n'));
  await writeFile(join(root, 'queries.jsonl'), Object.entries(queries).map(([id, text]) => JSON.stringify({ _id: id, text })).join('\n'));
  await writeFile(join(root, 'qrels.tsv'), Object.entries(qrels).flatMap(([q, ds]) => Object.keys(ds).map((d) => `${q}\t${d}\t1`)).join('\n') + '\n');
  const r = await cli('evaluate', 'retrieval', '--model', modelDir, '--corpus', join(root, 'corpus.jsonl'), '--queries', join(root, 'queries.jsonl'), '--qrels', join(root, 'qrels.tsv'), '--k', '10');
  assertExit(r, 0, /warning: .*qrels\.tsv: 3 of 6 relevance judgements \(50\.0%\) point at document ids that are not in the corpus/);
  const o = json(r.stdout);
  assert.deepEqual(o.qrels, { judgements: 6, unknown_documents: 3, unknown_queries: 1, queries_without_known_document: 1 });
  assert.ok('cosine_map@100' in o && 'cosine_ndcg@10' in o && 'cosine_mrr@10' in o, Object.keys(o).join(', '));
  assert.ok(!('cosine_map@10' in o));
});

// ------------------------------------------------------------------ 13: encode(string)

test('encode(string) returns one vector; an array returns one per text; other inputs are refused', async () => {
  const one = await model!.encode('a single string');
  assert.ok(one instanceof Float32Array);
  assert.equal(one.length, model!.dimension);
  const [first] = await model!.encode(['a single string']);
  assert.deepEqual(Array.from(one), Array.from(first!));
  await assert.rejects(model!.encode(42 as unknown as string), /encode takes a string or an array of strings, got number/);
  await assert.rejects(model!.encode(['ok', null] as unknown as string[]), /encode: texts\[1\] is null, expected a string/);
});
