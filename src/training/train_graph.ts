// The training graphs: the model's forward pass (built by the pipeline builder, weights as
// inputs) over every text column of the batch (stacked into one [columns·batch, seq] input),
// the loss and reverse-mode gradients of every trainable parameter; also the accumulating,
// embed-only and loss-gradient graphs the accumulated and GradCache steps combine. AdamW runs
// on the gradients outside the graphs (optimizer.ts).
// Inputs of the one-graph step: input_ids, attention_mask, [labels], [dropout masks] and each
// parameter; outputs: loss, grad_norm, finite, and each updated parameter's gradient
// `${name}:grad` (bound to the optimizer's gradient buffers).

import { GraphBuilder } from '../graph/builder.js';
import { gradients } from '../graph/autodiff.js';
import '../graph/grad/index.js';
import type { Value } from '../graph/ir.js';
import { prune } from '../graph/prune.js';
import { toModelProto } from '../graph/serialise.js';
import type { Loss } from '../losses/loss.js';
import type { Features } from '../models/features.js';
import { DropoutMode, type DropoutSite } from '../models/module.js';
import { buildPipeline, paramNamespace } from '../models/pipeline.js';
import type { SentenceTransformer } from '../models/sentence_transformer.js';
import { gradNormGraph } from './optimizer.js';
import { decays, InputParamSource, type TrainableParam } from './param_source.js';

export interface TrainGraphOptions {
  /** Text columns per example (anchor, positive, negatives…). */
  columns: number;
  /** Width of embedding labels (MSELoss); other label kinds need none. */
  labelDim?: number;
  /** Seed of the dropout masks; null turns dropout off. */
  dropoutSeed: number | null;
  freezeWordEmbeddings: boolean;
  /**
   * Feed the token table as the rows the batch uses ([rows, width]; input_ids index those
   * rows), so that its gradient is [rows, width] too: no vocabulary-sized zero fill, scatter,
   * norm and copy in the step. The optimizer then updates either those rows alone (sparse
   * embeddings) or the whole table from the rows scattered into its gradient buffer.
   */
  tableRows?: boolean;
}


/** Training graphs use opset 20 for its single-op Gelu. */
export const TRAIN_OPSET = 20;

/** Every parameter the step reads, in a stable order, with its trainability and decay group. */
export function collectParams(model: SentenceTransformer, loss: Loss, freezeWordEmbeddings: boolean): TrainableParam[] {
  const out: TrainableParam[] = [];
  model.modules.forEach((m, i) => {
    const ns = paramNamespace(m, i, '/');
    for (const [name, param] of m.module.parameters()) {
      out.push({ name: ns + name, param, trainable: !(freezeWordEmbeddings && name === m.module.tokenTable), decay: decays(name) });
    }
  });
  for (const [name, param] of loss.parameters?.() ?? new Map()) out.push({ name: `loss/${name}`, param, trainable: true, decay: decays(name) });
  return out;
}

/** The input module's token table (its name among the step's parameters), if it has one. */
export function tokenTableName(model: SentenceTransformer): string | null {
  return model.inputModule.tokenTable ?? null;
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
  const table = tokenTableName(model);
  const src = new InputParamSource(g, lookup, '', sparse && table ? new Set([table]) : new Set());
  const features: Features = { inputIds, attentionMask, tokenTypeIds: null, promptLength: null };
  const dropout = dropoutSeed === null ? null : new DropoutMode(dropoutSeed, true);
  const f = buildPipeline(g, model.modules, (m, i) => (i === 0 ? src : new InputParamSource(g, lookup, paramNamespace(m, i, '/'))), features, { kind: 'training', dropout });
  const dropoutSites = dropout ? [...dropout.sites] : [];
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

export function buildTrainGraph(model: SentenceTransformer, loss: Loss, params: TrainableParam[], o: TrainGraphOptions): BuiltTrainGraph {
  const pp = parts(params, 'train_step');
  const { g, lookup } = pp;
  const sparse = !!o.tableRows && !o.freezeWordEmbeddings;
  const { embeddings, dropoutSites } = forward(pp, model, o.columns, o.dropoutSeed, sparse);
  const labels = labelInput(g, loss, o.labelDim);
  const lossValue = g.scope('loss', () => loss.build({ g, embeddings, labels, params: new InputParamSource(g, lookup, 'loss/') }));
  g.output(lossValue, 'loss');
  const used = paramInputs(pp);
  const trainable = params.filter((p) => p.trainable && used.has(p.name));
  const grads = gradients(g, lossValue, trainable.map((p) => used.get(p.name)!));
  const updated = trainable.filter((p) => grads.get(used.get(p.name)!));
  gradNormGraph(g, updated, (n) => grads.get(used.get(n)!)!, lossValue);
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
