// Tests for src/losses. Every case of test/fixtures/losses_goldens.json (PyTorch float64 losses
// and autograd gradients from scripts/reference/losses_reference.py) is built once as a float64
// graph with a symbolic batch, run with batch 6 and with its first 4 rows, and compared: loss
// within 1e-9 relative, gradients (ours from autodiff) within 1e-7. The same cases also build
// and run in float32 with float32 score labels, as the training graph feeds them. Finite-
// difference checks cover a few losses end to end; createLoss is checked for its errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { GraphBuilder } from '../src/graph/builder.js';
import { gradients } from '../src/graph/autodiff.js';
import '../src/graph/grad/index.js';
import { gradCheck, type CheckInput } from '../src/runtime/gradcheck.js';
import type { TensorData, Value } from '../src/graph/ir.js';
import type { ParamSource } from '../src/models/params.js';
import { Session } from '../src/runtime/session.js';
import {
  AnglELoss,
  BatchAllTripletLoss,
  BatchHardTripletLoss,
  ContrastiveLoss,
  CoSENTLoss,
  createLoss,
  LOSS_NAMES,
  MatryoshkaLoss,
  MultipleNegativesRankingLoss,
  MultipleNegativesSymmetricRankingLoss,
  OnlineContrastiveLoss,
  SoftmaxLoss,
  type Loss,
} from '../src/losses/index.js';

type Matrix = number[][];
interface Result { loss: number; grads: Matrix[]; param_grads?: Record<string, Matrix | number[]> }
interface GoldenCase {
  id: string;
  config: { name: string } & Record<string, unknown>;
  columns: string[];
  labels: string | null;
  params?: string;
  batch6: Result;
  batch4: Result;
}
interface Goldens {
  batch: number;
  dim: number;
  embeddings: Record<string, Matrix>;
  labels: Record<string, { kind: 'score' | 'class' | 'embedding'; values: number[] | Matrix }>;
  params: Record<string, Record<string, Matrix | number[]>>;
  cases: GoldenCase[];
}

const goldens = JSON.parse(await readFile(new URL('../../test/fixtures/losses_goldens.json', import.meta.url), 'utf8')) as Goldens;

type Float = 'float32' | 'float64';

function dimsOf(v: Matrix | number[]): number[] {
  return Array.isArray(v[0]) ? [v.length, (v[0] as number[]).length] : [v.length];
}

function flat(v: Matrix | number[]): number[] {
  return Array.isArray(v[0]) ? (v as Matrix).flat() : (v as number[]);
}

function floats(dtype: Float, dims: number[], values: number[]): TensorData {
  return { dtype, dims, data: dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values) };
}

/** Loss parameters as graph inputs of the test's dtype (Hugging Face layout, transposed in-graph). */
class FeedParams implements ParamSource {
  readonly inputs = new Map<string, Value>();
  constructor(private readonly g: GraphBuilder, private readonly dtype: Float, private readonly shapes: Map<string, number[]>) {}

  tensor(name: string): Value {
    let v = this.inputs.get(name);
    if (!v) {
      const shape = this.shapes.get(name);
      if (!shape) throw new Error(`no parameter ${name}`);
      v = this.g.input(name, this.dtype, shape);
      this.inputs.set(name, v);
    }
    return v;
  }

  linear(weights: string[], biases: (string | null)[]): { weight: Value; bias: Value | null } {
    assert.equal(weights.length, 1);
    return { weight: this.g.transpose(this.tensor(weights[0]), [1, 0]), bias: biases[0] ? this.tensor(biases[0]) : null };
  }
}

interface Built {
  session: Session;
  columns: number;
  params: string[];
  feeds(rows: number): Record<string, TensorData>;
}

/** The case's loss as a graph over inputs with a symbolic batch, with its gradients as outputs. */
async function buildCase(c: GoldenCase, dtype: Float): Promise<Built> {
  const loss = createLoss(c.config.name, c.config);
  const g = new GraphBuilder(`loss_${c.id}`);
  const xs = c.columns.map((_, i) => g.input(`x${i}`, dtype, ['batch', goldens.dim]));
  const label = c.labels ? goldens.labels[c.labels] : null;
  let labels: Value | null = null;
  if (label?.kind === 'score') labels = g.input('labels', dtype, ['batch']);
  else if (label?.kind === 'class') labels = g.input('labels', 'int64', ['batch']);
  else if (label?.kind === 'embedding') labels = g.input('labels', dtype, ['batch', goldens.dim]);
  const paramData = c.params ? goldens.params[c.params] : {};
  const src = new FeedParams(g, dtype, new Map(Object.entries(paramData).map(([k, v]) => [k, dimsOf(v)])));
  const value = loss.build({ g, embeddings: xs, labels, params: src });
  assert.deepEqual(value.shape, [], 'the loss is a scalar');
  g.output(value, 'loss');
  const params = [...src.inputs.keys()];
  const wrt = [...xs, ...src.inputs.values()];
  const grads = gradients(g, value, wrt);
  wrt.forEach((w, i) => {
    const gv = grads.get(w);
    assert.ok(gv, `${c.id}: no gradient reaches ${w.name}`);
    g.output(gv, `grad_${i}`);
  });
  const session = await Session.create(g.graph, { threads: 1, cache: false });
  const feeds = (rows: number): Record<string, TensorData> => {
    const f: Record<string, TensorData> = {};
    c.columns.forEach((col, i) => (f[`x${i}`] = floats(dtype, [rows, goldens.dim], goldens.embeddings[col].slice(0, rows).flat())));
    if (label) {
      const vals = label.values.slice(0, rows) as Matrix | number[];
      if (label.kind === 'class') f.labels = { dtype: 'int64', dims: [rows], data: BigInt64Array.from((vals as number[]).map((v) => BigInt(v))) };
      else f.labels = floats(dtype, dimsOf(vals), flat(vals));
    }
    for (const [k, v] of Object.entries(paramData)) f[k] = floats(dtype, dimsOf(v), flat(v));
    return f;
  };
  return { session, columns: c.columns.length, params, feeds };
}

function assertClose(actual: ArrayLike<number>, expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 1;
  for (const e of expected) scale = Math.max(scale, Math.abs(e));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(Number(actual[i]) - expected[i]);
    if (d > worst) {
      worst = d;
      at = i;
    }
  }
  assert.ok(worst <= tol * scale, `${what}: max difference ${worst.toExponential(2)} at ${at} (ours ${actual[at]}, PyTorch ${expected[at]})`);
}

async function check(c: GoldenCase, built: Built, rows: 6 | 4, dtype: Float): Promise<void> {
  const golden = rows === 6 ? c.batch6 : c.batch4;
  const out = await built.session.run(built.feeds(rows));
  const loss = Number(out.loss.data[0]);
  const [lossTol, gradTol] = dtype === 'float64' ? [1e-9, 1e-7] : [2e-4, 2e-3];
  const what = `${c.id} (${dtype}, batch ${rows})`;
  assert.ok(Math.abs(loss - golden.loss) <= lossTol * Math.abs(golden.loss) + 1e-15, `${what}: loss ${loss}, PyTorch ${golden.loss}`);
  golden.grads.forEach((gr, i) => {
    assert.deepEqual(out[`grad_${i}`].dims, [rows, goldens.dim], `${what}: gradient ${i} dims`);
    assertClose(out[`grad_${i}`].data as Float64Array, gr.flat(), gradTol, `${what}: d loss / d column ${i}`);
  });
  built.params.forEach((p, k) => {
    const expected = golden.param_grads?.[p];
    assert.ok(expected, `${what}: no reference gradient for ${p}`);
    assertClose(out[`grad_${built.columns + k}`].data as Float64Array, flat(expected), gradTol, `${what}: d loss / d ${p}`);
  });
}

for (const c of goldens.cases) {
  test(`${c.id}: loss and gradients match PyTorch, one graph for batch 6 and batch 4`, async () => {
    const built = await buildCase(c, 'float64');
    try {
      await check(c, built, 6, 'float64');
      await check(c, built, 4, 'float64');
    } finally {
      await built.session.release();
    }
  });
}

test('every loss builds and runs in float32 with float32 score labels', async () => {
  for (const c of goldens.cases) {
    const built = await buildCase(c, 'float32');
    try {
      await check(c, built, 6, 'float32');
    } finally {
      await built.session.release();
    }
  }
});

test('the goldens cover every loss createLoss knows', () => {
  const covered = new Set<string>();
  for (const c of goldens.cases) {
    covered.add(c.config.name);
    if (c.config.name === 'MatryoshkaLoss') covered.add((c.config.loss as { name: string }).name);
  }
  // the cached variant builds the same objective (test/accumulation.test.ts checks its GradCache training)
  if (covered.has('MultipleNegativesRankingLoss')) covered.add('CachedMultipleNegativesRankingLoss');
  assert.deepEqual(LOSS_NAMES.filter((n) => !covered.has(n)), []);
});

// ---- finite differences ----

let seed = 7;
function rnd(n: number): Float64Array {
  return Float64Array.from({ length: n }, () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed / 4294967296 - 0.5) * 2;
  });
}
function column(name: string, rows = 5, dim = 6): CheckInput {
  return { name, dtype: 'float64', dims: [rows, dim], data: rnd(rows * dim) };
}

function constLabels(g: GraphBuilder, kind: 'score' | 'class', values: number[]): Value {
  return kind === 'score'
    ? g.constant({ dtype: 'float64', dims: [values.length], data: Float64Array.from(values) })
    : g.constant({ dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values.map((v) => BigInt(v))) });
}

const noParams: ParamSource = {
  tensor: () => { throw new Error('no parameters'); },
  linear: () => { throw new Error('no parameters'); },
};

const fdCases: [string, Loss, number, ['score' | 'class', number[]] | null][] = [
  ['CoSENTLoss', new CoSENTLoss({ scale: 5 }), 2, ['score', [0.2, 0.9, 0.5, 0.5, 0.1]]],
  ['AnglELoss', new AnglELoss({ scale: 3 }), 2, ['score', [0.3, 0.1, 0.8, 0.6, 0.2]]],
  ['MultipleNegativesSymmetricRankingLoss (hard negative)', new MultipleNegativesSymmetricRankingLoss({ scale: 4 }), 3, null],
  ['BatchHardTripletLoss', new BatchHardTripletLoss({ margin: 1 }), 1, ['class', [0, 1, 0, 1, 1]]],
  ['BatchAllTripletLoss', new BatchAllTripletLoss({ margin: 1.5 }), 1, ['class', [2, 0, 2, 0, 0]]],
  ['ContrastiveLoss (euclidean)', new ContrastiveLoss({ distanceMetric: 'euclidean', margin: 3 }), 2, ['class', [1, 0, 1, 0, 0]]],
  ['OnlineContrastiveLoss', new OnlineContrastiveLoss({ margin: 1.5 }), 2, ['class', [1, 0, 1, 0, 1]]],
  ['MatryoshkaLoss (MultipleNegativesRankingLoss)', new MatryoshkaLoss(new MultipleNegativesRankingLoss(), { dims: [6, 4, 2], weights: [1, 0.5, 2] }), 2, null],
];

for (const [name, loss, cols, labels] of fdCases) {
  test(`finite differences: ${name}`, async () => {
    const inputs = Array.from({ length: cols }, (_, i) => column(`x${i}`));
    const r = await gradCheck((g, xs) => loss.build({ g, embeddings: xs, labels: labels ? constLabels(g, labels[0], labels[1]) : null, params: noParams }), inputs);
    assert.ok(r.maxRelError <= 1e-6, `${name}: relative error ${r.maxRelError.toExponential(2)} (${r.worst})`);
  });
}

test('finite differences: SoftmaxLoss, embeddings and classifier', async () => {
  const loss = new SoftmaxLoss({ embeddingDim: 6, numLabels: 3, concatenationSentMultiplication: true });
  const init = loss.parameters();
  const w = init.get('classifier.weight')!;
  const b = init.get('classifier.bias')!;
  const inputs: CheckInput[] = [
    column('u'),
    column('v'),
    { name: 'classifier.weight', dtype: 'float64', dims: w.shape, data: Float64Array.from(w.data) },
    { name: 'classifier.bias', dtype: 'float64', dims: b.shape, data: Float64Array.from(b.data) },
  ];
  const r = await gradCheck((g, [u, v, weight, bias]) => {
    const params: ParamSource = { tensor: () => { throw new Error('unused'); }, linear: () => ({ weight: g.transpose(weight, [1, 0]), bias }) };
    return loss.build({ g, embeddings: [u, v], labels: constLabels(g, 'class', [0, 2, 1, 1, 0]), params });
  }, inputs);
  assert.ok(r.maxRelError <= 1e-6, `SoftmaxLoss: relative error ${r.maxRelError.toExponential(2)} (${r.worst})`);
});

// ---- parameters, configs, errors ----

test('SoftmaxLoss parameters follow torch Linear initialisation and are seeded', () => {
  const loss = new SoftmaxLoss({ embeddingDim: 8, numLabels: 3 });
  const p = loss.parameters();
  const w = p.get('classifier.weight')!;
  const b = p.get('classifier.bias')!;
  assert.deepEqual(w.shape, [3, 24]);
  assert.deepEqual(b.shape, [3]);
  const bound = 1 / Math.sqrt(24);
  for (const x of [...w.data, ...b.data]) assert.ok(Math.abs(x) <= bound);
  assert.ok(Math.max(...w.data.map(Math.abs)) > bound / 2, 'weights spread over the range');
  assert.deepEqual(new SoftmaxLoss({ embeddingDim: 8, numLabels: 3 }).parameters().get('classifier.weight')!.data, w.data);
  assert.notDeepEqual(new SoftmaxLoss({ embeddingDim: 8, numLabels: 3, seed: 1 }).parameters().get('classifier.weight')!.data, w.data);
  assert.deepEqual(new SoftmaxLoss({ embeddingDim: 8, numLabels: 3, concatenationSentMultiplication: true }).parameters().get('classifier.weight')!.shape, [3, 32]);
});

test('createLoss builds from training configs and reports sentence-transformers configs', () => {
  const cosent = createLoss('CoSENTLoss', { name: 'CoSENTLoss', scale: 20 });
  assert.equal(cosent.name, 'CoSENTLoss');
  assert.equal(cosent.labelKind, 'score');
  assert.deepEqual(cosent.config(), { scale: 20, similarity_fct: 'pairwise_cos_sim' });
  assert.deepEqual(createLoss('AnglELoss', {}).config(), { scale: 20, similarity_fct: 'pairwise_angle_sim' });
  assert.deepEqual(createLoss('MultipleNegativesRankingLoss', {}).config(), { scale: 20, similarity_fct: 'cos_sim' });
  assert.deepEqual(createLoss('TripletLoss', {}).config(), { distance_metric: 'TripletDistanceMetric.EUCLIDEAN', triplet_margin: 5 });
  assert.deepEqual(createLoss('ContrastiveLoss', {}).config(), { distance_metric: 'SiameseDistanceMetric.COSINE_DISTANCE', margin: 0.5, size_average: true });
  assert.deepEqual(createLoss('CosineSimilarityLoss', {}).config(), { loss_fct: 'torch.nn.modules.loss.MSELoss' });
  assert.deepEqual(createLoss('MarginMSELoss', {}).config(), { similarity_fct: 'pairwise_dot_score' });
  const mnrl = createLoss('MultipleNegativesRankingLoss', {});
  assert.deepEqual([mnrl.columns.min, mnrl.columns.max, mnrl.labelKind], [2, Infinity, 'none']);
  const m = createLoss('MatryoshkaLoss', { name: 'MatryoshkaLoss', loss: { name: 'CoSENTLoss', scale: 10 }, dims: [64, 256, 128], weights: [3, 1, 2] });
  assert.deepEqual(m.config(), { loss: 'CoSENTLoss', matryoshka_dims: [256, 128, 64], matryoshka_weights: [1, 2, 3], n_dims_per_step: -1 });
  assert.equal(m.labelKind, 'score');
  assert.deepEqual(m.columns, cosent.columns);
  const ms = createLoss('MatryoshkaLoss', { loss: { name: 'SoftmaxLoss', embeddingDim: 4, numLabels: 2 }, dims: [4, 2] });
  assert.deepEqual([...ms.parameters!().keys()], ['classifier.weight', 'classifier.bias']);
});

test('createLoss names the bad key and what is allowed', () => {
  const throwsWith = (f: () => unknown, ...parts: string[]): void => {
    assert.throws(f, (e: Error) => {
      for (const p of parts) assert.ok(e.message.includes(p), `"${e.message}" lacks "${p}"`);
      return true;
    });
  };
  throwsWith(() => createLoss('CoSentLoss', {}), 'unknown loss "CoSentLoss"', 'CoSENTLoss', 'MultipleNegativesRankingLoss');
  throwsWith(() => createLoss('CoSENTLoss', { scael: 20 }), 'unknown option "scael"', 'scale, similarityFct');
  throwsWith(() => createLoss('MSELoss', { scale: 1 }), 'unknown option "scale"', '(none)');
  throwsWith(() => createLoss('CoSENTLoss', { scale: '20' }), 'option "scale"', 'a finite number');
  throwsWith(() => createLoss('MultipleNegativesRankingLoss', { similarityFct: 'cosine' }), 'option "similarityFct"', '"cos_sim", "dot_score", "euclidean_sim", "manhattan_sim"');
  throwsWith(() => createLoss('TripletLoss', { distanceMetric: 'EUCLIDEAN' }), 'option "distanceMetric"', '"euclidean", "manhattan", "cosine"');
  throwsWith(() => createLoss('BatchHardTripletLoss', { distanceMetric: 'manhattan' }), 'option "distanceMetric"', '"euclidean", "cosine"');
  throwsWith(() => createLoss('ContrastiveLoss', { sizeAverage: 1 }), 'option "sizeAverage"', 'true or false');
  throwsWith(() => createLoss('SoftmaxLoss', { numLabels: 3 }), 'option "embeddingDim" is required');
  throwsWith(() => createLoss('SoftmaxLoss', { embeddingDim: 8, numLabels: 2.5 }), 'option "numLabels"', 'an integer');
  throwsWith(() => createLoss('CoSENTLoss', { name: 'AnglELoss' }), 'option "name"');
  throwsWith(() => createLoss('MatryoshkaLoss', { dims: [8] }), 'option "loss" is required');
  throwsWith(() => createLoss('MatryoshkaLoss', { loss: 'CoSENTLoss', dims: [8] }), 'option "loss"', 'a loss config object');
  throwsWith(() => createLoss('MatryoshkaLoss', { loss: { name: 'CoSENTLoss' }, dims: [8, 0] }), 'option "dims"', 'positive integers');
  throwsWith(() => createLoss('MatryoshkaLoss', { loss: { name: 'CoSENTLoss' }, dims: [8, 4], weights: [1] }), 'weights has 1 entries but dims has 2');
  throwsWith(() => createLoss('MatryoshkaLoss', { loss: { name: 'CoSENTLoss', margin: 1 }, dims: [8] }), 'CoSENTLoss: unknown option "margin"');
  throwsWith(() => createLoss('MatryoshkaLoss', { loss: { name: 'Nope' }, dims: [8] }), 'unknown loss "Nope"');
});

test('build rejects the wrong number of columns and missing labels', () => {
  const g = new GraphBuilder('errors');
  const x = g.input('x', 'float64', ['batch', 4]);
  const y = g.input('y', 'float64', ['batch']);
  assert.throws(() => createLoss('TripletLoss', {}).build({ g, embeddings: [x, x], labels: null, params: noParams }), /TripletLoss takes 3 text column\(s\) \(anchor, positive, negative\), got 2/);
  assert.throws(() => createLoss('MultipleNegativesRankingLoss', {}).build({ g, embeddings: [x], labels: null, params: noParams }), /takes at least 2 text column/);
  assert.throws(() => createLoss('CoSENTLoss', {}).build({ g, embeddings: [x, x], labels: null, params: noParams }), /CoSENTLoss needs score labels/);
  assert.throws(() => createLoss('AnglELoss', {}).build({ g, embeddings: [g.input('odd', 'float64', ['batch', 5]), x], labels: y, params: noParams }), /even, fixed embedding dimension/);
  assert.throws(() => createLoss('MatryoshkaLoss', { loss: { name: 'MultipleNegativesRankingLoss' }, dims: [8, 2] }).build({ g, embeddings: [x, x], labels: null, params: noParams }), /dimension 8 exceeds the embedding dimension 4/);
});
