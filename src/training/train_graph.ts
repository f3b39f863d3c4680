// One training step as one ONNX graph: the model's forward pass over every text column of the
// batch (stacked into one [columns·batch, seq] input), the loss, reverse-mode gradients of every
// trainable parameter, global-norm clipping and AdamW (PyTorch's update order):
//   c = min(max_norm / (‖g‖ + 1e-6), 1);  g ← c·g
//   p ← p·(1 − lr·wd);  m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²
//   p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
// Updates are applied only when the loss and the gradient norm are finite (the step's scalars
// are gated so that a non-finite step leaves every buffer bit-for-bit unchanged). The step-dependent
// scalars (1 − lr·wd, lr / (1 − β₁ᵗ), √(1 − β₂ᵗ)) are inputs computed in float64 by the trainer.
// Inputs: input_ids, attention_mask, [labels], the scalars, and each parameter with its two
// moments; outputs: loss, grad_norm, finite, and the updated parameters and moments (the trainer
// binds those outputs to the input buffers, so weights are updated in place with no copy).

import { GraphBuilder } from '../graph/builder.js';
import { gradients } from '../graph/autodiff.js';
import '../graph/grad/index.js';
import type { Value } from '../graph/ir.js';
import { prune } from '../graph/prune.js';
import { toModelProto } from '../graph/serialise.js';
import type { Loss } from '../losses/loss.js';
import { Dense } from '../models/dense.js';
import type { Features } from '../models/features.js';
import { Normalize } from '../models/normalize.js';
import { Pooling } from '../models/pooling.js';
import { StaticEmbedding, STATIC_TABLE } from '../models/static_embedding.js';
import type { SentenceTransformer } from '../models/sentence_transformer.js';
import { BertTransformer, type DropoutSite } from '../models/transformer.js';
import { decays, InputParamSource, type TrainableParam } from './param_source.js';

export interface TrainGraphOptions {
  /** Text columns per example (anchor, positive, negatives…). */
  columns: number;
  /** Width of embedding labels (MSELoss); other label kinds need none. */
  labelDim?: number;
  maxGradNorm: number | null;
  betas: [number, number];
  eps: number;
  /** Seed of the dropout masks; null turns dropout off. */
  dropoutSeed: number | null;
  freezeWordEmbeddings: boolean;
  /**
   * Feed only the word-embedding rows the batch uses (input_ids then index those rows) and
   * update only them: lazy AdamW on the table, as torch's SparseAdam; far less work per step.
   */
  sparseEmbeddings?: boolean;
}

export const WORD_EMBEDDINGS = 'embeddings.word_embeddings.weight';

/** Token-embedding tables (BERT's word embeddings, StaticEmbedding's table): sparse rows, freezable. */
export const TOKEN_TABLES: ReadonlySet<string> = new Set([WORD_EMBEDDINGS, STATIC_TABLE]);

/** Training graphs use opset 20 for its single-op Gelu. */
export const TRAIN_OPSET = 20;

/**
 * Separate query/key/value MatMuls in training: concatenating the three weights in-graph each
 * step (and splitting their gradient) measured slower than the three products.
 */
const FUSE_QKV = false;

/** Every parameter the step reads, in a stable order, with its trainability and decay group. */
export function collectParams(model: SentenceTransformer, loss: Loss, freezeWordEmbeddings: boolean): TrainableParam[] {
  const out: TrainableParam[] = [];
  for (const m of model.modules) {
    if (m.module instanceof BertTransformer) {
      for (const [name, param] of m.module.params) {
        out.push({ name, param, trainable: !(freezeWordEmbeddings && name === WORD_EMBEDDINGS), decay: decays(name) });
      }
    } else if (m.module instanceof StaticEmbedding) {
      for (const [name, param] of m.module.params) out.push({ name, param, trainable: !freezeWordEmbeddings, decay: decays(name) });
    } else if (m.module instanceof Dense) {
      for (const [name, param] of m.module.params()) out.push({ name: `${m.path}/${name}`, param, trainable: true, decay: decays(name) });
    }
  }
  for (const [name, param] of loss.parameters?.() ?? new Map()) out.push({ name: `loss/${name}`, param, trainable: true, decay: decays(name) });
  return out;
}

export interface BuiltTrainGraph {
  bytes: Uint8Array;
  /** Parameters that are graph inputs (in input order). */
  inputs: TrainableParam[];
  /** Parameters updated by the step (they received a gradient). */
  updated: TrainableParam[];
  /** Dropout sites whose keep-masks the caller feeds (empty with dropout off). */
  dropoutSites: DropoutSite[];
}

interface GraphParts {
  g: GraphBuilder;
  lookup: (n: string) => TrainableParam;
  byName: Map<string, TrainableParam>;
}

function parts(params: TrainableParam[], name: string): GraphParts {
  const g = new GraphBuilder(name, { opset: TRAIN_OPSET });
  const byName = new Map(params.map((p) => [p.name, p]));
  const lookup = (n: string): TrainableParam => {
    const p = byName.get(n);
    if (!p) throw new Error(`training graph: no parameter ${n}`);
    return p;
  };
  return { g, lookup, byName };
}

/** The model's forward pass with parameters as inputs: stacked ids → per-column embeddings. */
function forward(pp: GraphParts, model: SentenceTransformer, columns: number, dropoutSeed: number | null, sparse: boolean): { embeddings: Value[]; stackedEmb: Value; src: InputParamSource; dropoutSites: DropoutSite[] } {
  const { g, lookup } = pp;
  const inputIds = g.input('input_ids', 'int64', ['n', 'seq']);
  const attentionMask = g.input('attention_mask', 'int64', ['n', 'seq']);
  const src = new InputParamSource(g, lookup, '', sparse ? TOKEN_TABLES : new Set());
  let f: Features = { inputIds, attentionMask, tokenTypeIds: null, promptLength: null };
  let dropoutSites: DropoutSite[] = [];
  for (const m of model.modules) {
    const mod = m.module;
    if (mod instanceof BertTransformer) {
      f = mod.build(g, src, f, { fuseQkv: FUSE_QKV, dropout: dropoutSeed === null ? null : { seed: dropoutSeed, fedMasks: true } });
      dropoutSites = [...mod.dropoutSites];
    }
    else if (mod instanceof StaticEmbedding) f = mod.build(g, src, f);
    else if (mod instanceof Pooling) f = mod.build(g, f);
    else if (mod instanceof Dense) f = mod.build(g, f, m.path, new InputParamSource(g, lookup, `${m.path}/`));
    else if (mod instanceof Normalize) f = mod.build(g, f);
  }
  const emb = f.sentenceEmbedding!;
  const dim = model.dimension;
  if (columns === 1) return { embeddings: [emb], stackedEmb: emb, src, dropoutSites };
  const stacked = g.reshape(emb, [columns, -1, dim]);
  return { embeddings: Array.from({ length: columns }, (_, c) => g.gather(stacked, g.scalar(c, 'int64'), 0)), stackedEmb: emb, src, dropoutSites };
}

function labelInput(g: GraphBuilder, loss: Loss, labelDim: number | undefined): Value | null {
  if (loss.labelKind === 'score') return g.input('labels', 'float32', ['batch']);
  if (loss.labelKind === 'class') return g.input('labels', 'int64', ['batch']);
  if (loss.labelKind === 'embedding') return g.input('labels', 'float32', ['batch', labelDim ?? 'label_dim']);
  return null;
}

/** Graph inputs that are parameters, by name. */
function paramInputs(pp: GraphParts): Map<string, Value> {
  const m = new Map<string, Value>();
  for (const v of pp.g.graph.inputs) if (pp.byName.has(v.name)) m.set(v.name, v);
  return m;
}

interface AdamWOptions {
  maxGradNorm: number | null;
  betas: [number, number];
  eps: number;
}

/**
 * Global-norm clipping and AdamW on `updated` with gradients `gradOf(name)`; outputs
 * grad_norm, finite and every parameter's and moment's new value (`extraCheck` joins the
 * finiteness test, e.g. the loss).
 */
function adamw(g: GraphBuilder, updated: TrainableParam[], valueOf: (n: string) => Value, gradOf: (n: string) => Value, o: AdamWOptions, extraCheck: Value | null): void {
  const decayMult = g.input('decay_mult', 'float32', []);
  const stepSize = g.input('step_size', 'float32', []);
  const bc2Sqrt = g.input('bias_correction2_sqrt', 'float32', []);
  g.scope('optimizer', () => {
    let sumSq: Value | null = null;
    for (const p of updated) {
      const s = g.op1('ReduceSumSquare', [gradOf(p.name)], { keepdims: 0 });
      sumSq = sumSq ? g.add(sumSq, s) : s;
    }
    const norm = sumSq ? g.sqrt(sumSq) : g.scalar(0);
    g.output(norm, 'grad_norm');
    const check = extraCheck ? g.add(norm, extraCheck) : norm;
    const finite = g.equal(g.sub(check, check), g.scalar(0));
    g.output(finite, 'finite');
    const coef = o.maxGradNorm ? g.min(g.div(g.scalar(o.maxGradNorm), g.add(norm, g.scalar(1e-6))), g.scalar(1)) : g.scalar(1);
    // Step scalars, gated by `finite`: a non-finite step leaves p, m and v exactly as they were
    // (β = 1, scale 0, step 0, decay 1) after the gradient's NaNs are replaced by zeros.
    const [b1, b2] = o.betas;
    const gate = (on: Value, off: number): Value => g.where(finite, on, g.scalar(off));
    const b1e = gate(g.scalar(b1), 1);
    const b2e = gate(g.scalar(b2), 1);
    const s1 = gate(g.mul(coef, g.scalar(1 - b1)), 0);
    const s2 = gate(g.mul(g.mul(coef, coef), g.scalar(1 - b2)), 0);
    const stepE = gate(stepSize, 0);
    const decayE = gate(decayMult, 1);
    for (const p of updated) {
      const x = valueOf(p.name);
      const gr = g.where(finite, gradOf(p.name), g.scalar(0));
      const shape = x.shape ? [...x.shape] : [...p.param.shape];
      const m = g.input(`${p.name}:m`, 'float32', shape);
      const v = g.input(`${p.name}:v`, 'float32', shape);
      const m2 = g.add(g.mul(m, b1e), g.mul(gr, s1));
      const v2 = g.add(g.mul(v, b2e), g.mul(g.mul(gr, gr), s2));
      const denom = g.add(g.div(g.sqrt(v2), bc2Sqrt), g.scalar(o.eps));
      const decayed = p.decay ? g.mul(x, decayE) : x;
      g.output(g.sub(decayed, g.mul(stepE, g.div(m2, denom))), `${p.name}:new`);
      g.output(m2, `${p.name}:m:new`);
      g.output(v2, `${p.name}:v:new`);
    }
  });
}

export function buildTrainGraph(model: SentenceTransformer, loss: Loss, params: TrainableParam[], o: TrainGraphOptions): BuiltTrainGraph {
  const pp = parts(params, 'train_step');
  const { g, lookup } = pp;
  const sparse = !!o.sparseEmbeddings && !o.freezeWordEmbeddings;
  const { embeddings, dropoutSites } = forward(pp, model, o.columns, o.dropoutSeed, sparse);
  const labels = labelInput(g, loss, o.labelDim);
  const lossValue = g.scope('loss', () => loss.build({ g, embeddings, labels, params: new InputParamSource(g, lookup, 'loss/') }));
  g.output(lossValue, 'loss');
  const used = paramInputs(pp);
  const trainable = params.filter((p) => p.trainable && used.has(p.name));
  const grads = gradients(g, lossValue, trainable.map((p) => used.get(p.name)!));
  const updated = trainable.filter((p) => grads.get(used.get(p.name)!));
  adamw(g, updated, (n) => used.get(n)!, (n) => grads.get(used.get(n)!)!, o, lossValue);
  prune(g.graph);
  return { bytes: toModelProto(g.graph, { opset: g.opset }), inputs: params.filter((p) => used.has(p.name)), updated, dropoutSites };
}

export interface BuiltGradGraph {
  bytes: Uint8Array;
  inputs: TrainableParam[];
  /** Parameters whose gradient the graph adds into `${name}:acc`. */
  updated: TrainableParam[];
  dropoutSites: DropoutSite[];
}

/**
 * Forward and backward without the update: adds `loss_scale · ∂L/∂p` into each accumulator
 * (`${name}:acc` → `${name}:acc:new`, bound in place). With `seeded`, L is Σ emb ⊙ emb_grad for
 * a given `emb_grad` [n, dim] (the second pass of GradCache) instead of the loss.
 */
export function buildGradGraph(model: SentenceTransformer, loss: Loss | null, params: TrainableParam[], o: TrainGraphOptions & { seeded?: boolean }): BuiltGradGraph {
  const pp = parts(params, 'grad_step');
  const { g, lookup } = pp;
  const { embeddings, stackedEmb, dropoutSites } = forward(pp, model, o.seeded ? 1 : o.columns, o.dropoutSeed, false);
  let objective: Value;
  if (o.seeded) {
    const seed = g.input('emb_grad', 'float32', ['n', model.dimension]);
    objective = g.reduceSum(g.mul(stackedEmb, seed), [0, 1], false);
  } else {
    if (!loss) throw new Error('buildGradGraph: a loss is needed unless seeded');
    const labels = labelInput(g, loss, o.labelDim);
    objective = g.scope('loss', () => loss.build({ g, embeddings, labels, params: new InputParamSource(g, lookup, 'loss/') }));
    g.output(objective, 'loss');
  }
  const scale = g.input('loss_scale', 'float32', []);
  const used = paramInputs(pp);
  const trainable = params.filter((p) => p.trainable && used.has(p.name));
  const grads = gradients(g, objective, trainable.map((p) => used.get(p.name)!), scale);
  const updated = trainable.filter((p) => grads.get(used.get(p.name)!));
  for (const p of updated) {
    const acc = g.input(`${p.name}:acc`, 'float32', [...p.param.shape]);
    g.output(g.add(acc, grads.get(used.get(p.name)!)!), `${p.name}:acc:new`);
  }
  prune(g.graph);
  return { bytes: toModelProto(g.graph, { opset: g.opset }), inputs: params.filter((p) => used.has(p.name)), updated, dropoutSites };
}

/** Clipping and AdamW on accumulated gradients (`${name}:acc`), updating parameters and moments in place. */
export function buildApplyGraph(updated: TrainableParam[], o: AdamWOptions): Uint8Array {
  const g = new GraphBuilder('apply_step', { opset: TRAIN_OPSET });
  const ps = new Map(updated.map((p) => [p.name, g.input(p.name, 'float32', [...p.param.shape])]));
  const accs = new Map(updated.map((p) => [p.name, g.input(`${p.name}:acc`, 'float32', [...p.param.shape])]));
  adamw(g, updated, (n) => ps.get(n)!, (n) => accs.get(n)!, o, null);
  return toModelProto(g.graph, { opset: g.opset });
}

/** The forward pass alone (no dropout): stacked ids → sentence embeddings [n, dim]. */
export function buildEmbedGraph(model: SentenceTransformer, params: TrainableParam[]): { bytes: Uint8Array; inputs: TrainableParam[] } {
  const pp = parts(params, 'embed');
  const { stackedEmb } = forward(pp, model, 1, null, false);
  pp.g.output(stackedEmb, 'embeddings');
  prune(pp.g.graph);
  const used = paramInputs(pp);
  return { bytes: toModelProto(pp.g.graph, { opset: pp.g.opset }), inputs: params.filter((p) => used.has(p.name)) };
}

/** The loss on given embeddings (one [batch, dim] input per column) and its gradient with respect to each. */
export function buildLossGradGraph(loss: Loss, columns: number, dim: number, labelDim?: number): Uint8Array {
  const g = new GraphBuilder('loss_grad', { opset: TRAIN_OPSET });
  const embs = Array.from({ length: columns }, (_, c) => g.input(`emb_${c}`, 'float32', ['batch', dim]));
  const labels = labelInput(g, loss, labelDim);
  const value = g.scope('loss', () => loss.build({ g, embeddings: embs, labels, params: { tensor: () => { throw new Error('a loss with its own weights cannot be cached'); }, linear: () => { throw new Error('a loss with its own weights cannot be cached'); } } }));
  g.output(value, 'loss');
  const grads = gradients(g, value, embs);
  embs.forEach((e, c) => g.output(grads.get(e) ?? g.mul(e, g.scalar(0)), `emb_grad_${c}`));
  return toModelProto(g.graph, { opset: g.opset });
}
