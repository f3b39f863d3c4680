// The `sentencekit` command line, run as a child process: help and usage errors (exit 2),
// create-model (same seed → same bytes), info, and encode of text and JSON-lines files into
// .npy and .jsonl, checked row by row against SentenceTransformer.encodeMatrix; input and
// model errors exit 1 with a message that says where the problem is.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { parseNpy } from '../src/io/npy.js';
import { MINILM_TOKENIZER, sharedMissing } from './helpers/shared.js';
import { assertExit, cli } from './helpers/cli.js';

const skip = sharedMissing(MINILM_TOKENIZER);
const MODEL_ARGS = ['--tokenizer', MINILM_TOKENIZER, '--hidden', '16', '--layers', '1', '--heads', '2', '--intermediate', '32'];


let root = '';
let model = ''; // --seed 5, default max_seq_length, Normalize
let shortModel = ''; // --max-seq-length 8, no Normalize
let st: SentenceTransformer | null = null;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'sk-cli-'));
  if (skip) return;
  model = join(root, 'model-a');
  assertExit(await cli('create-model', ...MODEL_ARGS, '--seed', '5', '--out', model), 0, 'created');
  shortModel = join(root, 'model-short');
  assertExit(await cli('create-model', ...MODEL_ARGS, '--max-seq-length', '8', '--no-normalize', '--out', shortModel), 0);
  st = await SentenceTransformer.load(model, { threads: 1 });
});

after(async () => {
  await st?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

async function expected(texts: string[], m: SentenceTransformer | null = st): Promise<{ data: Float32Array; dim: number }> {
  assert.ok(m);
  const e = await m.encodeMatrix(texts);
  return { data: e.data, dim: e.dim };
}

function assertRowsClose(got: ArrayLike<number>, want: Float32Array, what: string, tol = 1e-6): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} values, expected ${want.length}`);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  assert.ok(worst <= tol, `${what}: max |diff| ${worst} > ${tol}`);
}

async function readNpyFile(path: string): Promise<{ shape: number[]; data: Float32Array }> {
  return parseNpy(await readFile(path), path);
}

async function readJsonlEmbeddings(path: string): Promise<number[][]> {
  const lines = (await readFile(path, 'utf8')).split('\n');
  assert.equal(lines.pop(), '', 'the .jsonl output ends with a newline');
  return lines.map((l) => {
    const o = JSON.parse(l) as { embedding: number[] };
    assert.ok(Array.isArray(o.embedding));
    return o.embedding;
  });
}

async function filesOf(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.set(relative(dir, join(e.parentPath, e.name)), await readFile(join(e.parentPath, e.name)));
  }
  return out;
}

// ------------------------------------------------------------------ help and usage errors

test('--help lists the commands', async () => {
  const r = await cli('--help');
  assert.equal(r.code, 0, r.stderr);
  for (const c of ['create-model', 'encode', 'info', 'quickstart']) assert.ok(r.stdout.includes(c), `--help does not list ${c}:\n${r.stdout}`);
});

test('an unknown command exits 2 and says so', async () => {
  assertExit(await cli('frobnicate'), 2, 'unknown command "frobnicate"', 'create-model');
});

test('create-model without --hidden exits 2 naming --hidden', { skip }, async () => {
  const out = join(root, 'no-hidden');
  const r = await cli('create-model', '--tokenizer', MINILM_TOKENIZER, '--layers', '1', '--heads', '2', '--intermediate', '32', '--out', out);
  assertExit(r, 2, '--hidden');
  assert.ok(!existsSync(out), 'a model was written despite the error');
});

test('create-model with --hidden 30 --heads 4 exits 2', { skip }, async () => {
  const out = join(root, 'bad-heads');
  const r = await cli('create-model', '--tokenizer', MINILM_TOKENIZER, '--hidden', '30', '--layers', '1', '--heads', '4', '--intermediate', '32', '--out', out);
  assertExit(r, 2, '--hidden 30', '--heads 4', 'multiple');
  assert.ok(!existsSync(out), 'a model was written despite the error');
});

test('create-model with the same seed writes identical bytes', { skip }, async () => {
  const again = join(root, 'model-a-again');
  assertExit(await cli('create-model', ...MODEL_ARGS, '--seed', '5', '--out', again), 0);
  const a = await filesOf(model);
  const b = await filesOf(again);
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  assert.ok(a.has('model.safetensors') && a.has('modules.json') && a.has(join('1_Pooling', 'config.json')));
  for (const [name, bytes] of a) assert.ok(bytes.equals(b.get(name)!), `${name} differs between two runs with --seed 5`);
});

// ------------------------------------------------------------------ info

test('info prints JSON with parameters, dimension, max_seq_length and pooling', { skip }, async () => {
  const r = await cli('info', '--model', model);
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.ok(st);
  assert.equal(info.parameters, st.parameterCount());
  assert.equal(typeof info.parameters, 'number');
  assert.equal(info.dimension, 16);
  assert.equal(info.max_seq_length, 256);
  assert.deepEqual(info.pooling, ['mean']);
  assert.equal(info.normalize, true);
  assert.deepEqual(info, JSON.parse(JSON.stringify({ model, ...st.info() })));
});

// ------------------------------------------------------------------ encode

const LINES = ['The quick brown fox jumps over the lazy dog.', '', 'a line that ends in CRLF', 'last line, no newline'];
const TEXT_FILE_CONTENT = `${LINES[0]}\n${LINES[1]}\n${LINES[2]}\r\n${LINES[3]}`;

test('encode a text file (empty line, CRLF line) to .npy', { skip }, async () => {
  const input = join(root, 'lines.txt');
  await writeFile(input, TEXT_FILE_CONTENT);
  const output = join(root, 'lines.npy');
  assertExit(await cli('encode', '--model', model, '--input', input, '--output', output, '--threads', '1'), 0, 'encoded 4 texts', 'none truncated');
  const npy = await readNpyFile(output);
  assert.deepEqual(npy.shape, [LINES.length, 16]);
  const want = await expected(LINES);
  assertRowsClose(npy.data, want.data, '.npy rows vs encodeMatrix');
});

test('encode with no --output writes INPUT.npy', { skip }, async () => {
  const input = join(root, 'default-out.txt');
  await writeFile(input, 'one\ntwo\n');
  assertExit(await cli('encode', '--model', model, '--input', input, '--threads', '1'), 0);
  const npy = await readNpyFile(`${input}.npy`);
  assert.deepEqual(npy.shape, [2, 16]);
  assertRowsClose(npy.data, (await expected(['one', 'two'])).data, 'default output');
});

test('encode a text file to .jsonl', { skip }, async () => {
  const input = join(root, 'lines-jsonl.txt');
  await writeFile(input, TEXT_FILE_CONTENT);
  const output = join(root, 'lines.jsonl');
  assertExit(await cli('encode', '--model', model, '--input', input, '--output', output, '--threads', '1'), 0);
  const rows = await readJsonlEmbeddings(output);
  assert.equal(rows.length, LINES.length);
  for (const r of rows) assert.equal(r.length, 16);
  assertRowsClose(rows.flat(), (await expected(LINES)).data, '.jsonl rows vs encodeMatrix');
});

test('encode JSON lines: the "text" field, and another field with --field', { skip }, async () => {
  const records = [
    { id: 1, text: 'first record', body: 'the body of the first' },
    { id: 2, text: '', body: 'second body' },
    { id: 3, text: 'third one', body: '' },
  ];
  const input = join(root, 'records.jsonl');
  // a blank line between records is skipped
  await writeFile(input, `${JSON.stringify(records[0])}\n\n${JSON.stringify(records[1])}\r\n${JSON.stringify(records[2])}\n`);
  const byText = join(root, 'records-text.npy');
  assertExit(await cli('encode', '--model', model, '--input', input, '--output', byText, '--threads', '1'), 0);
  const a = await readNpyFile(byText);
  assert.deepEqual(a.shape, [3, 16]);
  assertRowsClose(a.data, (await expected(records.map((r) => r.text))).data, 'text field');
  const byBody = join(root, 'records-body.npy');
  assertExit(await cli('encode', '--model', model, '--input', input, '--output', byBody, '--field', 'body', '--threads', '1'), 0);
  const b = await readNpyFile(byBody);
  assert.deepEqual(b.shape, [3, 16]);
  assertRowsClose(b.data, (await expected(records.map((r) => r.body))).data, '--field body');
});

test('a JSON-lines file with a bad line exits 1 naming the line, and leaves no output', { skip }, async () => {
  const input = join(root, 'bad.jsonl');
  await writeFile(input, '{"text": "fine"}\n{"text": "also fine"}\n{"text": oops}\n{"text": "never read"}\n');
  const output = join(root, 'bad.npy');
  assertExit(await cli('encode', '--model', model, '--input', input, '--output', output), 1, input, 'line 3', 'not valid JSON');
  assert.ok(!existsSync(output), 'a partial .npy was left behind');
  const missing = join(root, 'no-field.jsonl');
  await writeFile(missing, '{"text": "fine"}\n{"title": "no text here"}\n');
  assertExit(await cli('encode', '--model', model, '--input', missing, '--output', join(root, 'no-field.npy')), 1, 'line 2', '"text"', 'title');
});

test('--normalize gives unit rows', { skip }, async () => {
  const input = join(root, 'norm.txt');
  await writeFile(input, 'short\nsome longer words here\n\n');
  const norm = (data: Float32Array, dim: number): number[] =>
    Array.from({ length: data.length / dim }, (_, r) => Math.hypot(...data.subarray(r * dim, (r + 1) * dim)));
  const plain = join(root, 'norm-plain.npy');
  assertExit(await cli('encode', '--model', shortModel, '--input', input, '--output', plain, '--threads', '1'), 0);
  const p = await readNpyFile(plain);
  assert.deepEqual(p.shape, [3, 16]);
  assert.ok(norm(p.data, 16).some((n) => Math.abs(n - 1) > 1e-3), 'the model without Normalize already gives unit rows; the test proves nothing');
  const normalized = join(root, 'norm.npy');
  assertExit(await cli('encode', '--model', shortModel, '--input', input, '--output', normalized, '--normalize', '--threads', '1'), 0);
  const n = await readNpyFile(normalized);
  assert.deepEqual(n.shape, [3, 16]);
  for (const v of norm(n.data, 16)) assert.ok(Math.abs(v - 1) < 1e-5, `row norm ${v}`);
});

test('--output with another extension exits 2', { skip }, async () => {
  const input = join(root, 'ext.txt');
  await writeFile(input, 'hello\n');
  assertExit(await cli('encode', '--model', model, '--input', input, '--output', join(root, 'foo.txt')), 2, 'foo.txt', '.npy or .jsonl');
});

test('a model directory that does not exist exits 1 with a clear message', { skip }, async () => {
  const input = join(root, 'nomodel.txt');
  await writeFile(input, 'hello\n');
  const missing = join(root, 'no-such-model');
  assertExit(await cli('encode', '--model', missing, '--input', input, '--output', join(root, 'nomodel.npy')), 1, missing, 'no such directory');
  assertExit(await cli('info', '--model', missing), 1, missing, 'no such directory');
});

test('an input file that does not exist exits 1 naming it', { skip }, async () => {
  const input = join(root, 'absent.txt');
  const output = join(root, 'absent.npy');
  assertExit(await cli('encode', '--model', model, '--input', input, '--output', output), 1, input);
  assert.ok(!existsSync(output), 'an output was left behind');
});

test('stderr counts the texts truncated to max_seq_length', { skip }, async () => {
  const input = join(root, 'long.txt');
  await writeFile(input, 'short\nthis line has many more than eight word pieces in it for sure\nhi\n');
  const output = join(root, 'long.npy');
  const r = await cli('encode', '--model', shortModel, '--input', input, '--output', output, '--threads', '1');
  assertExit(r, 0, /1 text\(s\) longer than max_seq_length 8 were truncated/);
  const npy = await readNpyFile(output);
  assert.deepEqual(npy.shape, [3, 16]);
  const m = await SentenceTransformer.load(shortModel, { threads: 1 });
  try {
    assert.equal(m.maxSeqLength, 8);
    const want = await expected(['short', 'this line has many more than eight word pieces in it for sure', 'hi'], m);
    assertRowsClose(npy.data, want.data, 'truncated rows');
  } finally {
    await m.close();
  }
});
