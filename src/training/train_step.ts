// Runs training steps: compiles the step graph (once per number of text columns), keeps the
// AdamW moments, assembles a batch of tokenized texts into the stacked [columns·batch, seq]
// input, computes the step's scalars in float64 and binds every updated parameter and moment to
// its own buffer so onnxruntime writes the new values in place.

import type { TensorData } from '../graph/ir.js';
import type { Loss } from '../losses/loss.js';
import type { SentenceTransformer } from '../models/sentence_transformer.js';
import { Session } from '../runtime/session.js';
import { buildTrainGraph, collectParams, type BuiltTrainGraph } from './train_graph.js';
import type { TrainableParam } from './param_source.js';

export interface OptimizerOptions {
  learningRate: number;
  weightDecay: number;
  betas: [number, number];
  eps: number;
  maxGradNorm: number | null;
  /** Seed of the dropout masks; null: dropout off. */
  dropoutSeed: number | null;
  freezeWordEmbeddings: boolean;
  threads?: number;
}

export interface StepBatch {
  /** Token ids per column, each a list of examples' ids (with special tokens). */
  columns: number[][][];
  labels: TensorData | null;
}

export interface StepResult {
  loss: number;
  gradNorm: number;
  finite: boolean;
  tokens: number;
  paddedTokens: number;
}

export class TrainStep {
  readonly params: TrainableParam[];
  /** AdamW first and second moments by parameter name. */
  readonly moments: Map<string, { m: Float32Array; v: Float32Array }>;
  private readonly graphs = new Map<string, Promise<{ built: BuiltTrainGraph; session: Session }>>();

  /** `moments` may be shared between steps of several losses training the same model. */
  constructor(readonly model: SentenceTransformer, readonly loss: Loss, readonly opts: OptimizerOptions, moments?: Map<string, { m: Float32Array; v: Float32Array }>) {
    this.params = collectParams(model, loss, opts.freezeWordEmbeddings);
    this.moments = moments ?? new Map();
    for (const p of this.params) {
      if (p.trainable && !this.moments.has(p.name)) this.moments.set(p.name, { m: new Float32Array(p.param.data.length), v: new Float32Array(p.param.data.length) });
    }
  }

  private graph(columns: number, labelDim: number | undefined): Promise<{ built: BuiltTrainGraph; session: Session }> {
    const key = `${columns}|${labelDim ?? ''}`;
    let p = this.graphs.get(key);
    if (!p) {
      const built = buildTrainGraph(this.model, this.loss, this.params, {
        columns, labelDim, maxGradNorm: this.opts.maxGradNorm, betas: this.opts.betas, eps: this.opts.eps,
        dropoutSeed: this.opts.dropoutSeed, freezeWordEmbeddings: this.opts.freezeWordEmbeddings,
      });
      p = Session.create(built.bytes, { threads: this.opts.threads, cache: false }).then((session) => ({ built, session }));
      this.graphs.set(key, p);
    }
    return p;
  }

  /** Runs one optimizer step at learning rate `lr` as step number `t` (1-based, for bias correction). */
  async run(batch: StepBatch, lr: number, t: number): Promise<StepResult> {
    const columns = batch.columns.length;
    const labelDim = batch.labels && batch.labels.dims.length === 2 ? batch.labels.dims[1] : undefined;
    const { built, session } = await this.graph(columns, labelDim);
    const B = batch.columns[0].length;
    let S = 1;
    let tokens = 0;
    for (const col of batch.columns) for (const ids of col) {
      S = Math.max(S, ids.length);
      tokens += ids.length;
    }
    const N = columns * B;
    const inputIds = new BigInt64Array(N * S).fill(BigInt(this.model.tokenizer.padTokenId));
    const mask = new BigInt64Array(N * S);
    let r = 0;
    for (const col of batch.columns) {
      if (col.length !== B) throw new Error(`every column of a batch needs ${B} texts, one has ${col.length}`);
      for (const ids of col) {
        for (let j = 0; j < ids.length; j++) {
          inputIds[r * S + j] = BigInt(ids[j]);
          mask[r * S + j] = 1n;
        }
        r++;
      }
    }
    const b1 = this.opts.betas[0];
    const b2 = this.opts.betas[1];
    const scalar = (x: number): TensorData => ({ dtype: 'float32', dims: [], data: Float32Array.of(x) });
    const feeds: Record<string, TensorData> = {
      input_ids: { dtype: 'int64', dims: [N, S], data: inputIds },
      attention_mask: { dtype: 'int64', dims: [N, S], data: mask },
      decay_mult: scalar(1 - lr * this.opts.weightDecay),
      step_size: scalar(lr / (1 - b1 ** t)),
      bias_correction2_sqrt: scalar(Math.sqrt(1 - b2 ** t)),
    };
    if (batch.labels) feeds.labels = batch.labels;
    const into: Record<string, TensorData> = {};
    for (const p of built.inputs) feeds[p.name] = { dtype: 'float32', dims: p.param.shape, data: p.param.data };
    for (const p of built.updated) {
      const mv = this.moments.get(p.name)!;
      feeds[`${p.name}:m`] = { dtype: 'float32', dims: p.param.shape, data: mv.m };
      feeds[`${p.name}:v`] = { dtype: 'float32', dims: p.param.shape, data: mv.v };
      into[`${p.name}:new`] = feeds[p.name];
      into[`${p.name}:m:new`] = feeds[`${p.name}:m`];
      into[`${p.name}:v:new`] = feeds[`${p.name}:v`];
    }
    const res = await session.runInto(feeds, into, ['loss', 'grad_norm', 'finite']);
    return {
      loss: Number(res.loss.data[0]),
      gradNorm: Number(res.grad_norm.data[0]),
      finite: Number(res.finite.data[0]) === 1,
      tokens,
      paddedTokens: N * S,
    };
  }

  async close(): Promise<void> {
    for (const p of this.graphs.values()) await (await p).session.release();
    this.graphs.clear();
  }
}
