// Tests for src/data readers and dataset mapping: the real STS-B, NLI, MRPC and MS MARCO (BEIR)
// files in ../shared/data (row counts, ragged rows, BOM, header-less qrels), and generated
// files for CSV quoting, bad input (empty, binary, wrong columns, bad scores, broken JSON),
// the bad-row-rate limit, streaming with bounded heap, Parquet round trips, label mapping,
// dedupe and seeded splits.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { parquetWriteFile } from 'hyparquet-writer';
import {
  DataError,
  DelimitedParser,
  dedupe,
  loadBeir,
  loadDataset,
  readCsv,
  readJsonl,
  readParquet,
  readRows,
  readTsv,
  streamDataset,
  trainTestSplit,
  type Example,
  type ParsedRecord,
  type Row,
  type RowReader,
} from '../src/data/index.js';
import { SHARED, sharedMissing } from './helpers/shared.js';

const DATA = resolve(SHARED, 'data');
const STSB_TRAIN = join(DATA, 'stsb', 'sts-train.csv');
const STSB_DEV = join(DATA, 'stsb', 'sts-dev.csv');
const SNLI_DEV = join(DATA, 'nli', 'snli_dev.jsonl');
const MNLI_DEV = join(DATA, 'nli', 'mnli_dev.jsonl');
const MRPC = join(DATA, 'mrpc', 'msr_paraphrase_train.txt');
const MSMARCO = join(DATA, 'msmarco');

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sentencekit-data-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function collect(reader: RowReader): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const r of reader) rows.push(r);
  return rows;
}

async function rejectsData(p: Promise<unknown>, ...patterns: RegExp[]): Promise<DataError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
    for (const re of patterns) assert.match(err.message, re);
    return err;
  }
  assert.fail('expected the read to fail');
}

// ---------------------------------------------------------------- real data sets

test('STS-B train and dev: row counts, 9-field rows truncated to 7, scores scaled to 0–1', async (t) => {
  const missing = sharedMissing(STSB_TRAIN, STSB_DEV);
  if (missing) return t.skip(missing);
  const train = await loadDataset({ path: STSB_TRAIN, format: 'stsb' });
  assert.equal(train.examples.length, 5749);
  assert.equal(train.report.rows, 5749);
  assert.equal(train.report.badRows, 0);
  assert.equal(train.report.truncatedRows, 197);
  assert.deepEqual(train.columns, ['sentence1', 'sentence2']);
  assert.equal(train.labelKind, 'score');
  assert.deepEqual(train.examples[0], { texts: ['A plane is taking off.', 'An air plane is taking off.'], label: 1 });
  assert.ok(train.examples.every((e) => typeof e.label === 'number' && e.label >= 0 && e.label <= 1));

  const dev = await loadDataset({ path: STSB_DEV, format: 'stsb', scoreScale: 1 });
  assert.equal(dev.examples.length, 1500);
  assert.equal(dev.report.truncatedRows, 22);
  assert.ok(dev.examples.some((e) => (e.label as number) > 1), 'scoreScale 1 keeps the 0–5 scale');
  assert.ok(dev.examples.every((e) => (e.label as number) >= 0 && (e.label as number) <= 5));
});

test('STS-B through the raw TSV reader: ragged policies on its 9-field rows', async (t) => {
  const missing = sharedMissing(STSB_TRAIN);
  if (missing) return t.skip(missing);
  const opts = { header: false, quote: false as const, fieldCount: 7 };
  const err = await rejectsData(collect(readTsv(STSB_TRAIN, { ...opts, ragged: 'error' })), /line \d+: has 9 fields, expected 7/, /ragged: 'truncate'/);
  assert.ok(err.line !== undefined && err.line > 1);
  // skipping them is 197 bad rows out of 5,749 (3.4 %): more than the default 1 %
  await rejectsData(collect(readTsv(STSB_TRAIN, { ...opts, ragged: 'skip' })), /197|bad \(\d/, /maxBadRowRate/);
  const reader = readTsv(STSB_TRAIN, { ...opts, ragged: 'skip', maxBadRowRate: 0.05 });
  const rows = await collect(reader);
  assert.equal(rows.length, 5749 - 197);
  assert.equal(reader.report.badRows, 197);
  assert.equal(reader.report.badSamples[0]!.line, err.line);
  assert.deepEqual(reader.columns, ['0', '1', '2', '3', '4', '5', '6']);
});

test('SNLI and MultiNLI dev: rows read, usable labels, AllNLI numbering', async (t) => {
  const missing = sharedMissing(SNLI_DEV, MNLI_DEV);
  if (missing) return t.skip(missing);
  const counts = (examples: Example[]): number[] => {
    const c = [0, 0, 0];
    for (const e of examples) c[e.label as number]!++;
    return c;
  };
  const snli = await loadDataset({ path: SNLI_DEV, format: 'nli' });
  assert.equal(snli.report.rows, 9842);
  assert.equal(snli.examples.length, 9842, 'every SNLI dev row in this copy has a gold label');
  assert.deepEqual(snli.report.labelMap, { entailment: 0, neutral: 1, contradiction: 2 });
  assert.deepEqual(counts(snli.examples), [3329, 3235, 3278]);
  assert.deepEqual(snli.columns, ['premise', 'hypothesis']);
  assert.equal(snli.labelKind, 'class');

  const mnli = await loadDataset({ path: MNLI_DEV, format: 'nli' });
  assert.equal(mnli.report.rows, 9815);
  assert.equal(mnli.examples.length, 9815);
  assert.deepEqual(counts(mnli.examples), [3479, 3123, 3213]);
});

test('MRPC train: BOM stripped, 4,076 pairs, 0/1 labels; a header row is recognised when present', async (t) => {
  const missing = sharedMissing(MRPC);
  if (missing) return t.skip(missing);
  const mrpc = await loadDataset({ path: MRPC, format: 'mrpc' });
  assert.equal(mrpc.examples.length, 4076);
  assert.equal(mrpc.report.badRows, 0);
  const first = mrpc.examples[0]!;
  assert.equal(first.label, 1, 'the first field after the BOM parses as the label');
  assert.match(first.texts[0]!, /^Amrozi accused his brother, whom he called "the witness"/);
  assert.ok(mrpc.examples.every((e) => e.label === 0 || e.label === 1));

  await withDir(async (dir) => {
    // the published layout: BOM + header row
    const withHeader = join(dir, 'mrpc_header.txt');
    const body = (await readFile(MRPC, 'utf8')).replace(/^\uFEFF/, '');
    await writeFile(withHeader, `\uFEFFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\n${body.split('\n').slice(0, 50).join('\r\n')}\r\n`);
    const h = await loadDataset({ path: withHeader, format: 'mrpc' });
    assert.equal(h.examples.length, 50);
    assert.deepEqual(h.examples[0], first);
    assert.match(h.report.notes.join('\n'), /read as a header/);
  });
});

test('MS MARCO (BEIR layout): corpus, queries and header-less qrels', async (t) => {
  const missing = sharedMissing(MSMARCO);
  if (missing) return t.skip(missing);
  const corpus = await loadDataset({ path: join(MSMARCO, 'corpus.jsonl'), format: 'beir-corpus' });
  assert.equal(corpus.examples.length, 5000);
  assert.equal(corpus.examples[0]!.id, '4380635');
  assert.match(corpus.examples[0]!.texts[0]!, /^Fahrenheit Scale-Daniel Gabriel Fahrenheit\./, 'an empty title adds nothing after trimming');
  const queries = await loadDataset({ path: join(MSMARCO, 'queries.jsonl'), format: 'beir-queries' });
  assert.equal(queries.examples.length, 50);
  const qrels = await loadDataset({ path: join(MSMARCO, 'qrels', 'test.tsv'), format: 'beir-qrels' });
  assert.equal(qrels.examples.length, 4102);
  assert.deepEqual(qrels.examples[0], { texts: ['19335', '1720389'], label: 1 });

  const beir = await loadBeir(MSMARCO);
  assert.equal(beir.corpus.size, 5000);
  assert.equal(beir.queries.size, 50);
  assert.equal(beir.qrels.size, 43, '43 of the 50 queries are judged');
  let judgements = 0;
  for (const m of beir.qrels.values()) judgements += m.size;
  assert.equal(judgements, 4102);
  assert.equal(beir.qrels.get('19335')!.get('1729'), 2);
});

test('BEIR: title joined to text as (title + " " + text).trim(); qrels with a header line', async () => {
  await withDir(async (dir) => {
    await writeFile(join(dir, 'corpus.jsonl'), [
      JSON.stringify({ _id: 'd1', title: 'Title', text: 'Body text. ' }),
      JSON.stringify({ _id: 'd2', text: '  no title  ' }),
      JSON.stringify({ _id: 3, title: '', text: 'numeric id' }),
    ].join('\n'));
    await writeFile(join(dir, 'queries.jsonl'), `${JSON.stringify({ _id: 'q1', text: 'a query' })}\n`);
    await writeFile(join(dir, 'qrels.tsv'), 'query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td9\t0\n');
    const c = await loadDataset({ path: join(dir, 'corpus.jsonl'), format: 'beir-corpus' });
    assert.deepEqual(c.examples.map((e) => [e.id, e.texts[0]]), [['d1', 'Title Body text.'], ['d2', 'no title'], ['3', 'numeric id']]);
    const q = await loadDataset({ path: join(dir, 'qrels.tsv'), format: 'beir-qrels' });
    assert.deepEqual(q.examples, [{ texts: ['q1', 'd1'], label: 1 }, { texts: ['q1', 'd9'], label: 0 }]);
    assert.match(q.report.notes.join('\n'), /read as a header/);
  });
});

// ---------------------------------------------------------------- CSV/TSV parsing

test('CSV: quoted fields with delimiters, tabs, line breaks and doubled quotes; CRLF; BOM; start lines', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'q.csv');
    const csv = '\uFEFFa,b,c\r\n' +
      '1,"x, y",plain\r\n' +
      '2,"multi\r\nline\nfield","with ""quotes"" inside"\r\n' +
      '\r\n' +
      '3,"tab\there",""\r\n' +
      '4,mid"quote,last'; // no final newline
    await writeFile(path, csv);
    const reader = readCsv(path);
    const rows = await collect(reader);
    assert.deepEqual(reader.columns, ['a', 'b', 'c']);
    assert.deepEqual(rows, [
      { line: 2, record: { a: '1', b: 'x, y', c: 'plain' } },
      { line: 3, record: { a: '2', b: 'multi\r\nline\nfield', c: 'with "quotes" inside' } },
      { line: 7, record: { a: '3', b: 'tab\there', c: '' } },
      { line: 8, record: { a: '4', b: 'mid"quote', c: 'last' } },
    ]);
    assert.equal(reader.report.emptyLines, 1);
    assert.equal(reader.report.badRows, 0);
  });
});

test('CSV parser: any split of the input into chunks gives the same records', () => {
  const text = 'h1,h2\n"a\nb",c\r\n"d""e",f\n\ng,"h"\n"i",j';
  const whole: ParsedRecord[] = [];
  const p = new DelimitedParser('x.csv', ',', '"');
  p.push(text, whole);
  p.end(whole);
  for (let size = 1; size <= 5; size++) {
    const out: ParsedRecord[] = [];
    const q = new DelimitedParser('x.csv', ',', '"');
    for (let i = 0; i < text.length; i += size) q.push(text.slice(i, i + size), out);
    q.end(out);
    assert.deepEqual(out, whole, `chunk size ${size}`);
  }
  assert.deepEqual(whole.map((r) => r.line), [1, 2, 4, 6, 7]);
});

test('CSV: a stray character after a closing quote is a counted bad row; an unclosed quote fails with its line', async () => {
  await withDir(async (dir) => {
    const stray = join(dir, 'stray.csv');
    await writeFile(stray, 'a,b\n1,"ok"\n2,"bad"x\n3,"fine"\n');
    const reader = readCsv(stray, { maxBadRowRate: 1 });
    const rows = await collect(reader);
    assert.deepEqual(rows.map((r) => r.line), [2, 4]);
    assert.equal(reader.report.badRows, 1);
    assert.equal(reader.report.badSamples[0]!.line, 3);
    assert.match(reader.report.badSamples[0]!.problem, /unexpected "x" after the closing quote of field 2.*quote: false/);

    const open = join(dir, 'open.csv');
    await writeFile(open, 'a,b\n1,x\n2,"never closed\n3,y\n4,z\n');
    const err = await rejectsData(collect(readCsv(open)), /line 3: the quoted field 2 .* not closed/, /quote: false/);
    assert.equal(err.line, 3);
  });
});

test('ragged rows: error names the line, truncate cuts, skip counts', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'r.tsv');
    await writeFile(path, 'a\tb\n1\t2\n3\t4\t5\n6\n7\t8\n');
    await rejectsData(collect(readTsv(path, { ragged: 'error' })), /r\.tsv line 3: has 3 fields, expected 2 \(the header's count\)/);
    const t = readTsv(path, { ragged: 'truncate', maxBadRowRate: 1 });
    assert.deepEqual((await collect(t)).map((r) => r.record), [{ a: '1', b: '2' }, { a: '3', b: '4' }, { a: '7', b: '8' }]);
    assert.equal(t.report.truncatedRows, 1);
    assert.deepEqual(t.report.badSamples, [{ line: 4, problem: 'has 1 field, expected 2 (the header\'s count)' }]);
    const s = readTsv(path, { ragged: 'skip', maxBadRowRate: 1 });
    assert.equal((await collect(s)).length, 2);
    assert.deepEqual(s.report.badSamples.map((b) => b.line), [3, 4]);
  });
});

// ---------------------------------------------------------------- bad input

test('empty, blank, header-only, binary, Parquet-as-CSV and missing files fail with clear messages', async () => {
  await withDir(async (dir) => {
    const empty = join(dir, 'empty.csv');
    await writeFile(empty, '');
    await rejectsData(collect(readCsv(empty)), /empty\.csv: the file is empty/);
    assert.deepEqual(await collect(readCsv(empty, { allowEmpty: true })), []);
    await rejectsData(loadDataset({ path: empty, format: 'jsonl' }), /the file is empty/);

    const blank = join(dir, 'blank.jsonl');
    await writeFile(blank, '\n\n  \n');
    await rejectsData(collect(readJsonl(blank)), /only blank lines/);

    const headerOnly = join(dir, 'h.csv');
    await writeFile(headerOnly, 'a,b\n');
    await rejectsData(loadDataset({ path: headerOnly, format: 'csv' }), /a header row but no data rows/);

    const binary = join(dir, 'data.csv');
    await writeFile(binary, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48]));
    await rejectsData(loadDataset({ path: binary, format: 'csv' }), /binary file, not CSV \(a NUL byte at offset 8\)/);
    await rejectsData(loadDataset({ path: binary, format: 'parquet' }), /not a Parquet file/);

    await rejectsData(collect(readTsv(join(dir, 'nope.tsv'))), /nope\.tsv: cannot read the file .*check the path/);
  });
});

test('wrong or missing column names: the message lists the available columns', async () => {
  await withDir(async (dir) => {
    const csv = join(dir, 'pairs.csv');
    await writeFile(csv, 'question,answer,score\nq,a,0.5\n');
    await rejectsData(
      loadDataset({ path: csv, format: 'csv', columns: { sentence1: 'question', sentence2: 'reply', score: 'score' } }),
      /no column "reply" \(for sentence2\); available columns: question, answer, score/,
    );
    const ok = await loadDataset({ path: csv, format: 'csv', columns: { sentence1: '0', sentence2: 'answer', score: '2' } });
    assert.deepEqual(ok.examples, [{ texts: ['q', 'a'], label: 0.5 }], 'indices resolve through the header');

    const jsonl = join(dir, 'pairs.jsonl');
    await writeFile(jsonl, '{"anchor":"a","pos":"b"}\n');
    await rejectsData(
      loadDataset({ path: jsonl, format: 'jsonl', columns: { anchor: 'anchor', positive: 'positive' } }),
      /line 1: no field "positive" \(for positive\) in the first record; its fields are: anchor, pos/,
    );

    const headerless = join(dir, 'plain.tsv');
    await writeFile(headerless, 'x\ty\n');
    await rejectsData(
      loadDataset({ path: headerless, format: 'tsv', header: false, columns: { anchor: '0', positive: 'text' } }),
      /column "text" \(for positive\) cannot be found: the file has no header row, so name columns by 0-based index, "0" to "1"/,
    );
  });
});

test('a non-numeric score and a JSON line that does not parse are counted bad rows with line numbers', async () => {
  await withDir(async (dir) => {
    const csv = join(dir, 'scores.csv');
    await writeFile(csv, 's1,s2,score\na,b,0.1\nc,d,high\ne,f,0.9\n');
    const r = await loadDataset({ path: csv, format: 'csv' }, { maxBadRowRate: 1 });
    assert.deepEqual(r.columns, ['s1', 's2']);
    assert.equal(r.labelKind, 'score');
    assert.deepEqual(r.examples.map((e) => e.label), [0.1, 0.9]);
    assert.deepEqual(r.report.badSamples, [{ line: 3, problem: 'score field "score" is "high", not a number' }]);

    const jsonl = join(dir, 'broken.jsonl');
    await writeFile(jsonl, '{"text":"a","label":"x"}\n{"text": "b", "label":\n[1,2]\n{"text":"c","label":"y"}\n');
    const j = await loadDataset({ path: jsonl, format: 'jsonl' }, { maxBadRowRate: 1 });
    assert.deepEqual(j.examples.map((e) => e.texts[0]), ['a', 'c']);
    assert.equal(j.report.badRows, 2);
    assert.equal(j.report.badSamples[0]!.line, 2);
    assert.match(j.report.badSamples[0]!.problem, /not valid JSON .*each line must hold one complete JSON object/);
    assert.match(j.report.badSamples[1]!.problem, /expected a JSON object, found an array: "\[1,2\]"/);
    assert.equal(j.report.badSamples[1]!.line, 3);

    // a small file where nothing is usable fails rather than returning nothing
    const allBad = join(dir, 'allbad.jsonl');
    await writeFile(allBad, 'not json\nalso not\n');
    await rejectsData(loadDataset({ path: allBad, format: 'jsonl' }), /none of the 2 records could be used; first bad records: line 1: not valid JSON/);
  });
});

test('bad-row rate: above maxBadRowRate (after minRowsForRate rows) the read fails listing the first bad lines', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'many.csv');
    const lines = ['a,b,score'];
    for (let i = 0; i < 300; i++) lines.push(`x${i},y${i},${i % 60 === 7 ? 'n/a' : '0.5'}`); // 5 bad in 300
    await writeFile(path, `${lines.join('\n')}\n`);
    const err = await rejectsData(
      loadDataset({ path, format: 'csv' }),
      /many\.csv: \d+ of \d+ records read so far are bad \(\d.*%\), more than maxBadRowRate 1\.0% allows; first bad records: line 9: score field "score" is "n\/a", not a number; line 69:/,
      /raise maxBadRowRate/,
    );
    assert.equal(err.line, undefined);
    // the rate is checked as the read goes: 3 bad in the first 129 lines is already 2.3 %
    await rejectsData(loadDataset({ path, format: 'csv' }, { maxBadRowRate: 0.02 }), /3 of 128 records read so far are bad \(2\.3%\)/);
    const ok = await loadDataset({ path, format: 'csv' }, { maxBadRowRate: 0.025 });
    assert.equal(ok.examples.length, 295);
    assert.equal(ok.report.badRows, 5);
    assert.deepEqual(ok.report.badSamples.map((b) => b.line), [9, 69, 129, 189, 249]);
    await rejectsData(loadDataset({ path, format: 'csv' }, { maxBadRowRate: 0 }), /1 of 8 records .* line 9/);
    // fewer rows than minRowsForRate: counted, not fatal
    const few = await loadDataset({ path, format: 'csv' }, { limit: 50 });
    assert.equal(few.report.badRows, 1);
  });
});

test('gzip-compressed files are read transparently', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'pairs.jsonl.gz');
    await writeFile(path, gzipSync('{"anchor":"a","positive":"b"}\n{"anchor":"c","positive":"d"}\n'));
    const r = await loadDataset({ path, format: 'jsonl' });
    assert.deepEqual(r.examples, [{ texts: ['a', 'b'] }, { texts: ['c', 'd'] }]);
  });
});

test('invalid UTF-8 (a Windows-1252 file) is read with U+FFFD and noted in the report', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'latin1.csv');
    await writeFile(path, Buffer.concat([Buffer.from('text\ncaf'), Buffer.from([0xe9]), Buffer.from('\nok \uFFFD kept\n')]));
    const r = await loadDataset({ path, format: 'csv' });
    assert.deepEqual(r.examples.map((e) => e.texts[0]), ['caf\uFFFD', 'ok \uFFFD kept']);
    assert.match(r.report.notes.join('\n'), /^1 invalid UTF-8 byte sequence\(s\) replaced by U\+FFFD; the file may not be UTF-8/m);
  });
});

// ---------------------------------------------------------------- mapping and labels

test('column mapping: roles in role order, extra negatives, inferred columns, labelKind checks', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 't.jsonl');
    await writeFile(path, '{"n2":"n2","q":"q","p":"p","n":"n","label":2}\n');
    const r = await loadDataset({ path, format: 'jsonl', columns: { negative_2: 'n2', positive: 'p', anchor: 'q', negative: 'n' } });
    assert.deepEqual(r.columns, ['anchor', 'positive', 'negative', 'negative_2']);
    assert.deepEqual(r.examples[0], { texts: ['q', 'p', 'n', 'n2'] });
    assert.equal(r.labelKind, 'none');

    const inferred = await loadDataset({ path, format: 'jsonl' });
    assert.deepEqual(inferred.columns, ['n2', 'q', 'p', 'n']);
    assert.equal(inferred.labelKind, 'class');
    assert.deepEqual(inferred.examples[0], { texts: ['n2', 'q', 'p', 'n'], label: 2 });

    assert.throws(() => streamDataset({ path, format: 'jsonl', columns: { anchor: 'q' }, labelKind: 'score' }), /labelKind 'score' needs a label column/);
    assert.throws(() => streamDataset({ path, format: 'jsonl', columns: { label: 'a', score: 'b' } }), /both "label" and "score"/);
    assert.throws(() => streamDataset({ path, format: 'xml' as never }), /unknown dataset format "xml"/);
  });
});

test('class labels given as names: sorted, reported mapping (load and stream alike); labelMap; NLI "-" rows', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'c.csv');
    await writeFile(path, 'text,label\na,spam\nb,ham\nc,eggs\nd,ham\n');
    const r = await loadDataset({ path, format: 'csv' });
    assert.deepEqual(r.report.labelMap, { eggs: 0, ham: 1, spam: 2 });
    assert.deepEqual(r.examples.map((e) => e.label), [2, 1, 0, 1]);

    const s = streamDataset({ path, format: 'csv' });
    const labels: unknown[] = [];
    for await (const e of s) labels.push(e.label);
    assert.deepEqual(labels, [2, 1, 0, 1], 'the stream numbers names as loadDataset does');
    assert.deepEqual(s.report.labelMap, { eggs: 0, ham: 1, spam: 2 });

    const fixed = await loadDataset({ path, format: 'csv', labelMap: { ham: 0, spam: 1, eggs: 2 } });
    assert.deepEqual(fixed.examples.map((e) => e.label), [1, 0, 2, 0]);

    const nli = join(dir, 'nli.jsonl');
    await writeFile(nli, [
      { premise: 'p', hypothesis: 'h', label: 'entailment' },
      { premise: 'p', hypothesis: 'h', label: '-' },
      { premise: 'p', hypothesis: 'h' },
      { premise: 'p', hypothesis: 'h', label: 2 },
    ].map((o) => JSON.stringify(o)).join('\n'));
    const n = await loadDataset({ path: nli, format: 'nli' });
    assert.deepEqual(n.examples.map((e) => e.label), [0, 2]);
    assert.equal(n.report.badRows, 2);
    assert.match(n.report.badSamples[0]!.problem, /class label "-" \(no gold label.*\) is not one of entailment, neutral, contradiction/);
    assert.deepEqual(n.report.badSamples.map((b) => b.line), [2, 3]);
    assert.match(n.report.badSamples[1]!.problem, /label field "label" is missing/);
  });
});

test('embedding labels from JSON arrays and strings; a wrong dimension is a bad row', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'e.jsonl');
    await writeFile(path, [
      { text: 'a', label: [0.1, 0.2, 0.3] },
      { text: 'b', label: '[1, 2, 3]' },
      { text: 'c', label: [1, 2] },
    ].map((o) => JSON.stringify(o)).join('\n'));
    const r = await loadDataset({ path, format: 'jsonl', columns: { text: 'text', label: 'label' }, labelKind: 'embedding' }, { maxBadRowRate: 1 });
    assert.deepEqual(r.examples.map((e) => e.label), [[0.1, 0.2, 0.3], [1, 2, 3]]);
    assert.deepEqual(r.report.badSamples, [{ line: 3, problem: 'embedding label "label" has 2 values, earlier rows have 3' }]);
  });
});

// ---------------------------------------------------------------- streaming

test('streaming a generated 50k-row file keeps the retained heap small', async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  await withDir(async (dir) => {
    const path = join(dir, 'big.tsv');
    const out = createWriteStream(path);
    const filler = 'lorem ipsum dolor sit amet '.repeat(10);
    out.write('anchor\tpositive\tscore\n');
    for (let i = 0; i < 50_000; i++) {
      if (!out.write(`sentence number ${i} ${filler}\tparaphrase ${i} ${filler}\t${(i % 100) / 100}\n`)) {
        await new Promise<void>((r) => out.once('drain', () => r()));
      }
    }
    await new Promise<void>((res, rej) => {
      out.on('error', rej);
      out.end(() => res());
    });
    const fileSize = (await stat(path)).size;

    gc();
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    let n = 0;
    let sum = 0;
    const stream = streamDataset({ path, format: 'tsv' });
    for await (const ex of stream) {
      sum += ex.label as number;
      if (++n % 10_000 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - base);
      }
    }
    assert.equal(n, 50_000);
    assert.equal(stream.report.rows, 50_000);
    assert.ok(Math.abs(sum - 24_750) < 1e-6);
    assert.ok(peak < fileSize / 4, `retained heap grew by ${peak} bytes while streaming a ${fileSize}-byte file`);
    t.diagnostic(`streamed ${fileSize} bytes; peak retained heap growth ${peak} bytes`);
  });
});

test('limit stops after that many examples', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'l.csv');
    await writeFile(path, `a,b\n${Array.from({ length: 100 }, (_, i) => `${i},x`).join('\n')}\n`);
    const r = await loadDataset({ path, format: 'csv' }, { limit: 3 });
    assert.deepEqual(r.examples.map((e) => e.texts[0]), ['0', '1', '2']);
  });
});

// ---------------------------------------------------------------- Parquet

test('Parquet round trip: columns from the schema, several row groups, nulls, mapping', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'pairs.parquet');
    const n = 250;
    const anchors = Array.from({ length: n }, (_, i) => `anchor ${i} — ünïcode`);
    const positives = Array.from({ length: n }, (_, i) => (i === 5 ? null : `positive ${i}`));
    const scores = Array.from({ length: n }, (_, i) => i / n);
    const ids = Array.from({ length: n }, (_, i) => BigInt(i) * 1_000_000_007n);
    const flags = Array.from({ length: n }, (_, i) => i % 2 === 0);
    parquetWriteFile({
      filename: path,
      columnData: [
        { name: 'anchor', data: anchors, type: 'STRING' },
        { name: 'positive', data: positives, type: 'STRING', nullable: true },
        { name: 'score', data: scores, type: 'DOUBLE' },
        { name: 'id', data: ids, type: 'INT64' },
        { name: 'flag', data: flags, type: 'BOOLEAN' },
      ],
      rowGroupSize: 100,
    });

    const reader = readParquet(path);
    const rows = await collect(reader);
    assert.deepEqual(reader.columns, ['anchor', 'positive', 'score', 'id', 'flag']);
    assert.equal(rows.length, n);
    assert.deepEqual(rows[7], { line: 8, record: { anchor: anchors[7]!, positive: 'positive 7', score: 7 / n, id: 7_000_000_049, flag: false } });
    assert.equal((rows[5]!.record as Record<string, unknown>)['positive'], null);
    assert.equal(rows[249]!.line, 250);
    assert.deepEqual((await collect(readRows(path, 'parquet', { columns: ['score'] })))[1]!.record, { score: 1 / n });

    const ds = await loadDataset({ path, format: 'parquet', columns: { anchor: 'anchor', positive: 'positive', score: 'score' } }, { maxBadRowRate: 0.01 });
    assert.equal(ds.examples.length, n - 1);
    assert.deepEqual(ds.report.badSamples, [{ line: 6, problem: 'field "positive" is null, expected text' }]);
    assert.equal(ds.report.unit, 'row');
    assert.deepEqual(ds.examples[0], { texts: [anchors[0]!, 'positive 0'], label: 0 });

    await rejectsData(
      loadDataset({ path, format: 'parquet', columns: { anchor: 'question', positive: 'positive' } }),
      /no column "question" \(for anchor\); available columns: anchor, positive, score, id, flag/,
    );
    await rejectsData(loadDataset({ path, format: 'csv' }), /this is a Parquet file, not CSV; read it with format 'parquet'/);
    await rejectsData(collect(readParquet(path, { columns: ['nope'] })), /no column named "nope"; the file's columns are: anchor, positive, score, id, flag/);

    const truncated = join(dir, 'truncated.parquet');
    const bytes = await readFile(path);
    await writeFile(truncated, bytes.subarray(0, bytes.length - 20));
    await rejectsData(collect(readParquet(truncated)), /cannot read the Parquet metadata/);
  });
});

// ---------------------------------------------------------------- dedupe and split

test('dedupe keeps first occurrences; trainTestSplit is seeded and deterministic', () => {
  const ex: Example[] = [
    { texts: ['a', 'b'], label: 1 },
    { texts: ['a', 'c'], label: 0 },
    { texts: ['a', 'b'], label: 0 },
    { texts: ['d', 'e'] },
  ];
  assert.deepEqual(dedupe(ex), [ex[0], ex[1], ex[3]]);
  assert.deepEqual(dedupe(ex, 'first'), [ex[0], ex[3]]);
  assert.equal(ex.length, 4, 'input untouched');

  const many: Example[] = Array.from({ length: 1000 }, (_, i) => ({ texts: [`t${i}`], label: i }));
  const a = trainTestSplit(many, { testSize: 0.2, seed: 7 });
  const b = trainTestSplit(many, { testSize: 0.2, seed: 7 });
  const c = trainTestSplit(many, { testSize: 0.2, seed: 8 });
  assert.equal(a.test.length, 200);
  assert.equal(a.train.length, 800);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.test, c.test);
  const labels = (xs: Example[]): number[] => xs.map((e) => e.label as number);
  assert.deepEqual([...labels(a.train), ...labels(a.test)].sort((x, y) => x - y), labels(many), 'a partition of the input');
  assert.ok(labels(a.test).every((v, i, arr) => i === 0 || arr[i - 1]! < v), 'input order kept within a part');
  assert.deepEqual(labels(trainTestSplit(many, { testSize: 3, seed: 1 }).test), labels(trainTestSplit(many, { testSize: 3, seed: 1 }).test));
  assert.equal(trainTestSplit(many.slice(0, 10), { testSize: 0.25 }).test.length, 3, 'fraction rounded up');
  assert.throws(() => trainTestSplit(many, { testSize: 1000 }), /leaves no training examples/);
  assert.throws(() => trainTestSplit(many, { testSize: 0 }), /testSize must be a fraction/);
  assert.throws(() => trainTestSplit([many[0]!], { testSize: 0.5 }), /at least 2 examples/);
});
