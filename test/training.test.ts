// The training loop's contracts: schedules, samplers, exact resume from a checkpoint, the
// handling of a non-finite loss, configuration errors, and the files a run leaves.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lrLambda, warmupSteps } from '../src/training/schedule.js';
import { epochBatches } from '../src/training/sampler.js';
import { Trainer, NonFiniteLossError } from '../src/training/trainer.js';
import { resolveArgs, ConfigError } from '../src/training/args.js';
import { latestCheckpoint } from '../src/training/checkpoint.js';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { MINILM_TOKENIZER, sharedMissing } from './helpers/shared.js';
import { cosineMse, pairExamples, tinyModel } from './helpers/train_fixtures.js';

const skip = sharedMissing(MINILM_TOKENIZER);

test('schedules follow the Hugging Face definitions', () => {
  assert.equal(lrLambda('linear', 0, 2, 10), 0);
  assert.equal(lrLambda('linear', 1, 2, 10), 0.5);
  assert.equal(lrLambda('linear', 2, 2, 10), 1);
  assert.equal(lrLambda('linear', 6, 2, 10), 0.5);
  assert.equal(lrLambda('linear', 10, 2, 10), 0);
  assert.equal(lrLambda('constant', 0, 2, 10), 1);
  assert.equal(lrLambda('constant_with_warmup', 1, 2, 10), 0.5);
  assert.ok(Math.abs(lrLambda('cosine', 6, 2, 10) - 0.5) < 1e-12);
  assert.equal(warmupSteps(100, 0, 0.1), 10);
  assert.equal(warmupSteps(101, 0, 0.1), 11);
  assert.equal(warmupSteps(100, 5, 0.1), 5);
});

test('samplers: seeded, complete, and no duplicate texts in a no_duplicates batch', () => {
  const texts = Array.from({ length: 50 }, (_, i) => [`q${i % 20}`, `p${i}`]);
  const a = epochBatches((i) => texts[i], 50, 8, 1, 0, true, 'batch_sampler');
  const b = epochBatches((i) => texts[i], 50, 8, 1, 0, true, 'batch_sampler');
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, epochBatches((i) => texts[i], 50, 8, 1, 1, true, 'batch_sampler'));
  assert.deepEqual(a.flat().sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  const nd = epochBatches((i) => texts[i], 50, 8, 1, 0, true, 'no_duplicates');
  assert.deepEqual(nd.flat().sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  for (const batch of nd) {
    const seen = batch.flatMap((i) => texts[i]);
    assert.equal(new Set(seen).size, seen.length);
    assert.ok(batch.length <= 8);
  }
  assert.deepEqual(epochBatches((i) => texts[i], 5, 2, 1, 0, false, 'batch_sampler'), [[0, 1], [2, 3], [4]]);
});

test('configuration errors name the key and the allowed values', () => {
  assert.throws(() => resolveArgs({ batchSise: 4 }), (e: Error) => e instanceof ConfigError && /args\.batchSise: unknown key/.test(e.message) && /batchSize/.test(e.message));
  assert.throws(() => resolveArgs({ scheduler: 'triangle' }), /args\.scheduler: must be one of "constant", "constant_with_warmup", "linear", "cosine"/);
  assert.throws(() => resolveArgs({ learningRate: -1 }), /args\.learningRate: must be a number ≥ 0/);
  assert.throws(() => resolveArgs({ warmupRatio: 2 }), /in \[0, 1\]/);
  assert.equal(resolveArgs({ maxGradNorm: 0 }).maxGradNorm, null);
});

function snapshot(m: SentenceTransformer): Float32Array[] {
  return [...m.transformer.params.values()].map((p) => p.data.slice());
}

test('training lowers the loss; resume from a checkpoint continues exactly', { skip }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sk-train-'));
  try {
    const examples = pairExamples(48);
    const args = { epochs: 2, batchSize: 8, learningRate: 1e-3, warmupSteps: 2, logSteps: 1, saveSteps: 4, dropout: false, seed: 5 };
    const straight = await tinyModel();
    const r1 = await new Trainer({ model: straight, trainDataset: { examples }, loss: cosineMse, args, outputDir: join(dir, 'a'), progress: false }).train();
    assert.equal(r1.globalStep, 12);
    const losses = r1.logHistory.filter((h) => typeof h.loss === 'number').map((h) => Number(h.loss));
    assert.ok(losses[losses.length - 1] < losses[0], `loss did not fall: ${losses.join(', ')}`);
    // interrupted after 8 steps (maxSteps is part of the schedule, so stop through a callback)
    const first = await tinyModel();
    await new Trainer({
      model: first, trainDataset: { examples }, loss: cosineMse, args, outputDir: join(dir, 'b'), progress: false,
      callbacks: [{ onStepEnd: (s) => ({ stop: s >= 8 }) }],
    }).train();
    assert.equal(await latestCheckpoint(join(dir, 'b')), join(dir, 'b', 'checkpoint-8'));
    const resumed = await tinyModel(99); // different initial weights: all must come from the checkpoint
    const r2 = await new Trainer({ model: resumed, trainDataset: { examples }, loss: cosineMse, args, outputDir: join(dir, 'b'), progress: false, resumeFromCheckpoint: true }).train();
    assert.equal(r2.globalStep, 12);
    const s1 = snapshot(straight);
    const s2 = snapshot(resumed);
    s1.forEach((a, i) => assert.deepEqual(s2[i], a, `parameter ${i} differs after resume`));
    const files = await readdir(join(dir, 'a'));
    for (const f of ['README.md', 'training_report.html', 'logs.jsonl', 'model.safetensors', 'modules.json', 'checkpoint-4', 'checkpoint-12']) assert.ok(files.includes(f), `${f} missing`);
    const card = await readFile(join(dir, 'a', 'README.md'), 'utf8');
    assert.match(card, /CosineMSE/);
    const reloaded = await SentenceTransformer.load(join(dir, 'a'));
    const e1 = await reloaded.encodeMatrix(['a man plays the guitar']);
    straight.invalidate();
    const e2 = await straight.encodeMatrix(['a man plays the guitar']);
    assert.deepEqual(Array.from(e1.data), Array.from(e2.data));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a NaN loss stops the run naming the step and leaves the weights untouched; skip continues', { skip }, async () => {
  const examples = pairExamples(16);
  examples[9].label = NaN;
  const model = await tinyModel();
  const args = { epochs: 1, batchSize: 4, learningRate: 1e-3, shuffle: false, dropout: false, saveSteps: null };
  let before: Float32Array[] = [];
  await assert.rejects(
    new Trainer({ model, trainDataset: { examples }, loss: cosineMse, args, progress: false, callbacks: [{ onStepEnd: (s) => { if (s === 2) before = snapshot(model); } }] }).train(),
    (e: Error) => e instanceof NonFiniteLossError && /step 3:/.test(e.message),
  );
  snapshot(model).forEach((a, i) => assert.deepEqual(a, before[i]));
  for (const p of model.transformer.params.values()) assert.ok(p.data.every(Number.isFinite));
  const r = await new Trainer({ model, trainDataset: { examples }, loss: cosineMse, args: { ...args, onNonFinite: 'skip', logSteps: 1 }, progress: false }).train();
  assert.equal(r.globalStep, 4);
  assert.equal(r.logHistory.filter((h) => h.skipped === 1).length, 1);
  for (const p of model.transformer.params.values()) assert.ok(p.data.every(Number.isFinite));
});

test('the loss and the data must agree on columns and labels', { skip }, async () => {
  const model = await tinyModel();
  assert.throws(() => new Trainer({ model, trainDataset: { examples: [{ texts: ['a', 'b', 'c'], label: 1 }] }, loss: cosineMse }), /takes 2 text columns/);
  assert.throws(() => new Trainer({ model, trainDataset: { examples: [{ texts: ['a', 'b'] }] }, loss: cosineMse }), /needs a label/);
});

test('best model kept by a metric, early stopping, callbacks', { skip }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sk-best-'));
  try {
    const model = await tinyModel();
    const scripted = [0.5, 0.7, 0.6, 0.55, 0.9];
    const snapshots: Float32Array[][] = [];
    let calls = 0;
    const evaluator = {
      primaryMetric: 'score',
      async evaluate(m: SentenceTransformer) {
        snapshots.push(snapshot(m));
        return { score: scripted[calls++] };
      },
    };
    const seen: string[] = [];
    const r = await new Trainer({
      model, trainDataset: { examples: pairExamples(80) }, loss: cosineMse, evaluator, outputDir: dir, progress: false,
      args: { epochs: 1, batchSize: 4, learningRate: 1e-3, evalSteps: 2, saveSteps: null, dropout: false, loadBestModelAtEnd: true, earlyStoppingPatience: 2 },
      callbacks: [{ onEvaluate: (s) => { seen.push(`eval@${s}`); }, onTrainEnd: () => { seen.push('end'); } }],
    }).train();
    assert.equal(calls, 4, 'stopped after two evaluations without improvement');
    assert.equal(r.globalStep, 8);
    assert.deepEqual(seen, ['eval@2', 'eval@4', 'eval@6', 'eval@8', 'end']);
    snapshot(model).forEach((a, i) => assert.deepEqual(a, snapshots[1][i], 'the weights of the best evaluation (step 4) were restored'));
    const saved = await SentenceTransformer.load(dir);
    assert.deepEqual([...saved.transformer.params.values()][0].data, snapshots[1][0]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('several datasets: round-robin and proportional batches, one loss per dataset', { skip }, async () => {
  const model = await tinyModel();
  const pairs = pairExamples(24, 5);
  const triples = pairExamples(16, 6).map((e) => ({ texts: [...e.texts, e.texts[0] + ' again'] }));
  const mnrl = (await import('../src/losses/index.js')).createLoss('MultipleNegativesRankingLoss', {});
  const seen: string[] = [];
  const counting = (name: string, l: typeof cosineMse): typeof cosineMse => ({ ...l, name: l.name, build: (ctx) => { seen.push(name); return l.build(ctx); } });
  const r = await new Trainer({
    model, progress: false, multiDatasetSampling: 'round_robin',
    trainDataset: [{ name: 'pairs', examples: pairs }, { name: 'triplets', examples: triples }],
    loss: { pairs: counting('pairs', cosineMse), triplets: counting('triplets', mnrl) },
    args: { epochs: 1, batchSize: 4, learningRate: 1e-3, saveSteps: null, dropout: false, logSteps: 1 },
  }).train();
  // round robin: 4 batches of triplets run out first → 4 + 4 steps
  assert.equal(r.globalStep, 8);
  assert.deepEqual(seen.sort(), ['pairs', 'triplets'], 'each loss built once (its graph is reused)');
  const prop = await new Trainer({
    model, progress: false, multiDatasetSampling: 'proportional',
    trainDataset: [{ name: 'pairs', examples: pairs }, { name: 'triplets', examples: triples }],
    loss: { pairs: cosineMse, triplets: mnrl },
    args: { epochs: 1, batchSize: 4, learningRate: 1e-3, saveSteps: null, dropout: false },
  }).train();
  assert.equal(prop.globalStep, 10, 'proportional: every batch of both datasets');
});

test('with dropout on, resume continues exactly too (masks depend on seed and step only)', { skip }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sk-train-drop-'));
  try {
    const examples = pairExamples(32);
    const args = { epochs: 2, batchSize: 8, learningRate: 1e-3, warmupSteps: 1, logSteps: 1, saveSteps: 3, dropout: true, seed: 9 };
    const straight = await tinyModel();
    const r1 = await new Trainer({ model: straight, trainDataset: { examples }, loss: cosineMse, args, outputDir: join(dir, 'a'), progress: false }).train();
    const first = await tinyModel();
    await new Trainer({ model: first, trainDataset: { examples }, loss: cosineMse, args, outputDir: join(dir, 'b'), progress: false, callbacks: [{ onStepEnd: (s) => ({ stop: s >= 3 }) }] }).train();
    const resumed = await tinyModel(77);
    const r2 = await new Trainer({ model: resumed, trainDataset: { examples }, loss: cosineMse, args, outputDir: join(dir, 'b'), progress: false, resumeFromCheckpoint: true }).train();
    assert.equal(r2.globalStep, r1.globalStep);
    const s1 = snapshot(straight);
    snapshot(resumed).forEach((a, i) => assert.deepEqual(a, s1[i], `parameter ${i} differs after resume with dropout`));
    // and dropout does act: the same run without it ends elsewhere
    const noDrop = await tinyModel();
    await new Trainer({ model: noDrop, trainDataset: { examples }, loss: cosineMse, args: { ...args, dropout: false }, progress: false }).train();
    assert.notDeepEqual(snapshot(noDrop)[5], s1[5]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('dropout masks: with the texts\' lengths, attention masks draw the real query × key blocks only and keep the padding', async () => {
  const { dropoutMasks } = await import('../src/training/dropout_masks.js');
  const sites = [{ name: 'a', p: 0.3, layout: 'attention' as const }];
  const lengths = [5, 64, 1, 30];
  const sh = { n: 4, s: 64, tokens: 100, hidden: 8, heads: 3, lengths };
  const m = dropoutMasks(sites, sh, 9, 4).a;
  assert.deepEqual(m.dims, [4, 3, 64, 64]);
  const d = (m.data as Float32Array).slice(); // a call's masks are valid until the next call
  const keep = Math.fround(1 / 0.7);
  let real = 0;
  let kept = 0;
  for (let r = 0; r < 4; r++) for (let h = 0; h < 3; h++) for (let q = 0; q < 64; q++) for (let k = 0; k < 64; k++) {
    const v = d[((r * 3 + h) * 64 + q) * 64 + k];
    if (q < lengths[r] && k < lengths[r]) {
      real++;
      assert.ok(v === 0 || v === keep, `a mask element is 0 or 1/(1 − p), got ${v}`);
      kept += v === keep ? 1 : 0;
    } else assert.equal(v, keep, `padding at text ${r}, head ${h}, ${q} × ${k}`);
  }
  assert.equal(real, 3 * (25 + 4096 + 1 + 900));
  assert.ok(Math.abs(kept / real - 0.7) < 0.01, `keep rate ${kept / real}`);
  assert.deepEqual(dropoutMasks(sites, sh, 9, 4).a.data, d);
  assert.notDeepEqual(dropoutMasks(sites, sh, 9, 5).a.data, d);
});

test('dropout masks: keep rate 1 − p, deterministic in (seed, step), different across steps and sites', async () => {
  const { dropoutMasks } = await import('../src/training/dropout_masks.js');
  const sites = [{ name: 'm0', p: 0.1, layout: 'rows' as const }, { name: 'm1', p: 0.3, layout: 'attention' as const }, { name: 'm2', p: 0.1, layout: 'packed' as const }];
  const sh = { n: 8, s: 64, tokens: 300, hidden: 96, heads: 4 };
  const a = Object.fromEntries(Object.entries(dropoutMasks(sites, sh, 5, 1)).map(([k, t]) => [k, { ...t, data: (t.data as Float32Array).slice() }]));
  assert.deepEqual(a.m0.dims, [512, 96]);
  assert.deepEqual(a.m1.dims, [8, 4, 64, 64]);
  assert.deepEqual(a.m2.dims, [300, 96]);
  const rate = (t: { data: unknown }): number => { const d = t.data as ArrayLike<number>; let n = 0; for (let i = 0; i < d.length; i++) n += d[i] > 0 ? 1 : 0; return n / d.length; };
  assert.ok(Object.values(a).every((t) => t.dtype === 'float32'), 'every mask is float32');
  assert.ok((a.m0.data as Float32Array).every((v) => v === 0 || v === Math.fround(1 / 0.9)), 'mask elements are 0 or 1/(1 − p)');
  assert.ok(Math.abs(rate(a.m0) - 0.9) < 0.005, `keep rate ${rate(a.m0)}`);
  assert.ok(Math.abs(rate(a.m1) - 0.7) < 0.005, `keep rate ${rate(a.m1)}`);
  assert.deepEqual(dropoutMasks(sites, sh, 5, 1).m0.data, a.m0.data);
  assert.notDeepEqual(dropoutMasks(sites, sh, 5, 2).m0.data, a.m0.data);
  assert.notDeepEqual(dropoutMasks(sites, sh, 6, 1).m0.data, a.m0.data);
});

test('dropout masks: the kernel draws the documented streams (4 xorshift32 lanes, element i of a row from lane i mod 4, top 31 bits against floor(p·2³¹))', async () => {
  const { dropoutMasks, mix, keepFactor } = await import('../src/training/dropout_masks.js');
  // a plain reference of the streams
  const draws = (st: Uint32Array, count: number, t: number): boolean[] => {
    const out: boolean[] = [];
    for (let i = 0; i < count; i += 4) {
      for (let j = 0; j < 4; j++) {
        let x = st[j];
        x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
        st[j] = x;
        if (i + j < count) out.push(x >>> 1 >= t);
      }
    }
    return out;
  };
  const sites = [{ name: 'r', p: 0.2, layout: 'packed' as const }, { name: 'a', p: 0.35, layout: 'attention' as const }];
  const lengths = [3, 6, 1];
  const sh = { n: 3, s: 6, tokens: 7, hidden: 5, heads: 2, lengths };
  const got = dropoutMasks(sites, sh, 21, 3, 1);
  const st0 = Uint32Array.from([0, 1, 2, 3], (j) => mix(21, 3, 1, 0, j));
  const want0 = draws(st0, 35, Math.floor(0.2 * 2 ** 31)).map((k) => (k ? keepFactor(0.2) : 0));
  assert.deepEqual(Array.from(got.r.data as Float32Array), want0);
  const st1 = Uint32Array.from([0, 1, 2, 3], (j) => mix(21, 3, 1, 1, j));
  const want1 = new Array(3 * 2 * 36).fill(keepFactor(0.35));
  for (let r = 0; r < 3; r++) for (let h = 0; h < 2; h++) for (let q = 0; q < lengths[r]; q++) {
    draws(st1, lengths[r], Math.floor(0.35 * 2 ** 31)).forEach((k, c) => { want1[((r * 2 + h) * 6 + q) * 6 + c] = k ? keepFactor(0.35) : 0; });
  }
  assert.deepEqual(Array.from(got.a.data as Float32Array), want1);
});

test('dropout with a fed mask, row and attention sites: y = x · m and ∂L/∂x = m · ∂L/∂y, m being 0 or 1/(1 − p)', async () => {
  const { GraphBuilder } = await import('../src/graph/builder.js');
  const { gradients } = await import('../src/graph/autodiff.js');
  await import('../src/graph/grad/index.js');
  const { dropout } = await import('../src/models/architectures/layers.js');
  const { DropoutMode } = await import('../src/models/module.js');
  const { dropoutMasks } = await import('../src/training/dropout_masks.js');
  const { Session } = await import('../src/runtime/index.js');
  const cases = [
    { layout: 'packed' as const, dims: [6, 8], sh: { n: 6, s: 1, tokens: 6 }, dtype: 'float32' },
    { layout: 'attention' as const, dims: [2, 2, 4, 4], sh: { n: 2, s: 4, tokens: 8 }, dtype: 'float32' },
  ];
  for (const c of cases) {
    const len = c.dims.reduce((a, b) => a * b, 1);
    const g = new GraphBuilder('dropout', { opset: 20 });
    const x = g.input('x', 'float32', c.dims);
    const w = g.input('w', 'float32', c.dims);
    const mode = new DropoutMode(3, true);
    const y = dropout(g, x, 0.25, { fuseQkv: false, tokenRows: true, packTokens: true, dropout: mode }, c.layout, c.dims[c.dims.length - 1], 2);
    const loss = g.reduceSum(g.mul(y, w), c.dims.map((_, i) => i), false);
    g.output(y, 'y');
    g.output(gradients(g, loss, [x]).get(x)!, 'dx');
    const xs = Float32Array.from({ length: len }, (_, i) => Math.sin(i + 1) * 3);
    const ws = Float32Array.from({ length: len }, (_, i) => Math.cos(i * 0.7));
    const masks = dropoutMasks(mode.sites, { ...c.sh, hidden: 8, heads: 2 }, 11, 2);
    const mask = masks[mode.sites[0].name];
    assert.equal(mask.dtype, c.dtype, `${c.layout}: mask dtype`);
    const kept = Array.from(mask.data as ArrayLike<number>, (v) => v > 0);
    assert.ok(kept.some((v) => !v) && kept.some((v) => v), `${c.layout}: the mask drops some elements and keeps others`);
    const s = await Session.create(g.graph, { opset: 20, cache: false, threads: 1 });
    try {
      const r = await s.run({ x: { dtype: 'float32', dims: c.dims, data: xs }, w: { dtype: 'float32', dims: c.dims, data: ws }, ...masks });
      const yd = r.y.data as Float32Array;
      const dx = r.dx.data as Float32Array;
      for (let i = 0; i < len; i++) {
        // + 0: −0 is 0
        assert.equal(yd[i] + 0, kept[i] ? Math.fround(xs[i] * Math.fround(1 / 0.75)) : 0, `${c.layout}: y[${i}]`);
        assert.equal(dx[i] + 0, kept[i] ? Math.fround(ws[i] * Math.fround(1 / 0.75)) : 0, `${c.layout}: dx[${i}]`);
      }
    } finally {
      await s.release();
    }
  }
});

test('the committed dropout module is its .wat source assembled (scripts/build_kernels.ts)', async () => {
  const { readFile } = await import('node:fs/promises');
  const { assemble, moduleFile } = await import('../scripts/build_kernels.js');
  const dir = new URL('../../src/training/kernels/', import.meta.url);
  const wat = await readFile(new URL('dropout.wat', dir), 'utf8');
  assert.equal(await readFile(new URL('dropout_wasm.ts', dir), 'utf8'), moduleFile('dropout', await assemble(wat, 'dropout.wat')));
});
