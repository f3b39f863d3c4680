// GradCache (Gao et al. 2021, arXiv:2101.06983), the step a loss declares with
// `step: { kind: 'gradcache', miniBatchSize }` (CachedMultipleNegativesRankingLoss): per batch,
//   1. embed every column mini-batch by mini-batch without gradients;
//   2. compute the loss L and ∂L/∂embeddings once on the whole batch;
//   3. re-run each mini-batch forward and back-propagate its slice of ∂L/∂embeddings into the
//      accumulators (objective Σ emb ⊙ ∂L/∂emb);
// then one clipped AdamW update. Several micro-batches (gradient accumulation) each weigh 1/k.
// The second forward pass must see the first's dropout masks, which are not replayed: dropout off.

import type { TensorData } from '../../graph/ir.js';
import { SessionCache } from '../optimizer.js';
import { stackRows } from '../stack.js';
import { buildEmbedGraph, buildLossGradGraph } from '../train_graph.js';
import type { TrainableParam } from '../param_source.js';
import { Accumulator } from './accumulator.js';
import { paramFeeds, type StepBatch, type StepContext, type StepResult, type StepStrategy } from './step.js';

export class GradCacheStep implements StepStrategy {
  private readonly acc: Accumulator;
  private readonly embed: SessionCache<{ bytes: Uint8Array; inputs: TrainableParam[] }>;
  private readonly lossGrad: SessionCache<{ bytes: Uint8Array }>;

  constructor(private readonly c: StepContext, private readonly miniBatchSize: number) {
    this.acc = new Accumulator(c);
    this.embed = new SessionCache(c.optimizer.opts.threads);
    this.lossGrad = new SessionCache(c.optimizer.opts.threads);
  }

  async run(micro: StepBatch[], lr: number, t: number): Promise<StepResult> {
    let loss = 0;
    let tokens = 0;
    let padded = 0;
    for (const b of micro) {
      const r = await this.cached(b, 1 / micro.length);
      loss += r.loss / micro.length;
      tokens += r.tokens;
      padded += r.padded;
    }
    const upd = await this.acc.apply(lr, t, loss);
    return { loss, gradNorm: upd.gradNorm, finite: upd.finite && Number.isFinite(loss), tokens, paddedTokens: padded };
  }

  private async cached(b: StepBatch, scale: number): Promise<{ loss: number; tokens: number; padded: number }> {
    const { model } = this.c;
    const dim = model.dimension;
    const mini = this.miniBatchSize;
    const B = b.columns[0].length;
    const { built: e, session } = await this.embed.get('embed', () => buildEmbedGraph(model, this.c.params));
    // 1. embeddings of every column, mini-batch by mini-batch, without gradients
    const embs: Float32Array[] = [];
    let tokens = 0;
    let padded = 0;
    for (const col of b.columns) {
      const out = new Float32Array(B * dim);
      for (let s = 0; s < B; s += mini) {
        const st = stackRows(col.slice(s, s + mini), model.tokenizer.padTokenId);
        const feeds: Record<string, TensorData> = { input_ids: { dtype: 'int64', dims: st.dims, data: st.ids }, attention_mask: { dtype: 'int64', dims: st.dims, data: st.mask } };
        paramFeeds(e.inputs, feeds);
        out.set((await session.run(feeds, ['embeddings'])).embeddings.data as Float32Array, s * dim);
        tokens += st.tokens;
        padded += st.dims[0] * st.dims[1];
      }
      embs.push(out);
    }
    // 2. the loss and its gradient with respect to the embeddings
    const lg = await this.lossGrad.get(`${b.columns.length}`, () => ({ bytes: buildLossGradGraph(this.c.loss, b.columns.length, dim) }));
    const feeds: Record<string, TensorData> = {};
    embs.forEach((x, c) => (feeds[`emb_${c}`] = { dtype: 'float32', dims: [B, dim], data: x }));
    if (b.labels) feeds.labels = b.labels;
    const res = await lg.session.run(feeds);
    const loss = Number(res.loss.data[0]);
    // 3. each mini-batch again, back-propagating its slice of ∂L/∂embeddings
    for (let c = 0; c < b.columns.length; c++) {
      const dE = res[`emb_grad_${c}`].data as Float32Array;
      for (let s = 0; s < B; s += mini) {
        const rows = b.columns[c].slice(s, s + mini);
        await this.acc.add(rows, 1, null, scale, dE.slice(s * dim, (s + rows.length) * dim));
      }
    }
    return { loss, tokens, padded };
  }

  async close(): Promise<void> {
    await this.acc.close();
    await this.embed.close();
    await this.lossGrad.close();
  }
}
