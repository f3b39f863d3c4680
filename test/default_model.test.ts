// The built-in model (models/sentencekit-static-en): it ships as fp16 safetensors of at most
// 20 MB in the sentence-transformers StaticEmbedding layout, loads with no argument, scores on a
// slice of STS-B dev what its build report says (and its model card shows the report's
// figures); the commands whose model is optional use it and name it; the quick start runs the
// whole lifecycle on it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { DEFAULT_MODEL_NAME, defaultModelDir, resolveModelSpec } from '../src/models/default_model.js';
import { readSafetensors } from '../src/models/safetensors.js';
import { EmbeddingSimilarityEvaluator } from '../src/evaluation/embedding_similarity.js';
import { cli } from './helpers/cli.js';
import { STSB_DEV, sharedMissing } from './helpers/shared.js';

const DIR = defaultModelDir();
interface Report {
  dimension: number;
  matryoshka_dims: number[];
  stsb_dev_spearman_cosine: { teacher: number; distilled_start: Record<string, number>; shipped_fp16: Record<string, number> };
  stsb_dev_slice: { pairs: number; spearman_cosine: number };
}
const report = JSON.parse(await readFile(join(DIR, 'build_report.json'), 'utf8')) as Report;

test('the built-in model ships as fp16 StaticEmbedding safetensors of at most 20 MB and loads with no argument', async () => {
  assert.equal(resolveModelSpec(undefined), DIR);
  const file = join(DIR, '0_StaticEmbedding', 'model.safetensors');
  assert.ok(statSync(file).size <= 20e6, `${file} is ${statSync(file).size} bytes`);
  const st = await readSafetensors(file);
  assert.equal(st.tensors.get('embedding.weight')?.dtype, 'F16');
  const modules = JSON.parse(await readFile(join(DIR, 'modules.json'), 'utf8')) as { type: string }[];
  assert.equal(modules[0].type, 'sentence_transformers.models.StaticEmbedding');
  const model = await SentenceTransformer.load();
  assert.equal(model.dimension, report.dimension);
  assert.equal(model.info().architecture, 'StaticEmbedding');
  const [a, b, c] = await model.encode(['A man is playing a guitar.', 'Someone plays the guitar.', 'The stock market fell today.']);
  const cos = (x: Float32Array, y: Float32Array): number => {
    let d = 0, nx = 0, ny = 0;
    for (let i = 0; i < x.length; i++) { d += x[i] * y[i]; nx += x[i] * x[i]; ny += y[i] * y[i]; }
    return d / Math.sqrt(nx * ny);
  };
  assert.ok(cos(a, b) > cos(a, c) + 0.2, `related ${cos(a, b)} vs unrelated ${cos(a, c)}`);
  await model.close();
});

test('the built-in model scores on a slice of STS-B dev what its build report says; the card shows the report', { skip: sharedMissing(STSB_DEV) }, async () => {
  const rows = (await readFile(STSB_DEV, 'utf8')).split('\n').map((l) => l.split('\t')).filter((f) => f.length >= 7).slice(0, report.stsb_dev_slice.pairs);
  const model = await SentenceTransformer.load();
  const ev = new EmbeddingSimilarityEvaluator(rows.map((f) => f[5]), rows.map((f) => f[6]), rows.map((f) => Number(f[4]) / 5), { similarityFns: ['cosine'] });
  const s = (await ev.evaluate(model)).spearman_cosine;
  await model.close();
  assert.ok(Math.abs(s - report.stsb_dev_slice.spearman_cosine) < 1e-4, `slice Spearman ${s} vs report ${report.stsb_dev_slice.spearman_cosine}`);
  const card = await readFile(join(DIR, 'README.md'), 'utf8');
  for (const d of report.matryoshka_dims) {
    assert.ok(card.includes(`| ${d} | ${report.stsb_dev_spearman_cosine.distilled_start[d].toFixed(4)} | ${report.stsb_dev_spearman_cosine.shipped_fp16[d].toFixed(4)} |`), `the card's row for ${d} dimensions differs from build_report.json`);
  }
  assert.ok(card.includes(`Teacher: ${report.stsb_dev_spearman_cosine.teacher.toFixed(4)}`));
});

test('info, encode and evaluate without --model use the built-in model and name it', async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'sk-default-'));
  try {
    const info = await cli('info');
    assert.equal(info.code, 0, info.stderr);
    const j = JSON.parse(info.stdout) as Record<string, unknown>;
    assert.equal(j.model, `${DEFAULT_MODEL_NAME} (built-in)`);
    assert.equal(j.architecture, 'StaticEmbedding');
    await writeFile(join(tmp, 'in.txt'), 'a first text\na second one\n');
    const enc = await cli('encode', '--input', join(tmp, 'in.txt'), '--output', join(tmp, 'out.npy'));
    assert.equal(enc.code, 0, enc.stderr);
    assert.match(enc.stderr, new RegExp(`with ${DEFAULT_MODEL_NAME} \\(built-in\\)`));
    assert.ok(statSync(join(tmp, 'out.npy')).size > 2 * report.dimension * 4);
    await writeFile(join(tmp, 'pairs.csv'), 'sentence1,sentence2,score\nA man plays a guitar.,A person plays guitar.,0.9\nA cat sleeps.,Stocks fell sharply.,0.0\nA dog runs.,A dog is running.,0.8\n');
    const ev = await cli('evaluate', 'sts', '--data', join(tmp, 'pairs.csv'), '--format', 'csv');
    assert.equal(ev.code, 0, ev.stderr);
    assert.match(ev.stderr, new RegExp(`model ${DEFAULT_MODEL_NAME} \\(built-in\\)`));
    assert.ok('spearman_cosine' in (JSON.parse(ev.stdout) as Record<string, number>));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test('the quick start runs encode, evaluate, fine-tune, export and search on the built-in model', async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'sk-quick-'));
  try {
    const r = await cli('quickstart', '--steps', '3', '--train-pairs', '64', '--out', tmp);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { model: string; spearman_cosine_before: number; spearman_cosine_after: number; training: { steps: number }; export: { max_abs_diff_vs_encode: number }; search: { queries: { hits: { text: string }[] }[] } };
    assert.equal(s.model, `${DEFAULT_MODEL_NAME} (built-in)`);
    assert.equal(s.training.steps, 3);
    assert.ok(Number.isFinite(s.spearman_cosine_before) && Number.isFinite(s.spearman_cosine_after));
    assert.ok(s.export.max_abs_diff_vs_encode < 1e-5);
    assert.ok(s.search.queries.length >= 3 && s.search.queries.every((q) => q.hits.length === 3 && q.hits.every((h) => typeof h.text === 'string')));
    assert.ok(statSync(join(tmp, 'model', 'modules.json')).isFile());
    assert.ok(statSync(join(tmp, 'export', 'onnx', 'sentence_embedding.onnx')).isFile());
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
