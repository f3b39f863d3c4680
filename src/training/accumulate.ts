// Optimizer steps built from several forward/backward passes:
// - gradient accumulation: k micro-batches, each adding (1/k)·∂L/∂p into accumulators, then one
//   clipped AdamW update (as the Hugging Face Trainer, which divides each micro-batch loss by k);
// - GradCache for CachedMultipleNegativesRankingLoss: embed the whole batch in mini-batches
//   without gradients, compute the loss and ∂L/∂embeddings once, re-run each mini-batch
//   forward and back-propagate its slice of ∂L/∂embeddings into the accumulators, then update.
// Accumulators, parameters and moments are bound to onnxruntime outputs and updated in place.

import type { TensorData } from '../graph/ir.js';
import type { Loss } from '../losses/loss.js';
import { CachedMultipleNegativesRankingLoss } from '../losses/cached_multiple_negatives_ranking_loss.js';
import type { SentenceTransformer } from '../models/sentence_transformer.js';
import { Session } from '../runtime/session.js';
import type { TrainableParam } from './param_source.js';
import { buildApplyGraph, buildEmbedGraph, buildGradGraph, buildLossGradGraph, collectParams, type BuiltGradGraph } from './train_graph.js';
import { stepSessionOptions, type OptimizerOptions, type StepBatch, type StepResult } from './train_step.js';
import { dropoutMasks } from './dropout_masks.js';
import { stackRows } from './stack.js';

export class AccumulatingStep {
  readonly params: TrainableParam[];
  readonly moments: Map<string, { m: Float32Array; v: Float32Array }>;
  private readonly acc = new Map<string, Float32Array>();
  private readonly grads = new Map<string, Promise<{ built: BuiltGradGraph; session: Session }>>();
  private apply: Promise<Session> | null = null;
  private embed: Promise<{ inputs: TrainableParam[]; session: Session }> | null = null;
  private lossGrad = new Map<string, Promise<Session>>();
  private updated: TrainableParam[] | null = null;

  constructor(readonly model: SentenceTransformer, readonly loss: Loss, readonly opts: OptimizerOptions, moments?: Map<string, { m: Float32Array; v: Float32Array }>) {
    this.params = collectParams(model, loss, opts.freezeWordEmbeddings);
    this.moments = moments ?? new Map();
    for (const p of this.params) {
      if (!p.trainable) continue;
      if (!this.moments.has(p.name)) this.moments.set(p.name, { m: new Float32Array(p.param.data.length), v: new Float32Array(p.param.data.length) });
      this.acc.set(p.name, new Float32Array(p.param.data.length));
    }
  }

  get cached(): CachedMultipleNegativesRankingLoss | null {
    return this.loss instanceof CachedMultipleNegativesRankingLoss ? this.loss : null;
  }

  private gradGraph(columns: number, labelDim: number | undefined, seeded: boolean): Promise<{ built: BuiltGradGraph; session: Session }> {
    const key = `${columns}|${labelDim ?? ''}|${seeded}`;
    let p = this.grads.get(key);
    if (!p) {
      const built = buildGradGraph(this.model, seeded ? null : this.loss, this.params, {
        columns, labelDim, seeded, maxGradNorm: this.opts.maxGradNorm, betas: this.opts.betas, eps: this.opts.eps,
        dropoutSeed: seeded ? null : this.opts.dropoutSeed, freezeWordEmbeddings: this.opts.freezeWordEmbeddings,
      });
      p = Session.create(built.bytes, { ...stepSessionOptions(this.opts), cache: false }).then((session) => ({ built, session }));
      this.grads.set(key, p);
    }
    return p;
  }

  private paramFeeds(inputs: TrainableParam[], feeds: Record<string, TensorData>): void {
    for (const p of inputs) feeds[p.name] = { dtype: 'float32', dims: p.param.shape, data: p.param.data };
  }

  /** Runs the grad graph once, adding scale·∂objective/∂p into the accumulators; returns the loss (if any). */
  private async accumulate(rows: number[][], columns: number, labels: TensorData | null, scale: number, embGrad: Float32Array | null, step = 0, micro = 0): Promise<{ loss: number; tokens: number; padded: number }> {
    const labelDim = labels && labels.dims.length === 2 ? labels.dims[1] : undefined;
    const { built, session } = await this.gradGraph(columns, labelDim, embGrad !== null);
    this.updated ??= built.updated;
    const st = stackRows(rows, this.model.tokenizer.padTokenId);
    const feeds: Record<string, TensorData> = {
      input_ids: { dtype: 'int64', dims: st.dims, data: st.ids },
      attention_mask: { dtype: 'int64', dims: st.dims, data: st.mask },
      loss_scale: { dtype: 'float32', dims: [], data: Float32Array.of(scale) },
    };
    if (labels) feeds.labels = labels;
    if (embGrad) feeds.emb_grad = { dtype: 'float32', dims: [rows.length, this.model.dimension], data: embGrad };
    if (built.dropoutSites.length && this.opts.dropoutSeed !== null) {
      const c = this.model.transformer.config;
      Object.assign(feeds, dropoutMasks(built.dropoutSites, { n: st.dims[0], s: st.dims[1], hidden: c.hiddenSize, heads: c.numAttentionHeads }, this.opts.dropoutSeed, step, micro));
    }
    this.paramFeeds(built.inputs, feeds);
    const into: Record<string, TensorData> = {};
    for (const p of built.updated) {
      const a = this.acc.get(p.name)!;
      feeds[`${p.name}:acc`] = { dtype: 'float32', dims: p.param.shape, data: a };
      into[`${p.name}:acc:new`] = feeds[`${p.name}:acc`];
    }
    const res = await session.runInto(feeds, into, embGrad ? [] : ['loss']);
    return { loss: embGrad ? NaN : Number(res.loss.data[0]), tokens: st.tokens, padded: st.dims[0] * st.dims[1] };
  }

  /** One optimizer step from several micro-batches (gradient accumulation). */
  async run(micro: StepBatch[], lr: number, t: number): Promise<StepResult> {
    const cached = this.cached;
    let loss = 0;
    let tokens = 0;
    let padded = 0;
    if (cached) {
      for (const b of micro) {
        const r = await this.gradCache(b, cached.miniBatchSize, 1 / micro.length);
        loss += r.loss / micro.length;
        tokens += r.tokens;
        padded += r.padded;
      }
    } else {
      for (const [i, b] of micro.entries()) {
        const r = await this.accumulate(b.columns.flat(), b.columns.length, b.labels, 1 / micro.length, null, t, i);
        loss += r.loss / micro.length;
        tokens += r.tokens;
        padded += r.padded;
      }
    }
    const upd = await this.applyUpdate(lr, t, loss);
    return { loss, gradNorm: upd.gradNorm, finite: upd.finite && Number.isFinite(loss), tokens, paddedTokens: padded };
  }

  private async gradCache(b: StepBatch, mini: number, scale: number): Promise<{ loss: number; tokens: number; padded: number }> {
    const dim = this.model.dimension;
    const B = b.columns[0].length;
    this.embed ??= (async () => {
      const e = buildEmbedGraph(this.model, this.params);
      return { inputs: e.inputs, session: await Session.create(e.bytes, { ...stepSessionOptions(this.opts), cache: false }) };
    })();
    const { inputs, session } = await this.embed;
    // 1. embeddings of every column, mini-batch by mini-batch, without gradients
    const embs: Float32Array[] = [];
    let tokens = 0;
    let padded = 0;
    for (const col of b.columns) {
      const out = new Float32Array(B * dim);
      for (let s = 0; s < B; s += mini) {
        const st = stackRows(col.slice(s, s + mini), this.model.tokenizer.padTokenId);
        const feeds: Record<string, TensorData> = { input_ids: { dtype: 'int64', dims: st.dims, data: st.ids }, attention_mask: { dtype: 'int64', dims: st.dims, data: st.mask } };
        this.paramFeeds(inputs, feeds);
        out.set((await session.run(feeds, ['embeddings'])).embeddings.data as Float32Array, s * dim);
        tokens += st.tokens;
        padded += st.dims[0] * st.dims[1];
      }
      embs.push(out);
    }
    // 2. the loss and its gradient with respect to the embeddings
    const key = `${b.columns.length}`;
    let lg = this.lossGrad.get(key);
    if (!lg) {
      lg = Session.create(buildLossGradGraph(this.loss, b.columns.length, dim), { ...stepSessionOptions(this.opts), cache: false });
      this.lossGrad.set(key, lg);
    }
    const feeds: Record<string, TensorData> = {};
    embs.forEach((e, c) => (feeds[`emb_${c}`] = { dtype: 'float32', dims: [B, dim], data: e }));
    if (b.labels) feeds.labels = b.labels;
    const res = await (await lg).run(feeds);
    const loss = Number(res.loss.data[0]);
    // 3. each mini-batch again, back-propagating its slice of ∂L/∂embeddings
    for (let c = 0; c < b.columns.length; c++) {
      const dE = res[`emb_grad_${c}`].data as Float32Array;
      for (let s = 0; s < B; s += mini) {
        const rows = b.columns[c].slice(s, s + mini);
        await this.accumulate(rows, 1, null, scale, dE.slice(s * dim, (s + rows.length) * dim));
      }
    }
    return { loss, tokens, padded };
  }

  private async applyUpdate(lr: number, t: number, loss: number): Promise<{ gradNorm: number; finite: boolean }> {
    const updated = this.updated ?? [];
    this.apply ??= Session.create(buildApplyGraph(updated, { maxGradNorm: this.opts.maxGradNorm, betas: this.opts.betas, eps: this.opts.eps }), { ...stepSessionOptions(this.opts), cache: false });
    const s = await this.apply;
    const [b1, b2] = this.opts.betas;
    const scalar = (x: number): TensorData => ({ dtype: 'float32', dims: [], data: Float32Array.of(x) });
    const feeds: Record<string, TensorData> = {
      decay_mult: scalar(1 - lr * this.opts.weightDecay),
      step_size: scalar(Number.isFinite(loss) ? lr / (1 - b1 ** t) : 0),
      bias_correction2_sqrt: scalar(Math.sqrt(1 - b2 ** t)),
    };
    const into: Record<string, TensorData> = {};
    for (const p of updated) {
      const mv = this.moments.get(p.name)!;
      feeds[p.name] = { dtype: 'float32', dims: p.param.shape, data: p.param.data };
      feeds[`${p.name}:acc`] = { dtype: 'float32', dims: p.param.shape, data: this.acc.get(p.name)! };
      feeds[`${p.name}:m`] = { dtype: 'float32', dims: p.param.shape, data: mv.m };
      feeds[`${p.name}:v`] = { dtype: 'float32', dims: p.param.shape, data: mv.v };
      into[`${p.name}:new`] = feeds[p.name];
      into[`${p.name}:m:new`] = feeds[`${p.name}:m`];
      into[`${p.name}:v:new`] = feeds[`${p.name}:v`];
    }
    if (!Number.isFinite(loss)) {
      // a non-finite loss with finite gradients must not update either
      for (const a of this.acc.values()) a.fill(Number.NaN, 0, 1);
    }
    const res = await s.runInto(feeds, into, ['grad_norm', 'finite']);
    for (const a of this.acc.values()) a.fill(0);
    return { gradNorm: Number(res.grad_norm.data[0]), finite: Number(res.finite.data[0]) === 1 };
  }

  async close(): Promise<void> {
    for (const p of this.grads.values()) await (await p).session.release();
    for (const p of this.lossGrad.values()) await (await p).release();
    if (this.apply) await (await this.apply).release();
    if (this.embed) await (await this.embed).session.release();
    this.grads.clear();
    this.lossGrad.clear();
    this.apply = null;
    this.embed = null;
  }
}
