// Runs training steps: compiles the step graph (once per number of text columns), keeps the
// AdamW moments, assembles a batch of tokenized texts into the stacked [columns·batch, seq]
// input, computes the step's scalars in float64 and binds every updated parameter and moment to
// its own buffer so onnxruntime writes the new values in place.

import type { TensorData } from '../graph/ir.js';
import type { Loss } from '../losses/loss.js';
import type { SentenceTransformer } from '../models/sentence_transformer.js';
import { Session, type SessionOptions } from '../runtime/session.js';
import { buildTrainGraph, collectParams, TOKEN_TABLES, type BuiltTrainGraph } from './train_graph.js';
import type { TrainableParam } from './param_source.js';
import { dropoutMasks } from './dropout_masks.js';
import { stackRows } from './stack.js';

export interface OptimizerOptions {
  learningRate: number;
  weightDecay: number;
  betas: [number, number];
  eps: number;
  maxGradNorm: number | null;
  /** Seed of the dropout masks (which depend on it and the step number only); null: dropout off. */
  dropoutSeed: number | null;
  freezeWordEmbeddings: boolean;
  /** Update only the word-embedding rows each batch uses (lazy AdamW on the table). */
  sparseEmbeddings?: boolean;
  threads?: number;
  /** onnxruntime options of the step sessions (profiling, spinning, memory arena). */
  session?: Pick<SessionOptions, 'profile' | 'profilePrefix' | 'spinning' | 'memArena'>;
}

/**
 * Session options of the training sessions: the caller's, with onnxruntime's memory arena off
 * unless asked for (a 32 pairs × 128 tokens MiniLM step peaks ~40 % lower without it, at a few
 * per cent of speed; `npm run bench` measures both).
 */
export function stepSessionOptions(o: OptimizerOptions): SessionOptions {
  return { ...o.session, memArena: o.session?.memArena ?? false, threads: o.threads };
}

/** Where the last step's wall time went on the JavaScript side, in milliseconds. */
export interface StepTimings {
  /** Stacking the columns into padded int64 input_ids and attention_mask. */
  stack: number;
  /** Drawing the dropout keep-masks. */
  masks: number;
  /** Building the feed and bound-output records (and gathering sparse embedding rows). */
  feeds: number;
  /** session.run: onnxruntime's own time plus the binding's tensor wrapping and copies. */
  run: number;
  /** Writing sparse embedding rows back into the table. */
  scatter: number;
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
  /** JavaScript-side timings of the last run() (see StepTimings). */
  lastTimings: StepTimings = { stack: 0, masks: 0, feeds: 0, run: 0, scatter: 0 };
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
        sparseEmbeddings: this.opts.sparseEmbeddings,
      });
      p = Session.create(built.bytes, { ...stepSessionOptions(this.opts), cache: false }).then((session) => ({ built, session }));
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
    for (const col of batch.columns) if (col.length !== B) throw new Error(`every column of a batch needs ${B} texts, one has ${col.length}`);
    const t0 = performance.now();
    const st = stackRows(batch.columns.flat(), this.model.tokenizer.padTokenId);
    const [N, S] = st.dims;
    const { ids: inputIds, mask, tokens } = st;
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
    const t1 = performance.now();
    if (built.dropoutSites.length && this.opts.dropoutSeed !== null) {
      const c = this.model.transformer.config;
      Object.assign(feeds, dropoutMasks(built.dropoutSites, { n: N, s: S, hidden: c.hiddenSize, heads: c.numAttentionHeads }, this.opts.dropoutSeed, t));
    }
    const t2 = performance.now();
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
    const sparse = built.updated.find((p) => TOKEN_TABLES.has(p.name) && this.opts.sparseEmbeddings);
    let rows: Rows | null = null;
    if (sparse) {
      rows = gatherRows(inputIds, sparse.param.data, this.moments.get(sparse.name)!, sparse.param.shape[1]);
      const dims = [rows.ids.length, sparse.param.shape[1]];
      feeds.input_ids = { dtype: 'int64', dims: [N, S], data: rows.local };
      feeds[sparse.name] = { dtype: 'float32', dims, data: rows.p };
      feeds[`${sparse.name}:m`] = { dtype: 'float32', dims, data: rows.m };
      feeds[`${sparse.name}:v`] = { dtype: 'float32', dims, data: rows.v };
      into[`${sparse.name}:new`] = feeds[sparse.name];
      into[`${sparse.name}:m:new`] = feeds[`${sparse.name}:m`];
      into[`${sparse.name}:v:new`] = feeds[`${sparse.name}:v`];
    }
    const t3 = performance.now();
    const res = await session.runInto(feeds, into, ['loss', 'grad_norm', 'finite']);
    const t4 = performance.now();
    if (sparse && rows) scatterRows(rows, sparse.param.data, this.moments.get(sparse.name)!, sparse.param.shape[1]);
    this.lastTimings = { stack: t1 - t0, masks: t2 - t1, feeds: t3 - t2, run: t4 - t3, scatter: performance.now() - t4 };
    return {
      loss: Number(res.loss.data[0]),
      gradNorm: Number(res.grad_norm.data[0]),
      finite: Number(res.finite.data[0]) === 1,
      tokens,
      paddedTokens: N * S,
    };
  }

  /** Ends profiling of every step session (created with `session.profile`), writing the traces. */
  async endProfiling(): Promise<void> {
    for (const p of this.graphs.values()) (await p).session.endProfiling();
  }

  async close(): Promise<void> {
    for (const p of this.graphs.values()) await (await p).session.release();
    this.graphs.clear();
  }
}

interface Rows {
  /** The distinct token ids of the batch, ascending. */
  ids: Int32Array;
  /** input_ids rewritten as positions in `ids`. */
  local: BigInt64Array;
  p: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

/** Copies out the table rows (and their moments) that a batch's ids use. */
function gatherRows(inputIds: BigInt64Array, table: Float32Array, mv: { m: Float32Array; v: Float32Array }, width: number): Rows {
  const uniq = Int32Array.from(new Set(Array.from(inputIds, Number))).sort();
  const pos = new Map<number, number>();
  uniq.forEach((id, i) => pos.set(id, i));
  const local = BigInt64Array.from(inputIds, (x) => BigInt(pos.get(Number(x))!));
  const n = uniq.length * width;
  const p = new Float32Array(n);
  const m = new Float32Array(n);
  const v = new Float32Array(n);
  uniq.forEach((id, i) => {
    p.set(table.subarray(id * width, (id + 1) * width), i * width);
    m.set(mv.m.subarray(id * width, (id + 1) * width), i * width);
    v.set(mv.v.subarray(id * width, (id + 1) * width), i * width);
  });
  return { ids: uniq, local, p, m, v };
}

/** Writes the updated rows back into the table and its moments. */
function scatterRows(r: Rows, table: Float32Array, mv: { m: Float32Array; v: Float32Array }, width: number): void {
  r.ids.forEach((id, i) => {
    table.set(r.p.subarray(i * width, (i + 1) * width), id * width);
    mv.m.set(r.m.subarray(i * width, (i + 1) * width), id * width);
    mv.v.set(r.v.subarray(i * width, (i + 1) * width), id * width);
  });
}
