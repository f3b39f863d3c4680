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
import type { SentenceTransformer } from '../models/sentence_transformer.js';
import { BertTransformer } from '../models/transformer.js';
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

/** Every parameter the step reads, in a stable order, with its trainability and decay group. */
export function collectParams(model: SentenceTransformer, loss: Loss, freezeWordEmbeddings: boolean): TrainableParam[] {
  const out: TrainableParam[] = [];
  for (const m of model.modules) {
    if (m.module instanceof BertTransformer) {
      for (const [name, param] of m.module.params) {
        out.push({ name, param, trainable: !(freezeWordEmbeddings && name === WORD_EMBEDDINGS), decay: decays(name) });
      }
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
}

export function buildTrainGraph(model: SentenceTransformer, loss: Loss, params: TrainableParam[], o: TrainGraphOptions): BuiltTrainGraph {
  const g = new GraphBuilder('train_step');
  const byName = new Map(params.map((p) => [p.name, p]));
  const lookup = (n: string): TrainableParam => {
    const p = byName.get(n);
    if (!p) throw new Error(`training graph: no parameter ${n}`);
    return p;
  };
  const inputIds = g.input('input_ids', 'int64', ['n', 'seq']);
  const attentionMask = g.input('attention_mask', 'int64', ['n', 'seq']);
  let labels: Value | null = null;
  if (loss.labelKind === 'score') labels = g.input('labels', 'float32', ['batch']);
  else if (loss.labelKind === 'class') labels = g.input('labels', 'int64', ['batch']);
  else if (loss.labelKind === 'embedding') labels = g.input('labels', 'float32', ['batch', o.labelDim ?? 'label_dim']);
  const decayMult = g.input('decay_mult', 'float32', []);
  const stepSize = g.input('step_size', 'float32', []);
  const bc2Sqrt = g.input('bias_correction2_sqrt', 'float32', []);

  const sparse = !!o.sparseEmbeddings && !o.freezeWordEmbeddings;
  const src = new InputParamSource(g, lookup, '', sparse ? new Set([WORD_EMBEDDINGS]) : new Set());
  let f: Features = { inputIds, attentionMask, tokenTypeIds: null, promptLength: null };
  for (const m of model.modules) {
    const mod = m.module;
    if (mod instanceof BertTransformer) f = mod.build(g, src, f, { fuseQkv: false, dropout: o.dropoutSeed === null ? null : { seed: o.dropoutSeed } });
    else if (mod instanceof Pooling) f = mod.build(g, f);
    else if (mod instanceof Dense) f = mod.build(g, f, m.path, new InputParamSource(g, lookup, `${m.path}/`));
    else if (mod instanceof Normalize) f = mod.build(g, f);
  }
  const emb = f.sentenceEmbedding!;
  const dim = model.dimension;
  const stacked = g.reshape(emb, [o.columns, -1, dim]);
  const embeddings = Array.from({ length: o.columns }, (_, c) => g.gather(stacked, g.scalar(c, 'int64'), 0));
  const lossValue = g.scope('loss', () => loss.build({ g, embeddings, labels, params: new InputParamSource(g, lookup, 'loss/') }));
  g.output(lossValue, 'loss');

  const allUsed = new Map<string, Value>([...src.used]);
  // parameters of Dense modules and of the loss were created by their own sources: find them among graph inputs
  for (const v of g.graph.inputs) if (byName.has(v.name)) allUsed.set(v.name, v);
  const trainable = params.filter((p) => p.trainable && allUsed.has(p.name));
  const grads = gradients(g, lossValue, trainable.map((p) => allUsed.get(p.name)!));
  const updated = trainable.filter((p) => grads.get(allUsed.get(p.name)!));

  g.scope('optimizer', () => {
    let sumSq: Value | null = null;
    for (const p of updated) {
      const s = g.op1('ReduceSumSquare', [grads.get(allUsed.get(p.name)!)!], { keepdims: 0 });
      sumSq = sumSq ? g.add(sumSq, s) : s;
    }
    const norm = sumSq ? g.sqrt(sumSq) : g.scalar(0);
    g.output(norm, 'grad_norm');
    const check = g.add(norm, lossValue);
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
      const x = allUsed.get(p.name)!;
      const gr = g.where(finite, grads.get(x)!, g.scalar(0));
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
  prune(g.graph);
  const inputs = params.filter((p) => allUsed.has(p.name));
  return { bytes: toModelProto(g.graph, { opset: g.opset }), inputs, updated };
}
