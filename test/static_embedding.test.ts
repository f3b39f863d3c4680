// StaticEmbedding: encode equals the real sentence-transformers (token ids and embeddings,
// test/fixtures/static_goldens.json) on the tiny vocabulary and on the real MiniLM one; the
// sentence-transformers layout saves and loads back bit-for-bit (float32 and float16), a
// model2vec-layout folder loads (key `embeddings`, normalize from its config), a table that
// does not fit the tokenizer is refused naming the file; the ONNX export run by onnxruntime
// alone equals encode; training follows sentence-transformers + torch step by step for one
// loss of each family; sparse rows leave the rows a batch does not use untouched.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { StaticEmbedding } from '../src/models/static_embedding.js';
import { f32Tensor, readSafetensors, writeSafetensors } from '../src/models/safetensors.js';
import { exportModel } from '../src/export/export_model.js';
import { createLoss } from '../src/losses/index.js';
import { Trainer } from '../src/training/trainer.js';
import { TRAIN_ARGS, TRAIN_BATCH, trainExamples } from './fixtures/train_cases.js';
import { STATIC_DIM, STATIC_SEED, STATIC_TEXTS, STATIC_TRAIN_CASES, STATIC_TRAIN_STEPS } from './fixtures/static_cases.js';
import { MINILM_TOKENIZER, sharedMissing } from './helpers/shared.js';

const TINY = new URL('../../test/fixtures/tiny-tokenizer', import.meta.url).pathname;
interface Goldens {
  encode: Record<string, { embeddings: number[][]; ids: number[][] }>;
  train: Record<string, { losses: number[]; grad_norms: number[]; lrs: number[]; table: string }>;
}
const goldens = JSON.parse(await readFile(new URL('../../test/fixtures/static_goldens.json', import.meta.url), 'utf8')) as Goldens;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function scratch(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'sk-static-'));
}

for (const [name, tok] of [['tiny', TINY], ['minilm', MINILM_TOKENIZER]] as const) {
  test(`StaticEmbedding encode equals sentence-transformers (${name} vocabulary)`, { skip: name === 'minilm' ? sharedMissing(MINILM_TOKENIZER) : false }, async () => {
    const gold = goldens.encode[name];
    assert.ok(gold, `no golden for ${name}; run scripts/make_static_goldens.ts`);
    const model = await SentenceTransformer.createStatic({ tokenizerDir: tok, dim: STATIC_DIM, seed: STATIC_SEED });
    const dir = await scratch();
    try {
      await model.save(dir);
      const loaded = await SentenceTransformer.load(dir);
      assert.deepEqual(STATIC_TEXTS.map((t) => loaded.tokenizer.encode(t).ids), gold.ids);
      const m = await loaded.encodeMatrix(STATIC_TEXTS, { batchSize: 4 });
      assert.equal(m.dim, STATIC_DIM);
      const d = maxDiff(m.data, gold.embeddings.flat());
      assert.ok(d <= 1e-6, `max difference ${d}`);
      // an empty text gives zeros, as EmbeddingBag's empty bag
      assert.ok(m.data.subarray(2 * STATIC_DIM, 3 * STATIC_DIM).every((x) => x === 0));
      await loaded.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('StaticEmbedding saves the sentence-transformers layout and loads it back (float32 and float16)', async () => {
  const model = await SentenceTransformer.createStatic({ tokenizerDir: TINY, dim: 8, seed: 3, normalize: true });
  const dir = await scratch();
  try {
    await model.save(dir);
    const modules = JSON.parse(await readFile(join(dir, 'modules.json'), 'utf8')) as { path: string; type: string }[];
    assert.deepEqual(modules.map((m) => [m.path, m.type]), [['0_StaticEmbedding', 'sentence_transformers.models.StaticEmbedding'], ['1_Normalize', 'sentence_transformers.models.Normalize']]);
    assert.ok(existsSync(join(dir, '0_StaticEmbedding', 'tokenizer.json')));
    const st = await readSafetensors(join(dir, '0_StaticEmbedding', 'model.safetensors'));
    assert.deepEqual([...st.tensors.keys()], ['embedding.weight']);
    const back = await SentenceTransformer.load(dir);
    const a = (model.inputModule as StaticEmbedding).weight.data;
    assert.deepEqual((back.inputModule as StaticEmbedding).weight.data, a);
    assert.equal(back.dimension, 8);
    assert.equal(back.tokenizer.numSpecialTokens, 0);
    assert.deepEqual(back.info().architecture, 'StaticEmbedding');
    // float16 on disk: half the bytes, values rounded to float16
    (back.inputModule as StaticEmbedding).fileDtypes.set('embedding.weight', 'F16');
    const dir16 = join(dir, 'f16');
    await back.save(dir16);
    const h = await readSafetensors(join(dir16, '0_StaticEmbedding', 'model.safetensors'));
    assert.equal(h.tensors.get('embedding.weight')!.dtype, 'F16');
    const b16 = await SentenceTransformer.load(dir16);
    assert.ok(maxDiff((b16.inputModule as StaticEmbedding).weight.data, a) < 2e-3);
    assert.equal((b16.inputModule as StaticEmbedding).fileDtypes.get('embedding.weight'), 'F16');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a model2vec-layout folder loads as StaticEmbedding (+ Normalize); a table of the wrong size is refused', async () => {
  const src = await SentenceTransformer.createStatic({ tokenizerDir: TINY, dim: 6, seed: 9 });
  const dir = await scratch();
  try {
    await src.tokenizer.saveTo(dir);
    const se = src.inputModule as StaticEmbedding;
    await writeSafetensors(join(dir, 'model.safetensors'), new Map([['embeddings', f32Tensor(se.weight.data, se.weight.shape)]]));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ model_type: 'model2vec', architectures: ['StaticModel'], normalize: true, hidden_dim: 6 }));
    const m = await SentenceTransformer.load(dir);
    assert.deepEqual(m.modules.map((x) => x.module.type), ['sentence_transformers.models.StaticEmbedding', 'sentence_transformers.models.Normalize']);
    const texts = ['the man plays the guitar', 'a dog runs'];
    const got = await m.encodeMatrix(texts);
    const plain = await src.encodeMatrix(texts, { normalize: true });
    assert.ok(maxDiff(got.data, plain.data) < 1e-6);
    await m.close();
    await src.close();
    // a table with the wrong number of rows
    await writeSafetensors(join(dir, 'model.safetensors'), new Map([['embeddings', f32Tensor(new Float32Array(12), [2, 6])]]));
    await assert.rejects(SentenceTransformer.load(dir), /model\.safetensors: tensor "embeddings" has 2 rows but .*tokenizer\.json has 136 tokens/);
    await writeSafetensors(join(dir, 'model.safetensors'), new Map([['other', f32Tensor(new Float32Array(12), [2, 6])]]));
    await assert.rejects(SentenceTransformer.load(dir), /no tensor "embedding\.weight" \(sentence-transformers\) or "embeddings" \(model2vec\); found other/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('sentence-transformers v6 module type loads; the exported ONNX graph alone equals encode', async () => {
  const model = await SentenceTransformer.createStatic({ tokenizerDir: TINY, dim: STATIC_DIM, seed: STATIC_SEED });
  const dir = await scratch();
  try {
    await model.save(join(dir, 'm'));
    const mj = join(dir, 'm', 'modules.json');
    const modules = JSON.parse(await readFile(mj, 'utf8')) as { type: string }[];
    modules[0].type = 'sentence_transformers.sentence_transformer.modules.static_embedding.StaticEmbedding';
    await writeFile(mj, JSON.stringify(modules));
    const v6 = await SentenceTransformer.load(join(dir, 'm'));
    const r = await exportModel(v6, join(dir, 'exp'), { quantize: ['int8'] });
    assert.deepEqual(r.metadata.files.map((f) => f.path), ['onnx/sentence_embedding.onnx', 'onnx/sentence_embedding_quantized.onnx']);
    assert.ok(r.metadata.files[1].check_cosine_min! > 0.99);
    const texts = STATIC_TEXTS.slice(0, 4);
    const want = await v6.encodeMatrix(texts);
    const batch = v6.tokenizer.pad(v6.tokenizer.encodeBatch(texts));
    const dims = [batch.batchSize, batch.seqLen];
    const s = await ort.InferenceSession.create(join(dir, 'exp', 'onnx', 'sentence_embedding.onnx'));
    const out = await s.run({ input_ids: new ort.Tensor('int64', batch.inputIds, dims), attention_mask: new ort.Tensor('int64', batch.attentionMask, dims), token_type_ids: new ort.Tensor('int64', batch.tokenTypeIds, dims) });
    assert.ok(maxDiff(out.sentence_embedding.data as Float32Array, want.data) < 1e-6);
    await s.release();
    await v6.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

for (const c of STATIC_TRAIN_CASES) {
  test(`StaticEmbedding training follows sentence-transformers + torch: ${c.name}`, async () => {
    const gold = goldens.train[c.name];
    assert.ok(gold, `no golden for ${c.name}; run scripts/make_static_goldens.ts`);
    const model = await SentenceTransformer.createStatic({ tokenizerDir: TINY, dim: STATIC_DIM, seed: STATIC_SEED });
    const loss = createLoss(c.loss.name, c.loss.options);
    const examples = trainExamples(c).slice(0, STATIC_TRAIN_STEPS * TRAIN_BATCH);
    const r = await new Trainer({ model, trainDataset: { examples }, loss, args: { ...TRAIN_ARGS, threads: 1 }, progress: false }).train();
    const steps = r.logHistory.filter((h) => typeof h.loss === 'number');
    assert.equal(steps.length, gold.losses.length);
    const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(1e-6, Math.abs(b));
    steps.forEach((h, i) => {
      assert.ok(rel(Number(h.loss), gold.losses[i]) < 2e-4, `step ${i + 1}: loss ${h.loss} vs ${gold.losses[i]}`);
      assert.ok(rel(Number(h.grad_norm), gold.grad_norms[i]) < 2e-4, `step ${i + 1}: grad norm ${h.grad_norm} vs ${gold.grad_norms[i]}`);
      assert.ok(Math.abs(Number(h.learning_rate) - gold.lrs[i]) < 1e-12, `step ${i + 1}: lr`);
    });
    const buf = Buffer.from(gold.table, 'base64');
    const ref = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const d = maxDiff((model.inputModule as StaticEmbedding).weight.data, ref);
    assert.ok(d < 1e-4, `largest table difference ${d}`);
  });
}

test('sparse rows: a step updates only the rows its batch uses', async () => {
  const model = await SentenceTransformer.createStatic({ tokenizerDir: TINY, dim: 8, seed: 5 });
  const before = (model.inputModule as StaticEmbedding).weight.data.slice();
  const examples = [{ texts: ['the man plays', 'a dog runs'], label: 0.8 }, { texts: ['the cat sleeps', 'a bird sings'], label: 0.2 }];
  const used = new Set(examples.flatMap((e) => e.texts.flatMap((t) => model.tokenizer.encode(t).ids)));
  await new Trainer({ model, trainDataset: { examples }, loss: createLoss('CoSENTLoss', {}), args: { maxSteps: 1, batchSize: 2, learningRate: 0.1, weightDecay: 0.01, sparseEmbeddings: true, saveSteps: null, logSteps: 1, threads: 1 }, progress: false }).train();
  // (training moves the table into the optimizer's arena: read it again)
  const table = (model.inputModule as StaticEmbedding).weight.data;
  let changedUsed = 0;
  for (let r = 0; r < table.length / 8; r++) {
    const changed = table.subarray(r * 8, r * 8 + 8).some((x, j) => x !== before[r * 8 + j]);
    if (used.has(r)) changedUsed += changed ? 1 : 0;
    else assert.ok(!changed, `row ${r} is not in the batch but changed`);
  }
  assert.equal(changedUsed, used.size);
});


test('a StaticEmbedding run resumed from its checkpoint ends with the same table as an uninterrupted one', async () => {
  const dir = await scratch();
  try {
    const c = STATIC_TRAIN_CASES.find((x) => x.name === 'CoSENTLoss')!;
    const examples = trainExamples(c).slice(0, 6 * TRAIN_BATCH);
    const args = { ...TRAIN_ARGS, maxSteps: 6, saveSteps: 3, threads: 1 };
    const fresh = (): Promise<SentenceTransformer> => SentenceTransformer.createStatic({ tokenizerDir: TINY, dim: STATIC_DIM, seed: STATIC_SEED });
    const table = (m: SentenceTransformer): Float32Array => (m.inputModule as StaticEmbedding).weight.data;
    const a = await fresh();
    await new Trainer({ model: a, trainDataset: { examples }, loss: createLoss('CoSENTLoss', {}), outputDir: join(dir, 'a'), progress: false, args }).train();
    // the same run stopped after its step-3 checkpoint, then resumed in a new process's worth of state
    const b = await fresh();
    await new Trainer({ model: b, trainDataset: { examples }, loss: createLoss('CoSENTLoss', {}), outputDir: join(dir, 'b'), progress: false, args, callbacks: [{ onStepEnd: (step) => (step === 3 ? { stop: true } : undefined) }] }).train();
    assert.notDeepEqual(table(b), table(a));
    const resumed = await fresh();
    const ran: number[] = [];
    await new Trainer({ model: resumed, trainDataset: { examples }, loss: createLoss('CoSENTLoss', {}), outputDir: join(dir, 'b'), resumeFromCheckpoint: true, progress: false, args, callbacks: [{ onStepEnd: (step) => { ran.push(step); } }] }).train();
    assert.deepEqual(ran, [4, 5, 6]);
    assert.deepEqual(table(resumed), table(a));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
