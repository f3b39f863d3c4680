// The plain step: forward, loss, gradients, clipping and AdamW in ONE graph per number of text
// columns, run once per batch; with sparse embeddings only the word-embedding rows the batch
// uses (and their moments) are fed and written back (lazy AdamW on the table).

import type { TensorData } from '../../graph/ir.js';
import { dropoutMasks } from '../dropout_masks.js';
import { SessionCache, stepSessionOptions } from '../optimizer.js';
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
      columns, labelDim, ...optimizer.graphOptions, dropoutSeed: o.dropoutSeed, freezeWordEmbeddings: o.freezeWordEmbeddings, sparseEmbeddings: o.sparseEmbeddings,
    }));
    const B = batch.columns[0].length;
    for (const col of batch.columns) if (col.length !== B) throw new Error(`every column of a batch needs ${B} texts, one has ${col.length}`);
    const t0 = performance.now();
    const st = stackRows(batch.columns.flat(), model.tokenizer.padTokenId);
    const [N, S] = st.dims;
    const feeds: Record<string, TensorData> = {
      input_ids: { dtype: 'int64', dims: [N, S], data: st.ids },
      attention_mask: { dtype: 'int64', dims: [N, S], data: st.mask },
      ...optimizer.scalars(lr, t),
    };
    if (batch.labels) feeds.labels = batch.labels;
    const t1 = performance.now();
    if (built.dropoutSites.length && o.dropoutSeed !== null) Object.assign(feeds, dropoutMasks(built.dropoutSites, { n: N, s: S, tokens: st.tokens, lengths: st.lengths }, o.dropoutSeed, t));
    const t2 = performance.now();
    paramFeeds(built.inputs, feeds);
    const into: Record<string, TensorData> = {};
    const table = tokenTableName(model);
    const sparse = o.sparseEmbeddings ? built.updated.find((p) => p.name === table) : undefined;
    let rows: Rows | null = null;
    for (const p of built.updated) {
      if (p === sparse) {
        rows = gatherRows(st.ids, p.param.data, optimizer.moments.get(p.name)!, p.param.shape[1]);
        feeds.input_ids = { dtype: 'int64', dims: [N, S], data: rows.local };
        optimizer.bind(p, feeds, into, { dims: [rows.ids.length, p.param.shape[1]], data: rows.p, m: rows.m, v: rows.v });
      } else {
        optimizer.bind(p, feeds, into);
      }
    }
    const t3 = performance.now();
    const res = await session.runInto(feeds, into, ['loss', 'grad_norm', 'finite']);
    const t4 = performance.now();
    if (sparse && rows) scatterRows(rows, sparse.param.data, optimizer.moments.get(sparse.name)!, sparse.param.shape[1]);
    this.lastTimings = { stack: t1 - t0, masks: t2 - t1, feeds: t3 - t2, run: t4 - t3, scatter: performance.now() - t4 };
    return {
      loss: Number(res.loss.data[0]),
      gradNorm: Number(res.grad_norm.data[0]),
      finite: Number(res.finite.data[0]) === 1,
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
