// Compact embeddings on the command line: `sentencekit encode --precision` writes int8 / uint8
// (ranges from a --calibration .npy) and binary / ubinary .npy files with numpy's 8-bit dtypes,
// and JSON lines, equal to encodeCompact on the same texts; int8 without --calibration and a
// calibration file of the wrong width are refused; without --precision the float32 output is
// unchanged.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { encodeCompact } from '../src/export/compact.js';
import { npyHeader8 } from '../src/export/compact_output.js';
import { parseNpy } from '../src/io/npy.js';
import { SAMPLE_SENTENCES } from '../src/cli/samples.js';
import { MINILM_TOKENIZER, sharedMissing } from './helpers/shared.js';

const skip = sharedMissing(MINILM_TOKENIZER);
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const TEXTS = [...SAMPLE_SENTENCES];

let root = '';
let modelDir = '';
let input = '';
let model: SentenceTransformer | null = null;

before(async () => {
  if (skip) return;
  root = await mkdtemp(join(tmpdir(), 'sk-compact-'));
  modelDir = join(root, 'model');
  const created = await SentenceTransformer.create({ tokenizerDir: MINILM_TOKENIZER, hidden: 20, layers: 1, heads: 2, intermediate: 32, seed: 11 });
  await created.save(modelDir);
  model = await SentenceTransformer.load(modelDir, { threads: 1 });
  input = join(root, 'texts.txt');
  await writeFile(input, TEXTS.join('\n') + '\n');
});

after(async () => {
  await model?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

function cli(...args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [MAIN, ...args], { cwd: process.cwd(), env: { ...process.env, HF_HUB_OFFLINE: '1', SENTENCEKIT_DEBUG: '' }, timeout: 60_000 }, (err, _o, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? (err.code as number) : 0, stderr });
    });
  });
}

/** Reads a 2-D int8/uint8 .npy as numpy writes it. */
function read8(buf: Uint8Array): { descr: string; shape: number[]; data: Int8Array | Uint8Array } {
  const hlen = buf[8] | (buf[9] << 8);
  const header = new TextDecoder().decode(buf.subarray(10, 10 + hlen));
  const descr = /'descr': '([^']+)'/.exec(header)![1];
  const shape = /'shape': \((\d+), (\d+)\)/.exec(header)!.slice(1).map(Number);
  const body = buf.subarray(10 + hlen);
  return { descr, shape, data: descr === '|i1' ? new Int8Array(body.buffer, body.byteOffset, body.length) : new Uint8Array(body.buffer, body.byteOffset, body.length) };
}

test('the 8-bit .npy header is what numpy.save writes (64-byte aligned, room for the row count)', () => {
  const b = npyHeader8(3, 48, true);
  assert.equal(b.length % 64, 0);
  assert.deepEqual(Array.from(b.subarray(0, 8)), [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  assert.equal(b[8] | (b[9] << 8), b.length - 10);
  assert.match(new TextDecoder().decode(b.subarray(10)), /^\{'descr': '\|i1', 'fortran_order': False, 'shape': \(3, 48\), \} +\n$/);
  assert.equal(npyHeader8(0, 48, false).length, npyHeader8(123456789, 48, false).length);
});

test('encode --precision binary / ubinary / int8 / uint8 equals encodeCompact', { skip }, async () => {
  const cal = join(root, 'cal.npy');
  let r = await cli('encode', '--model', modelDir, '--input', input, '--output', cal, '--normalize');
  assert.equal(r.code, 0, r.stderr);
  const calib = parseNpy(await readFile(cal));
  const calibration = { data: calib.data, rows: calib.shape[0], dim: calib.shape[1] };
  for (const precision of ['binary', 'ubinary', 'int8', 'uint8'] as const) {
    const out = join(root, `${precision}.npy`);
    const extra = precision === 'int8' || precision === 'uint8' ? ['--calibration', cal] : [];
    r = await cli('encode', '--model', modelDir, '--input', input, '--output', out, '--normalize', '--precision', precision, '--batch-size', '3', ...extra);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`as ${precision} in`));
    const got = read8(await readFile(out));
    const want = await encodeCompact(model!, TEXTS, { precision, normalize: true, batchSize: 3, ...(extra.length ? { calibration } : {}) });
    assert.equal(got.descr, precision === 'int8' || precision === 'binary' ? '|i1' : '|u1');
    assert.deepEqual(got.shape, [TEXTS.length, want.cols]);
    assert.equal(want.cols, precision.endsWith('binary') ? 3 : 20);
    assert.deepEqual(Array.from(got.data), Array.from(want.data), precision);
  }
  // JSON lines of integers
  const jl = join(root, 'bits.jsonl');
  r = await cli('encode', '--model', modelDir, '--input', input, '--output', jl, '--precision', 'ubinary');
  assert.equal(r.code, 0, r.stderr);
  const rows = (await readFile(jl, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { embedding: number[] }).embedding);
  const want = await encodeCompact(model!, TEXTS, { precision: 'ubinary' });
  assert.deepEqual(rows.flat(), Array.from(want.data));
});

test('encode --precision int8 without --calibration, or with one of the wrong width, is refused and writes nothing', { skip }, async () => {
  const out = join(root, 'refused.npy');
  let r = await cli('encode', '--model', modelDir, '--input', input, '--output', out, '--precision', 'int8');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--precision int8 needs --calibration FILE\.npy/);
  const wrong = join(root, 'wrong.npy');
  r = await cli('encode', '--model', modelDir, '--input', input, '--output', wrong, '--truncate-dim', '8');
  assert.equal(r.code, 0, r.stderr);
  r = await cli('encode', '--model', modelDir, '--input', input, '--output', out, '--precision', 'uint8', '--calibration', wrong);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /wrong\.npy: calibration embeddings have shape \[\d+, 8\], expected \[rows, 20\]/);
  r = await cli('encode', '--model', modelDir, '--input', input, '--output', out, '--precision', 'int4');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--precision must be one of float32, int8, uint8, binary, ubinary, got "int4"/);
  r = await cli('encode', '--model', modelDir, '--input', input, '--output', out, '--precision', 'binary', '--calibration', wrong);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--calibration applies to --precision int8 or uint8 only/);
  assert.equal(existsSync(out), false);
});

test('without --precision (or with float32) encode still writes float32 embeddings', { skip }, async () => {
  const a = join(root, 'plain.npy');
  const b = join(root, 'f32.npy');
  assert.equal((await cli('encode', '--model', modelDir, '--input', input, '--output', a)).code, 0);
  assert.equal((await cli('encode', '--model', modelDir, '--input', input, '--output', b, '--precision', 'float32')).code, 0);
  const pa = parseNpy(await readFile(a));
  assert.deepEqual(pa.shape, [TEXTS.length, 20]);
  assert.deepEqual(await readFile(a), await readFile(b));
  const m = await model!.encodeMatrix(TEXTS);
  assert.deepEqual(pa.data, m.data);
});
