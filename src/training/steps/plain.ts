// The plain step: forward, loss and gradients in ONE graph per number of text columns, run once
// per batch, then clipping and AdamW on the gradients (optimizer.ts). The token table is fed as
// the rows the batch uses, so its gradient leaves the graph as those rows (a few hundred, not the
// vocabulary): with sparse embeddings only they (and their moments) are updated (lazy AdamW on
// the table); otherwise they are scattered into the table's zeroed gradient buffer and the whole
// table is updated, exactly as with a dense gradient.

import type { TensorData } from '../../graph/ir.js';
import { dropoutMasks } from '../dropout_masks.js';
import { SessionCache, stepSessionOptions, type UpdateRows } from '../optimizer.js';
import { stackRows } from '../stack.js';
import { buildTrainGraph, tokenTableName, type BuiltTrainGraph } from '../train_graph.js';
import { labelDimOf, NO_TIMINGS, paramFeeds, type StepBatch, type StepContext, type StepResult, type StepStrategy, type StepTimings } from './step.js';

export class PlainStep implements StepStrategy {
  private readonly graphs: SessionCache<BuiltTrainGraph>;
  lastTimings: StepTimings = NO_TIMINGS;

  constructor(private readonly c: StepContext) {
    this.graphs = new SessionCache(stepSessionOptions(c.optimizer.opts));
  }

  async run(micro: StepBatch[], lr: number, t: number): Promise<StepResult> {
    if (micro.length !== 1) throw new Error(`the plain step takes one batch, got ${micro.length} (use gradient accumulation)`);
    const batch = micro[0];
    const { model, optimizer } = this.c;
    const o = optimizer.opts;
    const columns = batch.columns.length;
    const labelDim = labelDimOf(batch.labels);
    const { built, session } = await this.graphs.get(`${columns}|${labelDim ?? ''}`, () => buildTrainGraph(model, this.c.loss, this.c.params, {
      columns, labelDim, dropoutSeed: o.dropoutSeed, freezeWordEmbeddings: o.freezeWordEmbeddings, tableRows: true,
    }));
    const B = batch.columns[0].length;
    for (const col of batch.columns) if (col.length !== B) throw new Error(`every column of a batch needs ${B} texts, one has ${col.length}`);
    const t0 = performance.now();
    const st = stackRows(batch.columns.flat(), model.tokenizer.padTokenId);
    const [N, S] = st.dims;
    const feeds: Record<string, TensorData> = {
      input_ids: { dtype: 'int64', dims: [N, S], data: st.ids },
      attention_mask: { dtype: 'int64', dims: [N, S], data: st.mask },
    };
    if (batch.labels) feeds.labels = batch.labels;
    const t1 = performance.now();
    if (built.dropoutSites.length && o.dropoutSeed !== null) Object.assign(feeds, dropoutMasks(built.dropoutSites, { n: N, s: S, tokens: st.tokens, lengths: st.lengths }, o.dropoutSeed, t));
    const t2 = performance.now();
    paramFeeds(built.inputs, feeds);
    const into: Record<string, TensorData> = {};
    const table = tokenTableName(model);
    // the token table is fed as the rows the batch uses (tableRows), and its gradient comes back as those rows
    const tableParam = built.updated.find((p) => p.name === table);
    const grads = new Map<string, Float32Array>();
    const rows = new Map<string, UpdateRows>();
    let scatter: (() => void) | null = null;
    for (const p of built.updated) {
      if (p !== tableParam) {
        grads.set(p.name, optimizer.bindGrad(p, into));
        continue;
      }
      const width = p.param.shape[1];
      const r = tableRows(st.ids, p.param.data, width);
      feeds.input_ids = { dtype: 'int64', dims: [N, S], data: r.local };
      feeds[p.name] = { dtype: 'float32', dims: [r.ids.length, width], data: r.p };
      if (o.sparseEmbeddings) {
        rows.set(p.name, { ids: r.ids, width });
        grads.set(p.name, optimizer.bindGrad(p, into, [r.ids.length, width]));
      } else {
        const rowsGrad = optimizer.bindRowsGrad(p, into, r.ids.length, width);
        scatter = () => grads.set(p.name, optimizer.scatterRows(p, rowsGrad, r.ids, width));
      }
    }
    const t3 = performance.now();
    const res = await session.runInto(feeds, into, ['loss', 'grad_norm', 'finite']);
    const t4 = performance.now();
    const gradNorm = Number(res.grad_norm.data[0]);
    const finite = Number(res.finite.data[0]) === 1;
    if (finite) scatter?.();
    optimizer.update(built.updated, (p) => grads.get(p.name)!, gradNorm, finite, lr, t, rows);
    this.lastTimings = { stack: t1 - t0, masks: t2 - t1, feeds: t3 - t2, run: t4 - t3, update: performance.now() - t4 };
    return {
      loss: Number(res.loss.data[0]),
      gradNorm,
      finite,
      tokens: st.tokens,
      paddedTokens: N * S,
    };
  }

  endProfiling(): Promise<void> {
    return this.graphs.endProfiling();
  }

  close(): Promise<void> {
    return this.graphs.close();
  }
}

interface Rows {
  /** The distinct token ids of the batch, ascending. */
  ids: Int32Array;
  /** input_ids rewritten as positions in `ids`. */
  local: BigInt64Array;
  /** The table rows of `ids`. */
  p: Float32Array;
}

/** Copies out the table rows that a batch's ids use. */
function tableRows(inputIds: BigInt64Array, table: Float32Array, width: number): Rows {
  const ids = new Int32Array(inputIds.length);
  for (let i = 0; i < ids.length; i++) ids[i] = Number(inputIds[i]);
  const uniq = Int32Array.from(new Set(ids)).sort();
  const pos = new Map<number, number>();
  uniq.forEach((id, i) => pos.set(id, i));
  const local = new BigInt64Array(ids.length);
  for (let i = 0; i < ids.length; i++) local[i] = BigInt(pos.get(ids[i])!);
  const p = new Float32Array(uniq.length * width);
  uniq.forEach((id, i) => p.set(table.subarray(id * width, (id + 1) * width), i * width));
  return { ids: uniq, local, p };
}
