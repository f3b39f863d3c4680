// Loading damaged model directories: every corruption of a small valid model (its config files,
// modules.json, the pooling config, model.safetensors) is refused with a message that names the
// file and the problem, never a TypeError or a crash. Half-precision checkpoints, checkpoints
// with extra tensors or a `bert.` name prefix load and save back unchanged; saving is
// deterministic, and `create` with one seed gives the same bytes every time.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import {
  float32ToBF16, float32ToF16, parseSafetensors, serializeSafetensors, toFloat32, type SafeTensor,
} from '../src/models/safetensors.js';
import { MINILM_TOKENIZER, sharedMissing } from './helpers/shared.js';

const skip = sharedMissing(MINILM_TOKENIZER);
const TEXTS = ['A man is playing a guitar.', 'The weather is lovely today.', 'hello', ''];
const TINY = { tokenizerDir: MINILM_TOKENIZER, hidden: 16, layers: 1, heads: 2, intermediate: 32 };

let root = '';
let base = '';
let baseEmb: Float32Array;
let variantCount = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'sk-model-errors-'));
  if (skip) return;
  base = join(root, 'base');
  const model = await SentenceTransformer.create(TINY);
  await model.save(base);
  await model.close();
  const loaded = await SentenceTransformer.load(base, { threads: 1 });
  baseEmb = (await loaded.encodeMatrix(TEXTS)).data;
  await loaded.close();
});

after(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** A fresh copy of the valid model, changed by `damage`. */
async function variant(damage: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(root, `variant-${variantCount++}`);
  await cp(base, dir, { recursive: true });
  await damage(dir);
  return dir;
}

async function readJson(path: string): Promise<any> {
  return JSON.parse(await readFile(path, 'utf8'));
}

async function editJson(path: string, edit: (obj: any) => void): Promise<void> {
  const obj = await readJson(path);
  edit(obj);
  await writeFile(path, JSON.stringify(obj, null, 2));
}

/** Loads `dir`, expecting a clear error whose message contains every part; returns the message. */
async function expectLoadError(dir: string, ...parts: Array<string | RegExp>): Promise<string> {
  let caught: unknown;
  try {
    const m = await SentenceTransformer.load(dir, { threads: 1 });
    await m.encodeMatrix(['hi']);
    await m.close();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, `loading ${dir} succeeded; expected an error`);
  assert.ok(caught instanceof Error, `expected an Error, got ${String(caught)}`);
  for (const bad of [TypeError, RangeError, SyntaxError, ReferenceError]) {
    assert.ok(!(caught instanceof bad), `got a ${caught.name} instead of a clear message: ${caught.message}`);
  }
  for (const p of parts) {
    if (typeof p === 'string') assert.ok(caught.message.includes(p), `message ${JSON.stringify(caught.message)} lacks ${JSON.stringify(p)}`);
    else assert.match(caught.message, p);
  }
  return caught.message;
}

const stPath = (dir: string): string => join(dir, 'model.safetensors');

async function readTensors(dir: string): Promise<Map<string, SafeTensor>> {
  return parseSafetensors(await readFile(stPath(dir)), stPath(dir)).tensors;
}

async function writeTensors(dir: string, tensors: Map<string, SafeTensor>): Promise<Uint8Array> {
  const bytes = serializeSafetensors(tensors, { format: 'pt' });
  await writeFile(stPath(dir), bytes);
  return bytes;
}

/** Rewrites the JSON header of model.safetensors in place (the data section is kept as is). */
async function editHeader(dir: string, edit: (header: Record<string, any>) => void): Promise<void> {
  const buf = await readFile(stPath(dir));
  const len = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + len).toString('utf8'));
  edit(header);
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  const head = Buffer.alloc(8 + padded, 0x20);
  head.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(head, 8);
  await writeFile(stPath(dir), Buffer.concat([head, buf.subarray(8 + len)]));
}

async function embed(dir: string): Promise<Float32Array> {
  const m = await SentenceTransformer.load(dir, { threads: 1 });
  try {
    return (await m.encodeMatrix(TEXTS)).data;
  } finally {
    await m.close();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Every file under `dir`, by relative path, with its bytes. */
async function filesOf(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const full = join(e.parentPath, e.name);
    out.set(relative(dir, full), await readFile(full));
  }
  return out;
}

function assertSameFiles(a: Map<string, Buffer>, b: Map<string, Buffer>, what: string): void {
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort(), `${what}: different file lists`);
  for (const [name, bytes] of a) assert.ok(bytes.equals(b.get(name)!), `${what}: ${name} differs`);
}

// ------------------------------------------------------------------ config.json

test('config.json missing: the message names the file', { skip }, async () => {
  const dir = await variant((d) => rm(join(d, 'config.json')));
  await expectLoadError(dir, join(dir, 'config.json'), 'file not found');
});

test('config.json that is not JSON', { skip }, async () => {
  const dir = await variant((d) => writeFile(join(d, 'config.json'), '{ "hidden_size": 16,'));
  await expectLoadError(dir, join(dir, 'config.json'), 'not valid JSON');
});

test('config.json with hidden_size 17 and 2 heads', { skip }, async () => {
  const dir = await variant((d) => editJson(join(d, 'config.json'), (c) => {
    c.hidden_size = 17;
    c.num_attention_heads = 2;
  }));
  await expectLoadError(dir, join(dir, 'config.json'), 'hidden_size 17', 'num_attention_heads 2', 'multiple');
});

test('config.json whose hidden_size does not match the tensors: names the tensor and both shapes', { skip }, async () => {
  const dir = await variant((d) => editJson(join(d, 'config.json'), (c) => {
    c.hidden_size = 32;
  }));
  await expectLoadError(dir, stPath(dir), '"embeddings.word_embeddings.weight"', '[30522, 16]', '[30522, 32]');
});

test('config.json with an unsupported model_type', { skip }, async () => {
  const dir = await variant((d) => editJson(join(d, 'config.json'), (c) => {
    c.model_type = 'gpt2';
  }));
  await expectLoadError(dir, join(dir, 'config.json'), 'model_type "gpt2"', 'not supported');
});

// ------------------------------------------------------------------ modules.json and Pooling

test('modules.json that is not JSON', { skip }, async () => {
  const dir = await variant((d) => writeFile(join(d, 'modules.json'), '[{"idx": 0,'));
  await expectLoadError(dir, join(dir, 'modules.json'), 'not valid JSON');
});

test('modules.json that is not an array', { skip }, async () => {
  const dir = await variant((d) => writeFile(join(d, 'modules.json'), '{"idx": 0}'));
  await expectLoadError(dir, join(dir, 'modules.json'), 'array');
});

test('modules.json with an unknown module type', { skip }, async () => {
  const dir = await variant((d) => editJson(join(d, 'modules.json'), (mods) => {
    mods[1].type = 'sentence_transformers.models.LSTM';
  }));
  await expectLoadError(dir, join(dir, 'modules.json'), '"sentence_transformers.models.LSTM"', 'not supported');
});

test('modules.json with a path that leaves the model directory', { skip }, async () => {
  const dir = await variant((d) => editJson(join(d, 'modules.json'), (mods) => {
    mods[1].path = '../x';
  }));
  await expectLoadError(dir, join(dir, 'modules.json'), '"../x"', 'leaves the model directory');
});

test('1_Pooling/config.json with no pooling mode enabled', { skip }, async () => {
  const dir = await variant((d) => editJson(join(d, '1_Pooling', 'config.json'), (c) => {
    for (const k of Object.keys(c)) if (k.startsWith('pooling_mode_')) c[k] = false;
  }));
  await expectLoadError(dir, join(dir, '1_Pooling', 'config.json'), 'no pooling mode is enabled');
});

test('1_Pooling/config.json whose word_embedding_dimension is not the hidden size', { skip }, async () => {
  const dir = await variant((d) => editJson(join(d, '1_Pooling', 'config.json'), (c) => {
    c.word_embedding_dimension = 32;
  }));
  await expectLoadError(dir, join(dir, '1_Pooling', 'config.json'), 'word_embedding_dimension 32', 'hidden_size 16');
});

test('modules.json that puts Normalize before Pooling', { skip }, async () => {
  const dir = await variant((d) => editJson(join(d, 'modules.json'), (mods) => {
    [mods[1], mods[2]] = [mods[2], mods[1]];
  }));
  await expectLoadError(dir, join(dir, 'modules.json'), 'Normalize', 'before any Pooling module');
});

test('a Dense module that does not fit the pooling output, or has an unknown activation', { skip }, async () => {
  const withDense = join(root, 'with-dense');
  const m = await SentenceTransformer.create({ ...TINY, dense: 8 });
  await m.save(withDense);
  await m.close();
  const denseCfg = (d: string): string => join(d, '2_Dense', 'config.json');
  const copy = async (edit: (d: string) => Promise<void>): Promise<string> => {
    const d = join(root, `variant-${variantCount++}`);
    await cp(withDense, d, { recursive: true });
    await edit(d);
    return d;
  };
  assert.equal((await embed(withDense)).length, TEXTS.length * 8);
  // two pooling modes: 32 values reach a Dense layer made for 16
  const wide = await copy((d) => editJson(join(d, '1_Pooling', 'config.json'), (c) => {
    c.pooling_mode_cls_token = true;
  }));
  await expectLoadError(wide, denseCfg(wide), 'in_features 16', '32-dimensional');
  const act = await copy((d) => editJson(denseCfg(d), (c) => {
    c.activation_function = 'torch.nn.modules.activation.Softsign';
  }));
  await expectLoadError(act, denseCfg(act), '"torch.nn.modules.activation.Softsign"', 'not supported');
  const shape = await copy((d) => editJson(denseCfg(d), (c) => {
    c.out_features = 9;
  }));
  await expectLoadError(shape, join(shape, '2_Dense', 'model.safetensors'), '"linear.weight"', '[8, 16]', '[9, 16]');
});

test('a plain Hugging Face model directory (no modules.json) loads with mean pooling', { skip }, async () => {
  const dir = await variant((d) => rm(join(d, 'modules.json')));
  const m = await SentenceTransformer.load(dir, { threads: 1 });
  assert.deepEqual(m.info().modules, ['Transformer', 'Pooling']);
  const emb = (await m.encodeMatrix(TEXTS, { normalize: true })).data;
  await m.close();
  const diff = maxAbsDiff(emb, baseEmb);
  assert.ok(diff < 1e-6, `mean pooling + normalize differs from the saved model by ${diff}`);
});

// ------------------------------------------------------------------ model.safetensors

test('model.safetensors truncated by 1000 bytes', { skip }, async () => {
  const dir = await variant(async (d) => {
    const b = await readFile(stPath(d));
    await writeFile(stPath(d), b.subarray(0, b.length - 1000));
  });
  await expectLoadError(dir, stPath(dir), 'truncated');
});

test('model.safetensors whose header length is larger than the file', { skip }, async () => {
  let size = 0;
  const dir = await variant(async (d) => {
    const b = await readFile(stPath(d));
    size = b.length;
    b.writeBigUInt64LE(BigInt(b.length + 100), 0);
    await writeFile(stPath(d), b);
  });
  await expectLoadError(dir, stPath(dir), `header length ${size + 100}`, `${size}-byte file`);
});

test('model.safetensors with overlapping data offsets', { skip }, async () => {
  const dir = await variant((d) => editHeader(d, (h) => {
    // both [16] float32: give the weight the bias's bytes
    h['embeddings.LayerNorm.weight'].data_offsets = [...h['embeddings.LayerNorm.bias'].data_offsets];
  }));
  await expectLoadError(dir, stPath(dir), 'overlap', '"embeddings.LayerNorm.weight"', '"embeddings.LayerNorm.bias"');
});

test('model.safetensors with an unknown dtype', { skip }, async () => {
  const dir = await variant((d) => editHeader(d, (h) => {
    h['embeddings.LayerNorm.bias'].dtype = 'F7';
  }));
  await expectLoadError(dir, stPath(dir), '"embeddings.LayerNorm.bias"', 'unknown dtype "F7"');
});

test('model.safetensors without one of the encoder tensors', { skip }, async () => {
  const dir = await variant(async (d) => {
    const tensors = await readTensors(d);
    assert.ok(tensors.delete('encoder.layer.0.output.dense.bias'));
    await writeTensors(d, tensors);
  });
  await expectLoadError(dir, stPath(dir), '"encoder.layer.0.output.dense.bias"', 'missing');
});

test('model.safetensors missing altogether', { skip }, async () => {
  const dir = await variant((d) => rm(stPath(d)));
  await expectLoadError(dir, stPath(dir), 'not found');
});

// ------------------------------------------------------------------ checkpoints that must load

for (const [dtype, convert] of [['F16', float32ToF16], ['BF16', float32ToBF16]] as const) {
  test(`a ${dtype} checkpoint loads, encodes within 1e-2 of float32 and saves back in ${dtype}`, { skip }, async () => {
    let written: Uint8Array = new Uint8Array(0);
    const dir = await variant(async (d) => {
      const tensors = await readTensors(d);
      const half = new Map<string, SafeTensor>();
      for (const [name, t] of tensors) {
        half.set(name, t.dtype === 'F32' ? { dtype, shape: t.shape, data: new Uint8Array(convert(toFloat32(t, name)).buffer) } : t);
      }
      written = await writeTensors(d, half);
    });
    const emb = await embed(dir);
    for (const v of emb) assert.ok(Number.isFinite(v));
    const diff = maxAbsDiff(emb, baseEmb);
    assert.ok(diff <= 1e-2, `${dtype} embeddings differ from float32 by ${diff}`);
    // saving keeps the checkpoint's dtype, and half → float32 → half is exact
    const m = await SentenceTransformer.load(dir, { threads: 1 });
    const out = join(root, `resaved-${dtype}`);
    await m.save(out);
    await m.close();
    const saved = await readTensors(out);
    for (const t of saved.values()) assert.equal(t.dtype, dtype);
    assert.ok(Buffer.from(await readFile(stPath(out))).equals(Buffer.from(written)), `${dtype} model.safetensors changed on save`);
  });
}

test('extra tensors (position_ids, pooler) load and are written back unchanged', { skip }, async () => {
  const positionIds = new BigInt64Array(512);
  for (let i = 0; i < 512; i++) positionIds[i] = BigInt(i);
  let input = new Map<string, SafeTensor>();
  const dir = await variant(async (d) => {
    input = await readTensors(d);
    assert.ok(input.has('pooler.dense.weight') && input.has('pooler.dense.bias'), 'create() writes a pooler as BertModel does');
    input.set('embeddings.position_ids', { dtype: 'I64', shape: [1, 512], data: new Uint8Array(positionIds.buffer) });
    await writeTensors(d, input);
  });
  const emb = await embed(dir);
  assert.equal(maxAbsDiff(emb, baseEmb), 0);
  const m = await SentenceTransformer.load(dir, { threads: 1 });
  const out = join(root, 'resaved-extra');
  await m.save(out);
  await m.close();
  const saved = await readTensors(out);
  for (const name of ['embeddings.position_ids', 'pooler.dense.weight', 'pooler.dense.bias']) {
    const a = input.get(name)!;
    const b = saved.get(name);
    assert.ok(b, `${name} was dropped on save`);
    assert.equal(b.dtype, a.dtype, name);
    assert.deepEqual(b.shape, a.shape, name);
    assert.ok(Buffer.from(b.data).equals(Buffer.from(a.data)), `${name} bytes changed on save`);
  }
  assert.ok((await readFile(stPath(out))).equals(await readFile(stPath(dir))), 'model.safetensors changed on save');
});

test('a checkpoint whose names carry a "bert." prefix loads and saves back with the prefix', { skip }, async () => {
  const dir = await variant(async (d) => {
    const prefixed = new Map<string, SafeTensor>();
    for (const [name, t] of await readTensors(d)) prefixed.set(`bert.${name}`, t);
    await writeTensors(d, prefixed);
  });
  const emb = await embed(dir);
  assert.equal(maxAbsDiff(emb, baseEmb), 0);
  const m = await SentenceTransformer.load(dir, { threads: 1 });
  const out = join(root, 'resaved-prefix');
  await m.save(out);
  await m.close();
  const names = [...(await readTensors(out)).keys()];
  assert.ok(names.length > 0);
  for (const n of names) assert.ok(n.startsWith('bert.'), `tensor ${n} lost its prefix`);
  assert.ok((await readFile(stPath(out))).equals(await readFile(stPath(dir))), 'model.safetensors changed on save');
});

// ------------------------------------------------------------------ directories

test('a directory that does not exist and is not a hub id', { skip }, async () => {
  const missing = join(root, 'no-such-model');
  await expectLoadError(missing, missing, 'no such directory');
});

test('a file given instead of a directory', { skip }, async () => {
  await expectLoadError(join(base, 'config.json'), join(base, 'config.json'), 'is a file');
});

// ------------------------------------------------------------------ encoding and determinism

test('encoding empty strings gives one finite row per text', { skip }, async () => {
  const m = await SentenceTransformer.load(base, { threads: 1 });
  const texts = ['', 'words', '', ''];
  const out = await m.encodeMatrix(texts, { batchSize: 3 });
  await m.close();
  assert.equal(out.rows, texts.length);
  assert.equal(out.data.length, texts.length * out.dim);
  for (const v of out.data) assert.ok(Number.isFinite(v), `non-finite value ${v}`);
  const dim = out.dim;
  for (let r = 0; r < out.rows; r++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += out.data[r * dim + j] ** 2;
    assert.ok(Math.abs(Math.sqrt(s) - 1) < 1e-5, `row ${r} is not unit length (the model has a Normalize module)`);
  }
  // the empty strings are the same text: the same row
  assert.equal(maxAbsDiff(out.data.subarray(0, dim), out.data.subarray(2 * dim, 3 * dim)), 0);
});

test('save → load → save writes byte-identical files', { skip }, async () => {
  const first = join(root, 'roundtrip-1');
  const second = join(root, 'roundtrip-2');
  const a = await SentenceTransformer.load(base, { threads: 1 });
  await a.save(first);
  const b = await SentenceTransformer.load(first, { threads: 1 });
  await b.save(second);
  const files = await filesOf(second);
  for (const f of ['model.safetensors', 'config.json', 'modules.json', 'config_sentence_transformers.json',
    'sentence_bert_config.json', join('1_Pooling', 'config.json')]) {
    assert.ok(files.has(f), `${f} not written`);
  }
  assertSameFiles(await filesOf(base), await filesOf(first), 'create → save vs load → save');
  assertSameFiles(await filesOf(first), files, 'save → load → save');
});

test('create with the same seed gives identical bytes; another seed differs', { skip }, async () => {
  const dirs = [join(root, 'seed-7a'), join(root, 'seed-7b'), join(root, 'seed-8')];
  for (const [i, seed] of [7, 7, 8].entries()) {
    const m = await SentenceTransformer.create({ ...TINY, seed });
    await m.save(dirs[i]);
  }
  assertSameFiles(await filesOf(dirs[0]), await filesOf(dirs[1]), 'seed 7 twice');
  const w7 = await readFile(stPath(dirs[0]));
  const w8 = await readFile(stPath(dirs[2]));
  assert.equal(w7.length, w8.length);
  assert.ok(!w7.equals(w8), 'seeds 7 and 8 gave the same weights');
});
