// ONNX export (`exportModel`, `sentencekit export`) of small random models with the MiniLM
// tokenizer: the float32 sentence graph run by onnxruntime-node on its own equals `encode`;
// model.onnx + mean pooling + L2 normalisation in JS equals `encode`; transformers.js's
// feature-extraction pipeline on the exported folder equals `encode` (when the package is
// installed); int8 / uint8 / fp16 copies stay close to float32 (cosine > 0.99 per row) and the
// int8 graph is fused by onnxruntime into DynamicQuantizeMatMul; an opset that is too low, an
// unknown module or a foreign output folder are refused before anything is written; an export
// that fails half-way leaves the previous one intact; backend 'onnx' loads the exported files;
// encodeCompact quantises as quantizeEmbeddings does.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { exportModel, ExportError, type ExportMetadata } from '../src/export/export_model.js';
import { encodeCompact } from '../src/export/compact.js';
import { quantizeWeight } from '../src/export/quantize_graph.js';
import { quantizeEmbeddings } from '../src/evaluation/quantize.js';
import { parseModelProto } from '../src/graph/serialise.js';
import { Session } from '../src/runtime/session.js';
import { SAMPLE_SENTENCES } from '../src/cli/samples.js';
import { MINILM_TOKENIZER, sharedMissing } from './helpers/shared.js';

const skip = sharedMissing(MINILM_TOKENIZER);
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const TEXTS = [...SAMPLE_SENTENCES, 'Short.', 'A rather longer sentence, with punctuation, numbers like 42 and a few rarer words: quantisation, tokenizer.'];

let root = '';
let src = ''; // saved random model (mean pooling, Normalize)
let out = ''; // its export with int8 and fp16 copies
let model: SentenceTransformer | null = null;
let ref: Float32Array[] = [];

before(async () => {
  if (skip) return;
  root = await mkdtemp(join(tmpdir(), 'sk-export-'));
  src = join(root, 'model');
  out = join(root, 'exported');
  const created = await SentenceTransformer.create({ tokenizerDir: MINILM_TOKENIZER, hidden: 32, layers: 2, heads: 4, intermediate: 64, seed: 3, maxSeqLength: 64 });
  await created.save(src);
  model = await SentenceTransformer.load(src, { threads: 1 });
  ref = (await model.encode(TEXTS)).map((r) => Float32Array.from(r));
  await exportModel(model, out, { quantize: ['int8', 'fp16'] });
});

after(async () => {
  await model?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

/** Token ids of TEXTS as one padded batch, as onnxruntime-node tensors. */
function feeds(m: SentenceTransformer): { feeds: Record<string, ort.Tensor>; mask: BigInt64Array; seq: number } {
  const b = m.tokenizer.pad(m.tokenizer.encodeBatch(TEXTS));
  const dims = [b.batchSize, b.seqLen];
  return {
    feeds: {
      input_ids: new ort.Tensor('int64', b.inputIds, dims),
      attention_mask: new ort.Tensor('int64', b.attentionMask, dims),
      token_type_ids: new ort.Tensor('int64', b.tokenTypeIds, dims),
    },
    mask: b.attentionMask,
    seq: b.seqLen,
  };
}

async function runFile(path: string, f: Record<string, ort.Tensor>, output: string): Promise<ort.Tensor> {
  const s = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    return (await s.run(f, [output]))[output];
  } finally {
    await s.release();
  }
}

async function metadata(dir: string): Promise<ExportMetadata> {
  return JSON.parse(await readFile(join(dir, 'onnx', 'export.json'), 'utf8')) as ExportMetadata;
}

test('the export holds the transformers.js layout, the sentence graph, the quantised copies and export.json', { skip }, async () => {
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt', 'modules.json', 'model.safetensors', '1_Pooling/config.json',
    'onnx/model.onnx', 'onnx/sentence_embedding.onnx', 'onnx/model_quantized.onnx', 'onnx/sentence_embedding_quantized.onnx', 'onnx/model_fp16.onnx', 'onnx/sentence_embedding_fp16.onnx', 'onnx/export.json']) {
    assert.ok(existsSync(join(out, f)), `${f} is missing`);
  }
  const meta = await metadata(out);
  assert.equal(meta.opset, 17);
  assert.equal(meta.dimension, 32);
  assert.deepEqual(meta.pooling, ['mean']);
  assert.equal(meta.normalize, true);
  assert.equal(meta.files.length, 6);
  const enc = meta.files.find((f) => f.path === 'onnx/model.onnx');
  assert.deepEqual(enc?.inputs.map((i) => [i.name, i.dtype, i.shape]), [
    ['input_ids', 'int64', ['batch_size', 'sequence_length']],
    ['attention_mask', 'int64', ['batch_size', 'sequence_length']],
    ['token_type_ids', 'int64', ['batch_size', 'sequence_length']],
  ]);
  assert.deepEqual(enc?.outputs.map((o) => [o.name, o.shape]), [['last_hidden_state', ['batch_size', 'sequence_length', 32]]]);
  const sent = meta.files.find((f) => f.path === 'onnx/sentence_embedding.onnx');
  assert.deepEqual(sent?.outputs.map((o) => o.name), ['token_embeddings', 'sentence_embedding']);
  assert.deepEqual(sent?.outputs[1].shape, ['batch_size', 32]);
  for (const f of meta.files.filter((x) => x.weights !== 'float32')) assert.ok((f.check_cosine_min ?? 0) > 0.99, `${f.path}: ${f.check_cosine_min}`);
  // int8 stores the MatMul weights and the word-embedding table in a byte; fp16 halves the file
  const size = (p: string): number => meta.files.find((f) => f.path === p)!.bytes;
  assert.ok(size('onnx/model_quantized.onnx') < 0.35 * size('onnx/model.onnx'), `${size('onnx/model_quantized.onnx')} vs ${size('onnx/model.onnx')}`);
  assert.ok(size('onnx/model_fp16.onnx') < 0.55 * size('onnx/model.onnx'));
  assert.equal((meta.quantization.int8 as { per_column: boolean }).per_column, true);
  const qf = meta.files.find((f) => f.path === 'onnx/model_quantized.onnx')!.quantized!;
  assert.deepEqual([qf.matmuls, qf.embedding_tables], [8, 1]);
  assert.ok(qf.weight_bytes_after < qf.weight_bytes_before / 3.5);
  // every op in the quantised and fp16 files is a standard ai.onnx op
  for (const f of ['model_quantized.onnx', 'sentence_embedding_fp16.onnx']) {
    const proto = parseModelProto(await readFile(join(out, 'onnx', f)));
    assert.ok(proto.graph?.node?.every((n) => !n.domain), `${f} uses a non-standard domain`);
    assert.deepEqual(proto.opsetImport?.map((o) => o.domain ?? ''), ['']);
  }
  // the folder is also a sentence-transformers model that encodes the same
  const again = await SentenceTransformer.load(out, { threads: 1 });
  try {
    const e = await again.encode(TEXTS);
    for (let i = 0; i < TEXTS.length; i++) assert.ok(maxAbsDiff(e[i], ref[i]) === 0, `row ${i} differs after reloading the export`);
  } finally {
    await again.close();
  }
});

test('the float32 sentence graph run by onnxruntime-node on its own equals encode within 1e-5', { skip }, async () => {
  const { feeds: f } = feeds(model!);
  const t = await runFile(join(out, 'onnx', 'sentence_embedding.onnx'), f, 'sentence_embedding');
  assert.deepEqual(t.dims, [TEXTS.length, 32]);
  const data = t.data as Float32Array;
  for (let i = 0; i < TEXTS.length; i++) assert.ok(maxAbsDiff(data.subarray(i * 32, (i + 1) * 32), ref[i]) < 1e-5, `row ${i}`);
});

test('model.onnx + mean pooling + L2 normalisation in JS equals encode within 1e-5', { skip }, async () => {
  const { feeds: f, mask, seq } = feeds(model!);
  const t = await runFile(join(out, 'onnx', 'model.onnx'), f, 'last_hidden_state');
  const h = t.data as Float32Array;
  const H = 32;
  for (let r = 0; r < TEXTS.length; r++) {
    const v = new Float64Array(H);
    let n = 0;
    for (let s = 0; s < seq; s++) {
      if (mask[r * seq + s] === 0n) continue;
      n++;
      for (let j = 0; j < H; j++) v[j] += h[(r * seq + s) * H + j];
    }
    let norm = 0;
    for (let j = 0; j < H; j++) norm += (v[j] / n) ** 2;
    const e = Array.from(v, (x) => x / n / Math.sqrt(norm));
    assert.ok(maxAbsDiff(e, ref[r]) < 1e-5, `row ${r}: ${maxAbsDiff(e, ref[r])}`);
  }
});

test("transformers.js's feature-extraction pipeline on the exported folder equals encode within 1e-5", { skip }, async (t) => {
  let tjs: typeof import('@huggingface/transformers');
  try {
    tjs = await import('@huggingface/transformers');
  } catch {
    t.skip('@huggingface/transformers is not installed');
    return;
  }
  tjs.env.allowRemoteModels = false;
  tjs.env.allowLocalModels = true;
  tjs.env.localModelPath = dirname(out);
  tjs.env.useFSCache = false;
  const fp32 = await tjs.pipeline('feature-extraction', basename(out), { local_files_only: true, dtype: 'fp32', session_options: { intraOpNumThreads: 1 } } as never);
  try {
    const res = (await fp32(TEXTS, { pooling: 'mean', normalize: true })).tolist() as number[][];
    for (let i = 0; i < TEXTS.length; i++) assert.ok(maxAbsDiff(res[i], ref[i]) < 1e-5, `row ${i}: ${maxAbsDiff(res[i], ref[i])}`);
  } finally {
    await fp32.dispose();
  }
  // dtype q8 loads model_quantized.onnx
  const q8 = await tjs.pipeline('feature-extraction', basename(out), { local_files_only: true, dtype: 'q8', session_options: { intraOpNumThreads: 1 } } as never);
  try {
    const res = (await q8(TEXTS, { pooling: 'mean', normalize: true })).tolist() as number[][];
    for (let i = 0; i < TEXTS.length; i++) assert.ok(cosine(res[i], ref[i]) > 0.99, `row ${i}: cosine ${cosine(res[i], ref[i])}`);
  } finally {
    await q8.dispose();
  }
});

test("backend 'onnx' encodes with the exported files: float32 equal, int8 and fp16 close (cosine > 0.99 per row)", { skip }, async () => {
  for (const [file, check] of [
    ['onnx/sentence_embedding.onnx', 'equal'],
    ['onnx/sentence_embedding_quantized.onnx', 'close'],
    ['onnx/sentence_embedding_fp16.onnx', 'close'],
  ] as const) {
    const m = await SentenceTransformer.load(out, { backend: 'onnx', file, threads: 1 });
    try {
      const e = await m.encode(TEXTS, { batchSize: 4 });
      for (let i = 0; i < TEXTS.length; i++) {
        if (check === 'equal') assert.ok(maxAbsDiff(e[i], ref[i]) < 1e-5, `${file} row ${i}`);
        else assert.ok(cosine(e[i], ref[i]) > 0.99, `${file} row ${i}: cosine ${cosine(e[i], ref[i])}`);
      }
    } finally {
      await m.close();
    }
  }
  // the default file is the float32 sentence graph (here in a worker thread)
  const d = await SentenceTransformer.load(out, { backend: 'onnx', threads: 1, worker: true });
  try {
    const e = await d.encode(TEXTS.slice(0, 2));
    assert.ok(maxAbsDiff(e[0], ref[0]) < 1e-5);
  } finally {
    await d.close();
  }
  // the encoder-only file and a missing file are refused with what to do
  const enc = await SentenceTransformer.load(out, { backend: 'onnx', file: 'onnx/model.onnx', threads: 1 });
  await assert.rejects(enc.encode(['x']), /model\.onnx: the graph has no output "sentence_embedding".*sentence_embedding\*\.onnx/);
  await enc.close();
  await assert.rejects(SentenceTransformer.load(out, { backend: 'onnx', file: 'onnx/nope.onnx' }), /nope\.onnx: file not found; backend 'onnx' runs a file written by `sentencekit export`/);
});

test('onnxruntime fuses the int8 graph into DynamicQuantizeMatMul kernels and folds the fp16 Casts', { skip }, async () => {
  for (const [file, expectOps, absent] of [['model_quantized.onnx', ['DynamicQuantizeMatMul'], 'MatMulInteger'], ['model_fp16.onnx', ['MatMul', 'Gemm', 'FusedMatMul'], 'Cast']] as const) {
    const opt = join(root, `optimised-${file}`);
    const s = await Session.create(await readFile(join(out, 'onnx', file)), { cache: false, threads: 1, optimizedModelPath: opt });
    await s.release();
    const proto = parseModelProto(await readFile(opt));
    const ops = (proto.graph?.node ?? []).map((n) => n.opType);
    const w = (proto.graph?.initializer ?? []).filter((x) => x.dataType === 10).length;
    assert.ok(ops.filter((o) => (expectOps as readonly string[]).includes(o ?? "")).length >= 8, `${file}: ${ops.join(' ')}`);
    if (file === 'model_quantized.onnx') assert.ok(!ops.includes(absent), `${file} still has ${absent}`);
    else assert.equal(w, 0, 'float16 weights were not folded to float32');
  }
});

test('uint8 weights, per-tensor scales and reduce-range also stay close to float32', { skip }, async () => {
  const dir = join(root, 'uint8');
  const res = await exportModel(model!, dir, { quantize: 'uint8', perColumn: false, reduceRange: true, quantizeEmbeddings: false, opset: 18 });
  assert.equal(res.metadata.opset, 18);
  assert.equal((res.metadata.quantization.uint8 as { embedding_tables: unknown }).embedding_tables, null);
  assert.equal(res.metadata.files.find((f) => f.path === 'onnx/model_quantized.onnx')!.quantized!.embedding_tables, 0);
  const m = await SentenceTransformer.load(dir, { backend: 'onnx', file: 'onnx/sentence_embedding_quantized.onnx', threads: 1 });
  try {
    const e = await m.encode(TEXTS);
    for (let i = 0; i < TEXTS.length; i++) assert.ok(cosine(e[i], ref[i]) > 0.99, `row ${i}: cosine ${cosine(e[i], ref[i])}`);
  } finally {
    await m.close();
  }
  // the weight quantiser itself: symmetric int8 per column reconstructs each weight within half a step
  const w = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 3)));
  const q = quantizeWeight(w, 4, 3, true, true, false);
  for (let i = 0; i < 12; i++) assert.ok(Math.abs(q.q[i] * q.scale[i % 3] - w[i]) <= q.scale[i % 3] / 2 + 1e-7);
  const u = quantizeWeight(w, 4, 3, false, false, false);
  for (let i = 0; i < 12; i++) assert.ok(Math.abs((u.q[i] - u.zero![0]) * u.scale[0] - w[i]) <= u.scale[0] / 2 + 1e-6);
});

test('an opset that is too low is refused before anything is written, naming the op and the opset to use', { skip }, async () => {
  const dir = join(root, 'low-opset');
  await assert.rejects(exportModel(model!, dir, { opset: 16 }), (e: Error) => {
    assert.ok(e instanceof ExportError);
    assert.match(e.message, /opset 16 is too low .* LayerNormalization \(opset 17, \d+ nodes\).*--opset 17 or higher\. Nothing was written\./);
    return true;
  });
  assert.equal(existsSync(dir), false);
  assert.deepEqual((await readdir(root)).filter((n) => n.includes('low-opset')), []);
  await assert.rejects(exportModel(model!, dir, { opset: 99 }), /opset 99 is above 23/);
  await assert.rejects(exportModel(model!, dir, { quantize: ['int8', 'uint8'] }), /int8 and uint8 both write onnx\/model_quantized\.onnx/);
  assert.equal(existsSync(dir), false);
});

test('an unknown module type is refused before anything is written', { skip }, async () => {
  const bad = join(root, 'bad-model');
  const created = await SentenceTransformer.create({ tokenizerDir: MINILM_TOKENIZER, hidden: 16, layers: 1, heads: 2, intermediate: 32, seed: 1 });
  await created.save(bad);
  const modules = JSON.parse(await readFile(join(bad, 'modules.json'), 'utf8')) as unknown[];
  modules.push({ idx: modules.length, name: 'lstm', path: '3_LSTM', type: 'sentence_transformers.models.LSTM' });
  await writeFile(join(bad, 'modules.json'), JSON.stringify(modules));
  const dir = join(root, 'bad-export');
  await assert.rejects(exportModel(bad, dir), /modules\.json: module type "sentence_transformers\.models\.LSTM" is not supported/);
  assert.equal(existsSync(dir), false);
  // a module object the exporter does not know (built in code) is refused too
  const odd = await SentenceTransformer.create({ tokenizerDir: MINILM_TOKENIZER, hidden: 16, layers: 1, heads: 2, intermediate: 32, seed: 1 });
  (odd.modules as unknown[]).push({ name: 'x', path: 'x', module: { type: 'my.Custom' } });
  await assert.rejects(exportModel(odd, dir), /module 3 \(path "x"\) has type "my\.Custom", which the ONNX export does not support/);
  assert.equal(existsSync(dir), false);
});

test('an export that fails half-way leaves the previous export intact and no temporary folder behind', { skip }, async () => {
  const dir = join(root, 'replace');
  await exportModel(model!, dir);
  const before = await readFile(join(dir, 'onnx', 'model.onnx'));
  const metaBefore = await readFile(join(dir, 'onnx', 'export.json'), 'utf8');
  const other = await SentenceTransformer.create({ tokenizerDir: MINILM_TOKENIZER, hidden: 16, layers: 1, heads: 2, intermediate: 32, seed: 9 });
  await assert.rejects(exportModel(other, dir, {
    quantize: 'fp16',
    onFile: (rel) => {
      if (rel === 'onnx/sentence_embedding.onnx') throw new Error('simulated failure: disk full');
    },
  }), /simulated failure/);
  assert.deepEqual(await readFile(join(dir, 'onnx', 'model.onnx')), before);
  assert.equal(await readFile(join(dir, 'onnx', 'export.json'), 'utf8'), metaBefore);
  assert.equal(existsSync(join(dir, 'onnx', 'model_fp16.onnx')), false);
  assert.deepEqual((await readdir(root)).filter((n) => n.startsWith('.replace')), []);
  // a complete export replaces it
  const res = await exportModel(other, dir);
  assert.equal(res.metadata.dimension, 16);
  assert.equal((await metadata(dir)).dimension, 16);
  assert.deepEqual((await readdir(root)).filter((n) => n.startsWith('.replace')), []);
});

test('a destination that holds something other than an export is refused', { skip }, async () => {
  const dir = join(root, 'foreign');
  await mkdir(dir);
  await writeFile(join(dir, 'notes.txt'), 'mine');
  await assert.rejects(exportModel(model!, dir), /foreign: the folder is not empty \(notes\.txt\).*It is not an earlier export \(no onnx\/export\.json\)/);
  assert.deepEqual(await readdir(dir), ['notes.txt']);
  // exporting over the source model folder itself is refused the same way
  await assert.rejects(exportModel(src, src), /--out .* is the same folder as --model/);
});

test('a model with cls pooling, Dense and include_prompt false exports a prompt_length input and matches encode with a prompt', { skip }, async () => {
  const dir = join(root, 'dense-src');
  const created = await SentenceTransformer.create({ tokenizerDir: MINILM_TOKENIZER, hidden: 32, layers: 1, heads: 4, intermediate: 64, seed: 4, pooling: ['mean', 'cls'], dense: 24 });
  await created.save(dir);
  const poolCfg = join(dir, '1_Pooling', 'config.json');
  await writeFile(poolCfg, JSON.stringify({ ...JSON.parse(await readFile(poolCfg, 'utf8')), include_prompt: false }));
  const m = await SentenceTransformer.load(dir, { threads: 1 });
  const exp = join(root, 'dense-export');
  const res = await exportModel(m, exp, { quantize: 'int8' });
  const sent = res.metadata.files.find((f) => f.path === 'onnx/sentence_embedding.onnx');
  assert.deepEqual(sent?.inputs.map((i) => i.name), ['input_ids', 'attention_mask', 'token_type_ids', 'prompt_length']);
  assert.equal(res.metadata.dimension, 24);
  assert.equal(res.metadata.include_prompt, false);
  assert.deepEqual(res.metadata.dense.map((d) => d.out_features), [24]);
  const want = await m.encode(TEXTS, { prompt: 'query: ' });
  const o = await SentenceTransformer.load(exp, { backend: 'onnx', threads: 1 });
  const q = await SentenceTransformer.load(exp, { backend: 'onnx', file: 'onnx/sentence_embedding_quantized.onnx', threads: 1 });
  try {
    const got = await o.encode(TEXTS, { prompt: 'query: ' });
    const gotQ = await q.encode(TEXTS, { prompt: 'query: ' });
    for (let i = 0; i < TEXTS.length; i++) {
      assert.ok(maxAbsDiff(got[i], want[i]) < 1e-5, `row ${i}`);
      assert.ok(cosine(gotQ[i], want[i]) > 0.99, `int8 row ${i}: ${cosine(gotQ[i], want[i])}`);
    }
  } finally {
    await Promise.all([m.close(), o.close(), q.close()]);
  }
});

test('a model whose Transformer sits in a sub-folder (0_Transformer) gets config and tokenizer files at the root for transformers.js', { skip }, async () => {
  const dir = join(root, 'nested-src');
  await model!.save(dir);
  await mkdir(join(dir, '0_Transformer'));
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt', 'sentence_bert_config.json']) {
    await rename(join(dir, f), join(dir, '0_Transformer', f));
  }
  const modules = JSON.parse(await readFile(join(dir, 'modules.json'), 'utf8')) as { path: string }[];
  modules[0].path = '0_Transformer';
  await writeFile(join(dir, 'modules.json'), JSON.stringify(modules));
  const exp = join(root, 'nested-export');
  await exportModel(dir, exp, { load: { threads: 1 } });
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', '0_Transformer/model.safetensors']) assert.ok(existsSync(join(exp, f)), f);
  const { feeds: f } = feeds(model!);
  const t = await runFile(join(exp, 'onnx', 'sentence_embedding.onnx'), f, 'sentence_embedding');
  for (let i = 0; i < TEXTS.length; i++) assert.ok(maxAbsDiff((t.data as Float32Array).subarray(i * 32, (i + 1) * 32), ref[i]) < 1e-5, `row ${i}`);
});

test('encodeCompact quantises as quantizeEmbeddings does, with given ranges, calibration rows, truncation and bits', { skip }, async () => {
  const m = model!;
  const full = await m.encodeMatrix(TEXTS);
  const self = await encodeCompact(m, TEXTS, { precision: 'int8' });
  assert.deepEqual(self.data, quantizeEmbeddings(full, 'int8').data);
  assert.ok(self.ranges && self.ranges.min.length === 32);
  // calibration on other rows; the same ranges quantise a query the same way
  const calib = await m.encodeMatrix(TEXTS.slice(0, 6));
  const withCal = await encodeCompact(m, TEXTS, { precision: 'uint8', calibration: calib });
  assert.deepEqual(withCal.data, quantizeEmbeddings(full, 'uint8', { calibration: calib }).data);
  const one = await encodeCompact(m, [TEXTS[7]], { precision: 'uint8', ranges: withCal.ranges! });
  assert.deepEqual(one.data, withCal.data.subarray(7 * 32, 8 * 32));
  // Matryoshka truncation then binary packing: 16 dims → 2 bytes a row
  const bin = await encodeCompact(m, TEXTS, { precision: 'ubinary', truncateDim: 16 });
  assert.equal(bin.cols, 2);
  assert.equal(bin.dim, 16);
  assert.ok(bin.data instanceof Uint8Array);
  const trunc = await m.encodeMatrix(TEXTS, { truncateDim: 16 });
  assert.deepEqual(bin.data, quantizeEmbeddings(trunc, 'ubinary').data);
  await assert.rejects(encodeCompact(m, TEXTS, { precision: 'int4' as never }), /precision "int4" is not one of/);
  await assert.rejects(encodeCompact(m, TEXTS, { precision: 'int8', calibration: trunc }), /calibration rows have 16 dimensions, the embeddings have 32/);
});

test('sentencekit export: writes the folder and reports the files; a low opset exits 1 with the reason and writes nothing', { skip }, async () => {
  const run = (...args: string[]): Promise<{ code: number; stderr: string }> => new Promise((resolve, reject) => {
    execFile(process.execPath, [MAIN, ...args], { cwd: process.cwd(), env: { ...process.env, HF_HUB_OFFLINE: '1', SENTENCEKIT_DEBUG: '' }, timeout: 60_000 }, (err, _stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? (err.code as number) : 0, stderr });
    });
  });
  const dir = join(root, 'cli-export');
  const ok = await run('export', '--model', src, '--out', dir, '--quantize', 'fp16');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /exported .*cli-export \(opset 17, dimension 32\)/);
  assert.match(ok.stderr, /onnx\/sentence_embedding_fp16\.onnx .* MB, min cosine to float32/);
  assert.ok(existsSync(join(dir, 'onnx', 'model_fp16.onnx')));
  const low = join(root, 'cli-low');
  const bad = await run('export', '--model', src, '--out', low, '--opset', '13');
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(bad.stderr, /sentencekit export: opset 13 is too low .*LayerNormalization \(opset 17/);
  assert.equal(existsSync(low), false);
  const usage = await run('export', '--model', src, '--out', low, '--quantize', 'int4');
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--quantize "int4" is not one of int8, uint8, fp16/);
});
