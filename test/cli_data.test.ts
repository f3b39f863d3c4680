// `sentencekit data inspect|chunk` and `sentencekit mine-negatives`, run as child processes on
// small files written to a temporary folder: inspect's counts, bad rows, columns, label
// statistics and token lengths (checked against the tokenizer in process); chunk's output
// lines (offsets, token budget, ids, HTML cleaning); mine-negatives' JSON lines equal to
// mineHardNegatives run in process, and its report. With ../shared present: inspect of the
// STS-B dev split (1,500 rows) and of the MRPC train split with the all-MiniLM-L6-v2 tokenizer.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { Tokenizer } from '../src/tokenizers/index.js';
import { loadDataset } from '../src/data/index.js';
import { mineHardNegatives, miningRecords } from '../src/mining/index.js';
import { clearSessionCache } from '../src/runtime/session.js';
import { MINILM_TOKENIZER, SHARED, STSB_DEV, sharedMissing } from './helpers/shared.js';
import { assertExit, cli } from './helpers/cli.js';

const MRPC = resolve(SHARED, 'data', 'mrpc', 'msr_paraphrase_train.txt');


/** A small WordPiece vocabulary, so these tests run without ../shared. */
async function tinyTokenizer(dir: string): Promise<string> {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789.,;:!?\'"()-<>/'.split('');
  const words = ['the', 'a', 'cat', 'dog', 'sits', 'runs', 'on', 'mat', 'park', 'in', 'is', 'man', 'plays', 'guitar', 'woman', 'cooks', 'pasta'];
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...chars, ...chars.map((c) => `##${c}`), ...words];
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'vocab.txt'), vocab.join('\n') + '\n');
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true, model_max_length: 128, tokenizer_class: 'BertTokenizer' }));
  return dir;
}

function lines(text: string): Record<string, unknown>[] {
  const ls = text.split('\n');
  assert.equal(ls.pop(), '', 'the output ends with a newline');
  return ls.map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Nearest-rank percentile, as the command computes it. */
function pct(sorted: number[], q: number): number {
  return sorted[Math.max(1, Math.ceil((q / 100) * sorted.length)) - 1];
}

let root = '';
let tokDir = '';
let tok: Tokenizer;
let modelDir = '';

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'sk-cli-data-'));
  tokDir = existsSync(MINILM_TOKENIZER) ? MINILM_TOKENIZER : await tinyTokenizer(join(root, 'tok'));
  tok = await Tokenizer.fromDir(tokDir);
  modelDir = join(root, 'model');
  const m = await SentenceTransformer.create({ tokenizerDir: tokDir, hidden: 16, layers: 1, heads: 2, intermediate: 32, maxSeqLength: 24, seed: 3 });
  await m.save(modelDir);
  await m.close();
});

after(async () => {
  await clearSessionCache();
  if (root) await rm(root, { recursive: true, force: true });
});

// ------------------------------------------------------------------ usage

test('data without a sub-command, or an unknown one, exits 2 with the usage', async () => {
  assertExit(await cli('data'), 2, 'inspect or chunk');
  assertExit(await cli('data', 'frob'), 2, 'unknown data command "frob"', 'Usage: sentencekit data inspect');
  assertExit(await cli('data', 'inspect'), 2, 'name the file to inspect');
  assertExit(await cli('data', 'inspect', join(root, 'x.dat')), 2, 'cannot tell the format', '--format');
  assertExit(await cli('data', 'inspect', join(root, 'x.csv'), '--columns', 'anchor'), 2, '--columns takes role=field pairs');
  assertExit(await cli('data', 'chunk', '--input', join(root, 'x.jsonl'), '--output', join(root, 'y.jsonl')), 2, '--tokenizer DIR or --model DIR');
  const r = await cli('--help');
  assert.ok(r.stdout.includes('data') && r.stdout.includes('mine-negatives'), r.stdout);
});

// ------------------------------------------------------------------ inspect

test('inspect a CSV: rows, bad rows with their lines, columns, score statistics and token lengths', async () => {
  const rows = [
    ['A man is playing a guitar.', 'A man plays the guitar.', '4.5'],
    ['The cat sits on the mat.', 'A dog runs in the park.', '0.5'],
    ['A woman cooks pasta.', 'Someone is cooking pasta in a pot with a long wooden spoon.', '3'],
    ['Kids play.', 'Children are playing football outside in the rain today.', 'not a number'],
    ['Two dogs run.', 'Dogs running.', '2'],
  ];
  const file = join(root, 'pairs.csv');
  await writeFile(file, 'sentence1,sentence2,score\n' + rows.map((r) => r.map((f) => `"${f}"`).join(',')).join('\n') + '\n"only one field"\n');
  const r = await cli('data', 'inspect', file, '--tokenizer', tokDir, '--max-seq-length', '10');
  assertExit(r, 0, 'pairs.csv (csv): 6 rows, 4 good, 2 bad', 'max_seq_length 10');
  const o = JSON.parse(r.stdout) as Record<string, any>;
  assert.equal(o.format, 'csv');
  assert.equal(o.rows, 6);
  assert.equal(o.goodRows, 4);
  assert.equal(o.badRows.count, 2);
  assert.deepEqual(o.badRows.first.map((b: { line: number }) => b.line), [5, 7]);
  assert.match(o.badRows.first[0].problem, /score field "score" is "not a number", not a number/);
  assert.deepEqual(o.columns, [
    { role: 'sentence1', field: 'sentence1', kind: 'text' },
    { role: 'sentence2', field: 'sentence2', kind: 'text' },
    { role: 'score', field: 'score', kind: 'label' },
  ]);
  assert.deepEqual(o.label, { kind: 'score', count: 4, min: 0.5, max: 4.5, mean: 2.5 });
  const good = rows.filter((_, i) => i !== 3);
  for (const [c, role] of ['sentence1', 'sentence2'].entries()) {
    const lens = good.map((g) => tok.countTokens(g[c])).sort((a, b) => a - b);
    assert.deepEqual(o.tokens.columns[role], {
      texts: 4, min: lens[0], p50: pct(lens, 50), p90: pct(lens, 90), p99: pct(lens, 99), max: lens[3],
      mean: Number((lens.reduce((a, b) => a + b, 0) / 4).toFixed(2)), overMaxSeqLength: lens.filter((l) => l > 10).length,
    }, role);
  }
  assert.equal(o.tokens.maxSeqLength, 10);
});

test('inspect JSON lines with --columns and class labels; --model gives the model max_seq_length', async () => {
  const file = join(root, 'labelled.jsonl');
  const recs = [
    { q: 'a cat', p: 'the cat sits', y: 'yes' },
    { q: 'a dog', p: 'a dog runs', y: 'no' },
    { q: 'the man', p: 'a man plays', y: 'yes' },
    { q: 'pasta', y: 'yes' },
  ];
  await writeFile(file, recs.map((x) => JSON.stringify(x)).join('\n') + '\n\n');
  const r = await cli('data', 'inspect', file, '--columns', 'anchor=q,positive=p,label=y', '--model', modelDir);
  assertExit(r, 0, 'label: class, 3 values');
  const o = JSON.parse(r.stdout) as Record<string, any>;
  assert.equal(o.rows, 4);
  assert.equal(o.badRows.count, 1);
  assert.equal(o.badRows.first[0].line, 4);
  assert.match(o.badRows.first[0].problem, /field "p" is missing/);
  assert.deepEqual(o.columns.map((c: { role: string; field: string }) => `${c.role}=${c.field}`), ['anchor=q', 'positive=p', 'label=y']);
  assert.equal(o.label.kind, 'class');
  assert.deepEqual(o.label.classes, { 0: 1, 1: 2 });
  assert.deepEqual(o.label.labelMap, { no: 0, yes: 1 }, 'sorted names, as loadDataset numbers them');
  assert.equal(o.emptyLines, 1);
  assert.equal(o.tokens.maxSeqLength, 24, "the model's max_seq_length");
  assert.equal(o.tokens.columns.anchor.texts, 3);
});

test('inspect of a file that cannot be read exits 1 naming it', async () => {
  const r = await cli('data', 'inspect', join(root, 'absent.jsonl'));
  assertExit(r, 1, 'absent.jsonl');
  const empty = join(root, 'empty.jsonl');
  await writeFile(empty, '');
  assertExit(await cli('data', 'inspect', empty), 1, 'empty.jsonl', 'the file is empty');
});

// ------------------------------------------------------------------ chunk

test('chunk: every chunk within the budget, offsets slice the document, ids by source and index', async () => {
  const long = Array.from({ length: 30 }, (_, i) => `The cat number ${i} sits on the mat in the park.`).join(' ');
  const docs = [
    { _id: 'd1', text: long },
    { _id: 7, text: 'A man plays a guitar.' },
    { text: 'A dog runs.' },
    { _id: 'd4', text: '' },
  ];
  const input = join(root, 'docs.jsonl');
  await writeFile(input, docs.map((d) => JSON.stringify(d)).join('\n') + '\n{not json\n');
  const output = join(root, 'chunks.jsonl');
  const r = await cli('data', 'chunk', '--input', input, '--output', output, '--tokenizer', tokDir, '--max-tokens', '32', '--overlap', '4');
  assertExit(r, 0, /chunked 4 documents into \d+ chunks of at most 32 tokens/, '1 bad line(s) skipped: line 5', '1 document(s) with no text', '1 document(s) without an "_id" field');
  const out = lines(await readFile(output, 'utf8'));
  const bySource = new Map<string, Record<string, any>[]>();
  for (const c of out) {
    assert.deepEqual(Object.keys(c), ['id', 'source_id', 'chunk_index', 'text', 'start', 'end', 'tokens']);
    const list = bySource.get(c.source_id as string) ?? [];
    list.push(c);
    bySource.set(c.source_id as string, list);
  }
  assert.deepEqual([...bySource.keys()], ['d1', '7', '3']);
  const d1 = bySource.get('d1')!;
  assert.ok(d1.length > 3, `the long document gave ${d1.length} chunks`);
  d1.forEach((c, i) => {
    assert.equal(c.chunk_index, i);
    assert.equal(c.id, `d1#${i}`);
    assert.equal(long.slice(c.start, c.end), c.text);
    assert.equal(c.tokens, tok.countTokens(c.text));
    assert.ok(c.tokens <= 32, `chunk ${i} has ${c.tokens} tokens`);
  });
  assert.ok(d1.some((c, i) => i > 0 && c.start < d1[i - 1].end), 'consecutive chunks overlap');
  assert.equal(bySource.get('3')![0].text, 'A dog runs.', 'a document without an id takes its line number');
  assert.deepEqual((await readdir(root)).filter((f) => f.includes('.tmp-')), [], 'no temporary file is left');
});

test('chunk --html cleans each document first; a file without usable text exits 1 and writes nothing', async () => {
  const input = join(root, 'html.jsonl');
  await writeFile(input, JSON.stringify({ _id: 'h', body: '<html><head><style>p{}</style></head><body><p>The cat sits.</p><p>A dog &amp; a man.</p></body></html>' }) + '\n');
  const output = join(root, 'html-chunks.jsonl');
  const r = await cli('data', 'chunk', '--input', input, '--output', output, '--tokenizer', tokDir, '--text-field', 'body', '--html');
  assertExit(r, 0, 'cleaned from HTML');
  const out = lines(await readFile(output, 'utf8'));
  assert.equal(out.length, 1);
  assert.equal(out[0].text, 'The cat sits.\nA dog & a man.');
  const bad = join(root, 'bad-chunks.jsonl');
  const r2 = await cli('data', 'chunk', '--input', input, '--output', bad, '--tokenizer', tokDir);
  assertExit(r2, 1, 'html.jsonl', 'field "text" is missing', '--text-field');
  assert.ok(!existsSync(bad), 'no output after an error');
});

// ------------------------------------------------------------------ mine-negatives

const PAIRS = [
  ['A man is playing a guitar.', 'A man plays the guitar.'],
  ['The cat sits on the mat.', 'A cat is sitting on a mat.'],
  ['A woman cooks pasta.', 'Someone is cooking pasta.'],
  ['Two dogs run in the park.', 'Dogs are running in a park.'],
  ['A child reads a book.', 'A kid is reading.'],
  ['The train leaves at nine.', 'The train departs in the morning.'],
  ['Heavy rain is expected.', 'It will rain a lot.'],
  ['A man is playing a guitar.', 'Someone plays music.'],
];
const CORPUS = ['A man plays the piano.', 'A cat sleeps on the sofa.', 'The dog barks.', 'Sunny weather all week.', 'A woman eats pasta.', 'The bus leaves at ten.'];

test('mine-negatives writes n-tuples equal to mineHardNegatives in process, and the report on stdout', async () => {
  const input = join(root, 'pairs.jsonl');
  await writeFile(input, PAIRS.map(([q, p]) => JSON.stringify({ question: q, answer: p, label: 1 })).join('\n') + '\n');
  const corpus = join(root, 'corpus.jsonl');
  await writeFile(corpus, CORPUS.map((t, i) => JSON.stringify({ _id: String(i), body: t })).join('\n') + '\n');
  const output = join(root, 'mined.jsonl');
  const r = await cli('mine-negatives', '--model', modelDir, '--input', input, '--columns', 'anchor=question,positive=answer',
    '--corpus', corpus, '--corpus-field', 'body', '--output', output, '--num-negatives', '2', '--range-min', '1', '--range-max', '8',
    '--format-out', 'n-tuple', '--sampling', 'random', '--seed', '5');
  assertExit(r, 0, 'positive', 'negative', 'difference', /mined \d+ negatives for 7 queries/);
  const got = lines(await readFile(output, 'utf8'));
  const report = JSON.parse(r.stdout) as Record<string, any>;
  assert.equal(report.queries, 7);
  assert.equal(report.candidates, PAIRS.length + CORPUS.length);
  assert.equal(report.rows, got.length);
  assert.equal(report.rangeMax, 8);
  const model = await SentenceTransformer.load(modelDir, { threads: 1 });
  const want = await mineHardNegatives(model, PAIRS.map(([query, positive]) => ({ query, positive })), {
    corpus: CORPUS, numNegatives: 2, rangeMin: 1, rangeMax: 8, outputFormat: 'n-tuple', samplingStrategy: 'random', seed: 5,
  });
  await model.close();
  assert.deepEqual(got, miningRecords(want));
  assert.equal(got.length, 8);
  for (const row of got) {
    assert.deepEqual(Object.keys(row), ['anchor', 'positive', 'negative_1', 'negative_2']);
    const own = PAIRS.filter(([q]) => q === row.anchor).map(([, p]) => p);
    for (const n of [row.negative_1, row.negative_2]) {
      assert.ok(!own.includes(n as string) && n !== row.anchor, `${String(n)} is a positive or the anchor`);
    }
  }
});

test('mine-negatives reads CSV pairs into triplets with scores; bad options exit 2', async () => {
  const input = join(root, 'pairs.csv');
  await writeFile(input, 'anchor,positive\n' + PAIRS.map((p) => p.map((f) => `"${f}"`).join(',')).join('\n') + '\n');
  const output = join(root, 'triplets.jsonl');
  const r = await cli('mine-negatives', '--model', modelDir, '--input', input, '--output', output, '--margin', '0', '--output-scores');
  assertExit(r, 0);
  const report = JSON.parse(r.stdout) as Record<string, any>;
  assert.equal(report.rangeMax, 0 + 3 * 10 + 2, 'sentence-transformers default with a margin');
  const got = lines(await readFile(output, 'utf8'));
  assert.equal(got.length, report.rows);
  for (const row of got) {
    assert.deepEqual(Object.keys(row), ['anchor', 'positive', 'negative', 'scores']);
    const [pos, neg] = row.scores as number[];
    assert.ok(neg <= pos, `margin 0: negative ${neg} above positive ${pos}`);
  }
  assertExit(await cli('mine-negatives', '--model', modelDir, '--input', input, '--output', output, '--sampling', 'best'), 2, '--sampling must be top or random');
  assertExit(await cli('mine-negatives', '--model', modelDir, '--input', input, '--output', output, '--range-min', '5', '--range-max', '3'), 2, '--range-min 5 must be below --range-max 3');
  assertExit(await cli('mine-negatives', '--model', modelDir, '--input', input, '--output', join(root, 'x.csv')), 2, '--output must end in .jsonl');
  assertExit(await cli('mine-negatives', '--model', modelDir, '--input', input, '--output', output, '--margin', 'wide'), 2, '--margin must be a number');
  const one = join(root, 'one-column.jsonl');
  await writeFile(one, JSON.stringify({ text: 'only one' }) + '\n');
  assertExit(await cli('mine-negatives', '--model', modelDir, '--input', one, '--output', output), 1, 'one-column.jsonl', 'two text columns', '--columns');
});

// ------------------------------------------------------------------ real files

test('inspect the STS-B dev split with the all-MiniLM-L6-v2 tokenizer', { skip: sharedMissing(STSB_DEV, MINILM_TOKENIZER) }, async () => {
  const r = await cli('data', 'inspect', STSB_DEV, '--format', 'stsb', '--tokenizer', MINILM_TOKENIZER);
  assertExit(r, 0, 'sts-dev.csv (stsb): 1500 rows, 1500 good, 0 bad');
  const o = JSON.parse(r.stdout) as Record<string, any>;
  assert.equal(o.rows, 1500);
  assert.equal(o.goodRows, 1500);
  assert.equal(o.badRows.count, 0);
  assert.deepEqual(o.columns.map((c: { role: string; field: string }) => `${c.role}=${c.field}`), ['sentence1=5', 'sentence2=6', 'score=4']);
  assert.equal(o.label.kind, 'score');
  assert.equal(o.label.min, 0);
  assert.equal(o.label.max, 5);
  const ds = await loadDataset({ path: STSB_DEV, format: 'stsb' });
  const mean = ds.examples.reduce((a, e) => a + (e.label as number) * 5, 0) / 1500;
  assert.ok(Math.abs(o.label.mean - mean) < 1e-3, `mean ${o.label.mean} vs ${mean}`);
  const lens = ds.examples.map((e) => tok.countTokens(e.texts[1])).sort((a, b) => a - b);
  const s2 = o.tokens.columns.sentence2;
  assert.deepEqual([s2.texts, s2.min, s2.p50, s2.p90, s2.p99, s2.max], [1500, lens[0], pct(lens, 50), pct(lens, 90), pct(lens, 99), lens[1499]]);
  assert.equal(o.tokens.maxSeqLength, 512, "the tokenizer's model_max_length");
  assert.equal(s2.overMaxSeqLength, 0);
});

test('inspect the MRPC train split: 4,076 pairs, 2,753 paraphrases', { skip: sharedMissing(MRPC, MINILM_TOKENIZER) }, async () => {
  const r = await cli('data', 'inspect', MRPC, '--tokenizer', MINILM_TOKENIZER, '--max-seq-length', '32');
  assertExit(r, 0, '(mrpc): 4076 rows, 4076 good, 0 bad', 'label: class, 4076 values (0: 1323, 1: 2753)');
  const o = JSON.parse(r.stdout) as Record<string, any>;
  assert.equal(o.format, 'mrpc', 'the format comes from the file name');
  assert.deepEqual(o.label.classes, { 0: 1323, 1: 2753 });
  for (const role of ['sentence1', 'sentence2']) {
    const s = o.tokens.columns[role];
    assert.equal(s.texts, 4076);
    assert.ok(s.overMaxSeqLength > 0 && s.overMaxSeqLength < 4076, `${role}: ${s.overMaxSeqLength} over 32 tokens`);
    assert.ok(s.p90 > 32 === s.overMaxSeqLength > 407, `${role}: p90 ${s.p90} and ${s.overMaxSeqLength} over 32 agree`);
  }
});
