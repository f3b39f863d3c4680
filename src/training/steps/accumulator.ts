// Gradient accumulators and the update that consumes them, shared by the accumulated and
// GradCache steps: `add` runs a forward/backward graph that adds scale·∂objective/∂p into
// each parameter's accumulator (bound in place; the objective is the loss, or Σ emb ⊙ emb_grad
// for a given embedding gradient); `apply` runs clipping and AdamW on the accumulators
// (optimizer.ts; the norm in float64 here), then zeroes them.

import type { TensorData } from '../../graph/ir.js';
import { dropoutMasks } from '../dropout_masks.js';
import { globalNorm, SessionCache, stepSessionOptions } from '../optimizer.js';
import type { TrainableParam } from '../param_source.js';
import { stackRows } from '../stack.js';
import { buildGradGraph, type BuiltGradGraph } from '../train_graph.js';
import { labelDimOf, paramFeeds, type StepContext } from './step.js';

export class Accumulator {
  private readonly acc = new Map<string, Float32Array>();
  private readonly grads: SessionCache<BuiltGradGraph>;
  private updated: TrainableParam[] | null = null;

  constructor(private readonly c: StepContext) {
    // the optimizer's gradient buffers (in its arena, where the update reads them)
    for (const p of c.params) if (p.trainable) this.acc.set(p.name, c.optimizer.gradBuffer(p));
    this.grads = new SessionCache(stepSessionOptions(c.optimizer.opts));
  }

  /** Adds scale·∂objective/∂p into the accumulators for one forward pass over `rows`; returns the loss (NaN when seeded by `embGrad`). */
  async add(rows: number[][], columns: number, labels: TensorData | null, scale: number, embGrad: Float32Array | null, step = 0, micro = 0): Promise<{ loss: number; tokens: number; padded: number }> {
    const { model, optimizer } = this.c;
    const o = optimizer.opts;
    const labelDim = labelDimOf(labels);
    const seeded = embGrad !== null;
    const { built, session } = await this.grads.get(`${columns}|${labelDim ?? ''}|${seeded}`, () => buildGradGraph(model, seeded ? null : this.c.loss, this.c.params, {
      columns, labelDim, seeded, dropoutSeed: seeded ? null : o.dropoutSeed, freezeWordEmbeddings: o.freezeWordEmbeddings,
    }));
    this.updated ??= built.updated;
    const st = stackRows(rows, model.tokenizer.padTokenId);
    const feeds: Record<string, TensorData> = {
      input_ids: { dtype: 'int64', dims: st.dims, data: st.ids },
      attention_mask: { dtype: 'int64', dims: st.dims, data: st.mask },
      loss_scale: { dtype: 'float32', dims: [], data: Float32Array.of(scale) },
    };
    if (labels) feeds.labels = labels;
    if (embGrad) feeds.emb_grad = { dtype: 'float32', dims: [rows.length, model.dimension], data: embGrad };
    if (built.dropoutSites.length && o.dropoutSeed !== null) Object.assign(feeds, dropoutMasks(built.dropoutSites, { n: st.dims[0], s: st.dims[1], tokens: st.tokens, lengths: st.lengths }, o.dropoutSeed, step, micro));
    paramFeeds(built.inputs, feeds);
    const into: Record<string, TensorData> = {};
    for (const p of built.updated) {
      feeds[`${p.name}:acc`] = { dtype: 'float32', dims: p.param.shape, data: this.acc.get(p.name)! };
      into[`${p.name}:acc:new`] = feeds[`${p.name}:acc`];
    }
    const res = await session.runInto(feeds, into, embGrad ? [] : ['loss']);
    return { loss: embGrad ? NaN : Number(res.loss.data[0]), tokens: st.tokens, padded: st.dims[0] * st.dims[1] };
  }

  /** Clipping and AdamW on the accumulated gradients; a non-finite `loss` or norm applies nothing. */
  async apply(lr: number, t: number, loss: number): Promise<{ gradNorm: number; finite: boolean }> {
    const updated = this.updated ?? [];
    const gradNorm = globalNorm(updated.map((p) => this.acc.get(p.name)!));
    const finite = Number.isFinite(gradNorm) && Number.isFinite(loss);
    this.c.optimizer.update(updated, (p) => this.acc.get(p.name)!, gradNorm, finite, lr, t);
    for (const a of this.acc.values()) a.fill(0);
    return { gradNorm, finite };
  }

  async endProfiling(): Promise<void> {
    await this.grads.endProfiling();
  }

  async close(): Promise<void> {
    await this.grads.close();
  }
}
